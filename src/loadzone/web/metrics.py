"""Prometheus metrics at /metrics (LOADZONE_METRICS=on, behind LOADZONE_METRICS_TOKEN if set).

Two kinds of figures. What a process sees (request latency by route, open sockets, facts
counted after their commit) lives in prometheus_client instruments; with several worker
processes, PROMETHEUS_MULTIPROC_DIR makes them write to shared files that a scrape of any
worker adds up. What the database knows (bookings, the queue, deliveries, hook runs) is
read at scrape time (reporting/gauges.py), so it is right whichever process answers.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import threading
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from loadzone.core import events, facts
from loadzone.core.timeutil import utcnow
from loadzone.reporting import gauges
from loadzone.web.api.errors import error_response
from loadzone.web.requestids import route

log = logging.getLogger(__name__)
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_LOCK = threading.Lock()
_instruments: Instruments | None = None


def multiprocess_dir() -> str | None:
    """The shared folder of multi-process mode, when the environment names one."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Instruments:
    """This process's instruments: built once, on first use, never at import."""

    def __init__(self):
        self.registry = CollectorRegistry()
        if not multiprocess_dir():
            ProcessCollector(registry=self.registry)  # CPU and memory; per process only
        self.requests = Histogram(
            "loadzone_http_request_duration_seconds",
            "Time to answer an HTTP request, by route (the URL rule), method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.sockets = Gauge(
            "loadzone_sockets_connected",
            "Socket.IO connections open now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.started = Counter(
            "loadzone_bookings_started",
            "Bookings that became active, by how.",
            ["how"],
            registry=self.registry,
        )
        self.ended = Counter(
            "loadzone_bookings_ended",
            "Bookings that ended, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.queue = Counter(
            "loadzone_queue_changes",
            "Queue requests that joined, were granted, expired or left.",
            ["what"],
            registry=self.registry,
        )


def instruments() -> Instruments:
    global _instruments
    with _LOCK:
        if _instruments is None:
            _instruments = Instruments()
        return _instruments


def sockets_changed(delta: int) -> None:
    """A socket opened (+1) or closed (-1) in this process."""
    instruments().sockets.inc(delta)


def _count_fact(fact) -> None:
    found = instruments()
    if isinstance(fact, facts.BookingStarted):
        found.started.labels(fact.how).inc()
    elif isinstance(fact, facts.BookingEnded):
        found.ended.labels(fact.reason).inc()
    elif isinstance(fact, facts.QueueChanged):
        found.queue.labels(fact.what).inc()


def _observe(response):
    if "started" in g:
        method = request.method if request.method in METHODS else "other"
        instruments().requests.labels(route(), method, str(response.status_code)).observe(
            time.perf_counter() - g.started
        )
    return response


class _Collected:
    """Hands a ready list of metric families (or another registry's) to a registry."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        return self.source() if callable(self.source) else iter(self.source)


def _database_families() -> list:
    up = GaugeMetricFamily("loadzone_database_up", "1 when the figures below could be read.")
    try:
        figures = gauges.read(utcnow())
    except Exception:  # the database is away: say so instead of failing the scrape
        log.warning("metrics: could not read the database figures", exc_info=True)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    bookings = GaugeMetricFamily(
        "loadzone_bookings", "Bookings by state (active, reserved).", labels=["state"]
    )
    for state, count in figures.bookings.items():
        bookings.add_metric([state], count)
    deliveries = GaugeMetricFamily(
        "loadzone_deliveries", "E-mails and webhook posts pending or failed.", labels=["state"]
    )
    for state, count in figures.deliveries.items():
        deliveries.add_metric([state], count)
    runs = GaugeMetricFamily(
        "loadzone_hook_runs", "Hook runs by kind and state.", labels=["kind", "state"]
    )
    for (kind, state), count in sorted(figures.hook_runs.items()):
        runs.add_metric([kind, state], count)
    return [
        up,
        bookings,
        GaugeMetricFamily("loadzone_queue_waiting", "Requests waiting.", value=figures.waiting),
        GaugeMetricFamily(
            "loadzone_queue_oldest_wait_seconds",
            "How long the oldest waiting request has waited (0: nobody waits).",
            value=figures.oldest_wait_s,
        ),
        deliveries,
        runs,
    ]


def exposition() -> bytes:
    """The text format of every figure: this process's (or all processes') and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Collected(instruments().registry.collect))
    registry.register(_Collected(_database_families()))
    return generate_latest(registry)


def _authorized(token: str | None) -> bool:
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def clear_multiprocess_dir() -> None:
    """Forget the files of an earlier run (call in the server's master, before forking)."""
    folder = multiprocess_dir()
    if folder:
        os.makedirs(folder, exist_ok=True)
        for path in glob.glob(os.path.join(folder, "*.db")):
            os.remove(path)


def worker_exited(pid: int) -> None:
    """Drop a dead worker's live gauges (its sockets are gone); counters keep their sums."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


def init_app(app: Flask, settings) -> None:
    if settings.metrics != "on":
        return
    events.subscribe_facts(app, _count_fact)
    if not settings.metrics_token:
        log.warning("/metrics answers anyone who reaches it; set LOADZONE_METRICS_TOKEN")
    app.after_request(_observe)

    @app.get("/metrics")
    @app.doc(hide=True)
    def metrics():
        token = current_app.extensions["loadzone.settings"].metrics_token
        if not _authorized(token):
            return error_response(
                401,
                "Send the metrics token as 'Authorization: Bearer <token>'.",
                "not_signed_in",
                {"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
