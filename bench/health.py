"""Figure: the server's CPU while it probes 500 VM addresses every 5 s (half listening, half
closed, all on 127.0.0.1), next to the same server idle with probes off."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from datetime import UTC, datetime

from . import seed
from .context import Context
from .report import Figure
from .server import Server, api_session

VMS = 500
PERIOD_S = 5
LIMIT_PERCENT = 5.0


class Ports:
    """Half the addresses accept (and close) every connection, in one selector thread of the
    benchmark, not of the server; the other half refuse: nothing listens there."""

    def __init__(self, count: int):
        self.selector = selectors.DefaultSelector()
        self.listening = []
        for _ in range(count // 2):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
            self.listening.append(sock)
        self.closed = [seed_port() for _ in range(count - count // 2)]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def addresses(self) -> list[str]:
        open_ = [f"127.0.0.1:{s.getsockname()[1]}" for s in self.listening]
        return open_ + [f"127.0.0.1:{port}" for port in self.closed]

    def _accept(self) -> None:
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    conn, _ = key.fileobj.accept()
                    conn.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=2)
        for sock in self.listening:
            self.selector.unregister(sock)
            sock.close()
        self.selector.close()


def seed_port() -> int:
    """A loopback port nobody listens on (bound for a moment, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _insert(url: str, addresses: list[str]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [(f"hp-{n:04d}", None, "", False, now, address) for n, address in enumerate(addresses)]
    seed.load(url, "vms", (*seed.VM_COLUMNS, "address"), rows)


def _verdicts(server: Server, session) -> dict[str, int]:
    vms = session.get(f"{server.url}/api/vms", timeout=30).json()
    counts: dict[str, int] = {}
    for vm in vms:
        counts[vm["health"]] = counts.get(vm["health"], 0) + 1
    return counts


def _cpu_percent(server: Server, window: float) -> float:
    began, cpu = time.monotonic(), server.worker_cpu_seconds()
    time.sleep(window)
    return 100 * (server.worker_cpu_seconds() - cpu) / (time.monotonic() - began)


def measure(ctx: Context, backend: str = "sqlite") -> None:
    window = ctx.size(45, 12)
    ports = Ports(VMS)
    try:
        url = ctx.fresh(backend, "health")
        _insert(url, ports.addresses())
        with Server(url, ctx.folder(f"health-off-{backend}")) as idle:
            time.sleep(2)  # start-up work settles
            reference = _cpu_percent(idle, window)
        probing = Server(url, ctx.folder(f"health-on-{backend}"), health_seconds=PERIOD_S)
        with probing as server:
            session = api_session(server.url, "bench@example.com")
            began = time.monotonic()
            counts = _verdicts(server, session)
            while counts.get("unknown", 0) and time.monotonic() - began < 4 * PERIOD_S:
                time.sleep(0.5)
                counts = _verdicts(server, session)
            settled = time.monotonic() - began
            value = _cpu_percent(server, window)
            counts = _verdicts(server, session)
    finally:
        ports.close()
    right = counts.get("up") == VMS // 2 and counts.get("down") == VMS - VMS // 2
    ctx.add(
        Figure(
            name=f"health probes, {VMS} VMs every {PERIOD_S} s, worker CPU ({backend})",
            value=value,
            unit="% of a core",
            reference=reference,
            ref_label="same server idle, probes off",
            target=f"< {LIMIT_PERCENT:g} % above idle, verdicts right",
            met=right and value - reference < LIMIT_PERCENT,
            note=f"{window} s windows; every verdict in within {settled:.1f} s of start; "
            f"verdicts {counts}",
        )
    )
    ctx.log(f"verdicts {counts}, all in {settled:.1f} s after start-up")
    ctx.sections.add(
        "Health probes",
        f"`LOADZONE_HEALTH_SECONDS={PERIOD_S}` over {VMS} VMs on 127.0.0.1 ({VMS // 2} "
        f"listening, {VMS - VMS // 2} refusing): the worker used {value:.2f} % of one core "
        f"over {window} s, against {reference:.2f} % for the same server idle with probes "
        f"off, so probing costs about {value - reference:.2f} % of a core. Every VM had its "
        f"verdict {settled:.1f} s after start-up (down needs two rounds); the final count "
        f"was {counts}. Probes are TCP connects from one asyncio loop in one thread, at most "
        "256 at a time; a round writes only the VMs whose health changed, so a steady pool "
        "costs one `SELECT` of the addresses per round and no writes.",
    )


def run(ctx: Context) -> None:
    measure(ctx)
