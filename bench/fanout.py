"""Figure 4: one booking fanned out to 1,000 Socket.IO clients (request sent -> vm_updated
received at each client), and the lag from a booking's expires_at to its vm_updated."""

from __future__ import annotations

import asyncio
import importlib.util
import multiprocessing
import queue
import threading
import time
from datetime import UTC, datetime

import socketio

from . import versus
from .context import Context
from .measure import latencies_ms, percentile
from .report import Figure
from .server import Server, api_session

P99_S = 0.25
EXPIRY_P99_S = 1.0
ADMIN = "admin@example.com"


def _listen(url: str, token: str, count: int, prefix: str, ready, counter, results, stop) -> None:
    """A client process: `count` websocket clients recording when vm_updated for a booked
    `prefix*` VM arrives, until told to stop. One asyncio loop serves them all, so the
    measuring side spends little CPU on the two cores it shares with the server."""
    asyncio.run(_listen_async(url, token, count, prefix, ready, counter, results, stop))


async def _listen_async(url, token, count, prefix, ready, counter, results, stop) -> None:
    received: list[tuple[str, float]] = []

    async def connect() -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)

        async def on_vm(data):
            if data.get("id", "").startswith(prefix) and data.get("booked_by"):
                received.append((data["id"], time.time()))
                with counter.get_lock():
                    counter.value += 1

        client.on("vm_updated", on_vm)
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        return client

    clients, failures = [], 0
    gate = asyncio.Semaphore(16)

    async def guarded():
        async with gate:
            return await connect()

    for outcome in await asyncio.gather(*(guarded() for _ in range(count)), return_exceptions=True):
        if isinstance(outcome, BaseException):
            failures += 1  # counted and reported: a refused socket is a finding
        else:
            clients.append(outcome)
    ready.put((len(clients), failures))
    await asyncio.get_running_loop().run_in_executor(None, stop.wait, 600)
    results.put(received)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


class Crowd:
    """Processes of socket clients (4 x 250 by default), started and always stopped."""

    def __init__(self, url: str, token: str, total: int, processes: int, prefix: str):
        mp = multiprocessing.get_context("spawn")
        self.counter = mp.Value("i", 0)
        self.ready, self.results, self.stop = mp.Queue(), mp.Queue(), mp.Event()
        per = total // processes
        self.procs = [
            mp.Process(
                target=_listen,
                args=(url, token, per, prefix, self.ready, self.counter, self.results, self.stop),
                daemon=True,
            )
            for _ in range(processes)
        ]

    def __enter__(self) -> Crowd:
        for proc in self.procs:
            proc.start()
        answers = [self.ready.get(timeout=300) for _ in self.procs]
        self.connected = sum(a[0] for a in answers)
        self.failed = sum(a[1] for a in answers)
        return self

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.counter.value < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def received(self) -> list[tuple[str, float]]:
        self.stop.set()
        out = []
        for _ in self.procs:
            try:
                out += self.results.get(timeout=120)
            except queue.Empty:
                break
        return out

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)


def fan_out(ctx: Context, server: Server, admin, watcher_token: str, worker: str) -> None:
    total = ctx.size(1_000, 200)
    rounds = 5
    for index in range(rounds):
        admin.post(f"{server.url}/api/vms", json={"id": f"fan-{index}"}).raise_for_status()
    ctx.log(f"connecting {total} Socket.IO clients")
    began = time.monotonic()
    with Crowd(server.url, watcher_token, total, ctx.size(4, 2), "fan-") as crowd:
        took = time.monotonic() - began
        ctx.log(f"{crowd.connected} connected ({crowd.failed} failed) in {took:.0f}s")
        reference = latencies_ms(admin, server.url + "/healthz", 100)
        sent, answered = {}, {}
        for index in range(rounds):
            vm_id = f"fan-{index}"
            expected = crowd.counter.value + crowd.connected
            sent[vm_id] = time.time()
            admin.post(f"{server.url}/api/vms/{vm_id}/book", json={"hours": 2}).raise_for_status()
            answered[vm_id] = time.time()
            crowd.wait_for(expected, 15)
            time.sleep(0.3)
        received = crowd.received()
        connected, failed = crowd.connected, crowd.failed
    lags = [recv - sent[vm_id] for vm_id, recv in received]
    last = {}
    for vm_id, recv in received:
        last[vm_id] = max(last.get(vm_id, 0.0), recv)
    _answer_first(ctx, worker, sent, answered, last)
    missing = connected * rounds - len(lags)
    p50, p99, worst = percentile(lags, 50), percentile(lags, 99), max(lags, default=float("nan"))
    ref99 = percentile(reference, 99) / 1000
    ctx.add(
        Figure(
            name=f"vm_updated to {connected:,} sockets, p99, {worker}",
            value=p99,
            unit="s",
            reference=ref99,
            ref_label="GET /healthz p99, sockets connected",
            target=f"p99 < {P99_S:g} s",
            met=p99 < P99_S and missing == 0 and failed == 0,
            note=f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms "
            f"over {rounds} bookings x {connected} clients ({len(lags):,} events, "
            f"{missing} missing, {failed} connections refused)",
        )
    )


class Watcher:
    """One socket client timing when each `prefix*` VM is freed."""

    def __init__(self, url: str, token: str, prefix: str):
        self.freed: dict[str, float] = {}
        self.client = socketio.Client(reconnection=False)
        self.client.on("vm_updated", self._on_vm)
        self.prefix = prefix
        self.lock = threading.Lock()
        self.client.connect(url, auth={"token": token}, transports=["websocket"])

    def _on_vm(self, data) -> None:
        if data.get("id", "").startswith(self.prefix) and not data.get("booked_by"):
            with self.lock:
                self.freed.setdefault(data["id"], time.time())

    def close(self) -> None:
        self.client.disconnect()


def expiry_lag(ctx: Context, server: Server, admin, owner) -> None:
    count, spread = ctx.size(200, 50), ctx.size(10.0, 4.0)
    vm_ids = [f"exp-{i:03d}" for i in range(count)]
    for vm_id in vm_ids:
        admin.post(f"{server.url}/api/vms", json={"id": vm_id}).raise_for_status()
        owner.post(f"{server.url}/api/vms/{vm_id}/book", json={"hours": 2}).raise_for_status()
    watcher = Watcher(server.url, owner.token, "exp-")
    try:
        reference = latencies_ms(admin, server.url + "/healthz", 100)
        # Far enough ahead that every PATCH lands before its expiry.
        start = time.time() + 2 + count * 0.03
        expires = {vm_id: start + spread * i / count for i, vm_id in enumerate(vm_ids)}
        late = 0
        for vm_id, moment in expires.items():
            iso = datetime.fromtimestamp(moment, UTC).isoformat()
            response = admin.patch(f"{server.url}/api/vms/{vm_id}", json={"expires_at": iso})
            response.raise_for_status()
            late += time.time() > moment
        deadline = start + spread + 15
        while len(watcher.freed) < count and time.time() < deadline:
            time.sleep(0.05)
        freed = dict(watcher.freed)
    finally:
        watcher.close()
    lags = [freed[v] - expires[v] for v in vm_ids if v in freed]
    p99 = percentile(lags, 99)
    ctx.add(
        Figure(
            name=f"expires_at -> vm_updated at a client, p99 over {count} bookings",
            value=p99,
            unit="s",
            reference=percentile(reference, 99) / 1000,
            ref_label="GET /healthz p99",
            target=f"p99 < {EXPIRY_P99_S:g} s",
            met=p99 < EXPIRY_P99_S and len(lags) == count,
            note=f"p50 {percentile(lags, 50) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms; "
            f"expiries spread over {spread:g} s; {count - len(lags)} never freed; "
            f"{late} PATCHes landed after their instant",
        )
    )


def _answer_first(ctx: Context, worker: str, sent: dict, answered: dict, last: dict) -> None:
    """The booking's answer against the moment its event reached the last socket."""
    answer = [answered[v] - sent[v] for v in sent]
    complete = [last.get(v, float("inf")) - sent[v] for v in sent]
    early = sum(a < c for a, c in zip(answer, complete, strict=True))
    ctx.add(
        Figure(
            name=f"booking answered, fan-out to every socket pending, {worker}",
            value=max(answer),
            unit="s",
            reference=min(complete),
            ref_label="fan-out complete, earliest round",
            target="answered first in every round",
            met=early == len(sent),
            note=f"answered before the last socket heard it in {early} of {len(sent)} rounds",
        )
    )


def run(ctx: Context) -> None:
    has_gevent = importlib.util.find_spec("gevent") is not None
    shapes = [("gthread worker", {"worker": "gthread"})]
    if has_gevent:
        shapes.append(("gevent worker", {"worker": "gevent"}))
    several, _why = versus.server_shape()
    if several.get("redis_url"):
        shapes.append((versus.shape_label(several), several))
    for index, (label, shape) in enumerate(shapes):
        name = f"fanout-{index}"
        url = ctx.fresh("sqlite", name)
        server = Server(url, ctx.folder(name), threads=2600, admins=ADMIN, **shape)
        server.start()
        try:
            admin = api_session(server.url, ADMIN)
            owner = api_session(server.url, "owner@example.com")
            watcher = api_session(server.url, "watcher@example.com")
            fan_out(ctx, server, admin, watcher.token, label)
            if label == "gthread worker":
                expiry_lag(ctx, server, admin, owner)
            for session in (admin, owner, watcher):
                session.close()
        finally:
            server.stop()
    if not has_gevent:
        ctx.log("gevent is not installed: the gevent worker was not measured")
