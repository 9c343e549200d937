"""/metrics and request ids inside one app: settings, database figures, the fallback when the
database cannot answer, and which X-Request-ID values are taken."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text, update

from loadzone.core import logs, storage, trace
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.models import Delivery, HistoryEntry
from loadzone.notifications import outbox
from loadzone.web.requestids import accepted
from tests.conftest import ROOT, sign_in
from tests.ops.scrape import samples, value


@pytest.fixture
def metered(app_factory):
    return app_factory(admins=("admin@example.com",), metrics="on")


def test_metrics_are_off_unless_asked(app):
    assert app.test_client().get("/metrics").status_code == 404


def test_deliveries_pending_and_failed_are_read_from_the_outbox(metered):
    client = metered.test_client()
    with metered.app_context():
        with storage.transaction():
            for n in range(3):
                outbox.add("webhook", f"http://127.0.0.1:9/{n}", {"n": n}, utcnow(), 1)
        pending = samples(client.get("/metrics").text)
        with storage.transaction():
            first = db.session.scalar(db.select(Delivery.id).order_by(Delivery.id).limit(1))
            db.session.execute(update(Delivery).where(Delivery.id == first).values(state="failed"))
        after = samples(client.get("/metrics").text)

    assert value(pending, "loadzone_deliveries", state="pending") == 3
    assert value(pending, "loadzone_deliveries", state="failed") == 0
    assert value(after, "loadzone_deliveries", state="pending") == 2
    assert value(after, "loadzone_deliveries", state="failed") == 1


def test_a_database_that_cannot_answer_is_a_figure_not_a_failed_scrape(metered):
    client = metered.test_client()
    with metered.app_context():
        with storage.transaction():
            db.session.execute(text("ALTER TABLE deliveries RENAME TO deliveries_away"))
        try:
            response = client.get("/metrics")
        finally:
            with storage.transaction():
                db.session.execute(text("ALTER TABLE deliveries_away RENAME TO deliveries"))

    assert response.status_code == 200
    assert value(response.text, "loadzone_database_up") == 0
    assert value(client.get("/metrics").text, "loadzone_database_up") == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("0f8fe2a4-31d6-4e4b-9a53-6c1d1e0a9b77", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("two words", False),
        ("-leading-dash", False),
        ("line\nbreak", False),
        ("", False),
        (None, False),
    ],
)
def test_which_request_ids_are_taken(given, kept):
    got = accepted(given)
    assert (got == given) is kept
    if not kept:
        assert len(got) == 32 and int(got, 16) >= 0


def test_every_answer_echoes_an_id_and_the_audit_record_keeps_it(app, make_vm):
    alice = sign_in(app, "alice@example.com")
    vm = make_vm()
    missing = alice.get("/api/vms/no-such-vm", headers={"X-Request-ID": "lost-1"})
    page = alice.get("/no/such/page")
    booked = alice.post(
        f"/api/vms/{vm['id']}/book", json={"hours": 1}, headers={"X-Request-ID": "job-9"}
    )

    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "lost-1"
    assert len(page.headers["X-Request-ID"]) == 32
    assert booked.status_code == 200 and booked.headers["X-Request-ID"] == "job-9"
    with app.app_context():
        rows = db.session.execute(db.select(HistoryEntry.action, HistoryEntry.request_id)).all()
    assert [tuple(row) for row in rows] == [("book", "job-9")]
    assert trace.request_id() is None  # unbound once the request ended


def test_json_lines_carry_the_request_id_extras_and_the_traceback():
    record = logging.LogRecord("loadzone.x", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
    record.route = "/api/vms/<vm_id>"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    trace.bind("abc-1")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        trace.bind(None)

    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "failed x" and line["level"] == "ERROR"
    assert line["request_id"] == "abc-1" and line["route"] == "/api/vms/<vm_id>"
    assert "ValueError: boom" in line["exc"]
    assert logs.TextFormatter().format(record).splitlines()[0].endswith("failed x [abc-1]")


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(metered):
    dashboard = json.loads((ROOT / "deploy/grafana/loadzone.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    asked = {name for expr in exprs for name in re.findall(r"loadzone_[a-z_]+", expr)}
    families = text_string_to_metric_families(metered.test_client().get("/metrics").text)
    exposed = {f.name + suffix for f in families for suffix in SUFFIXES.get(f.type, ("",))}

    assert len(exprs) >= 10
    assert asked <= exposed, asked - exposed
