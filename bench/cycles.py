"""Figure 1: book -> release cycles with 16 concurrent clients, next to GET /healthz."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from .context import BACKEND_NAMES, Context
from .measure import run_clients
from .report import Figure
from .server import Server, api_session

CLIENTS = 16
MIN_RATE = 300
MIN_RATIO = 0.3


def _cycle(session: requests.Session, base: str, vm_id: str):
    def work() -> int:
        booked = session.post(f"{base}/api/vms/{vm_id}/book", json={"hours": 1}, timeout=30)
        if booked.status_code != 200:
            return 0
        released = session.post(f"{base}/api/vms/{vm_id}/release", timeout=30)
        return 2 if released.status_code == 200 else 1

    return work


def _healthz(session: requests.Session, base: str):
    def work() -> int:
        return 1 if session.get(f"{base}/healthz", timeout=30).status_code == 200 else 0

    return work


def measure(ctx: Context, backend: str) -> None:
    seconds = ctx.size(10, 3)
    url = ctx.fresh(backend, "cycles")
    with Server(url, ctx.folder(f"cycles-{backend}")) as server:
        base = server.url
        with ThreadPoolExecutor(CLIENTS) as pool:
            sessions = list(
                pool.map(lambda i: api_session(base, f"client-{i:02d}@example.com"), range(CLIENTS))
            )
        vm_ids = [f"cycle-{i:02d}" for i in range(CLIENTS)]
        for vm_id in vm_ids:
            sessions[0].post(f"{base}/api/vms", json={"id": vm_id}, timeout=30).raise_for_status()
        warm = [_cycle(s, base, v) for s, v in zip(sessions, vm_ids, strict=True)]
        run_clients(warm, 1)
        cpu = [server.worker_cpu_seconds()]
        reference = run_clients([_healthz(s, base) for s in sessions], seconds)
        cpu.append(server.worker_cpu_seconds())
        result = run_clients(warm, seconds)
        cpu.append(server.worker_cpu_seconds())
        for session in sessions:
            session.close()
    ratio = result.rate / reference.rate
    name = BACKEND_NAMES[backend]
    ctx.add(
        Figure(
            name=f"book/release, {CLIENTS} clients, {name}",
            value=result.rate,
            unit="ops/s",
            reference=reference.rate,
            ref_label=f"GET /healthz, {CLIENTS} clients",
            target=f">= {MIN_RATE} ops/s and ratio >= {MIN_RATIO}",
            met=result.rate >= MIN_RATE and ratio >= MIN_RATIO,
            note=(
                f"{result.operations:,} requests (a book or a release each) in "
                f"{result.seconds:.1f} s = {result.rate / 2:,.0f} cycles/s; "
                f"{result.errors} failed requests; server CPU per request: "
                f"{1000 * (cpu[2] - cpu[1]) / max(result.operations, 1):.2f} ms, "
                f"/healthz {1000 * (cpu[1] - cpu[0]) / max(reference.operations, 1):.2f} ms"
            ),
        )
    )


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        measure(ctx, backend)
