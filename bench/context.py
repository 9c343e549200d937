"""What every benchmark gets: sizes (full or quick), folders, backends, shared servers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import requests

from . import seed
from .report import Figure, Sections
from .server import Server

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class Large:
    """A running server over 10,000 VMs (30% booked now) and 1,000,000 audit records with the
    bookings they tell of (fewer with --quick)."""

    backend: str
    url: str
    server: Server
    vms: seed.VmSet
    history: seed.HistorySet
    rss_at_start_mb: float
    seed_seconds: dict[str, float]


class Context:
    def __init__(self, quick: bool, workdir: Path, pg_url: str | None, pg_reason: str | None):
        self.quick = quick
        self.workdir = workdir
        self.pg_url = pg_url
        self.pg_reason = pg_reason
        self.figures: list[Figure] = []
        self.sections = Sections()
        self.began = time.monotonic()
        self._large: dict[str, Large] = {}
        # LoadZone's settings and their label for the side-by-side figures (bench.versus).
        self.versus_shape: dict[str, str] | None = None
        self.versus_label = ""

    def size(self, full, quick):
        return quick if self.quick else full

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.began:6.1f}s] {message}", flush=True)

    def backends(self) -> list[str]:
        return ["sqlite"] + (["postgresql"] if self.pg_url else [])

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def fresh(self, backend: str, name: str) -> str:
        """A new empty database; on PostgreSQL this stops whatever server used the old one."""
        if backend == "postgresql":
            self.drop_large(backend)
        return seed.fresh_database(backend, self.folder(f"{name}-{backend}"))

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        met = {True: "met", False: "MISSED", None: ""}[figure.met]
        ref = f" (reference {figure.reference:.4g})" if figure.reference is not None else ""
        self.log(f"{figure.name}: {figure.value:.4g} {figure.unit}{ref} {met}")

    # -- the large data set shared by the listing, history and memory figures -------------
    def large(self, backend: str) -> Large:
        if backend not in self._large:
            self._large[backend] = self._build_large(backend)
        return self._large[backend]

    def _build_large(self, backend: str) -> Large:
        vms = self.size(10_000, 2_000)
        records = self.size(1_000_000, 100_000)
        url = self.fresh(backend, "large")
        timings = {}
        began = time.monotonic()
        vm_set = seed.insert_vms(url, vms, booked=vms * 3 // 10)
        timings["vms"] = time.monotonic() - began
        self.log(f"{BACKEND_NAMES[backend]}: {vms:,} VMs inserted in {timings['vms']:.1f}s")
        began = time.monotonic()
        users = [f"user-{k:03d}@example.com" for k in range(200)]
        booked = vm_set.ids[: vm_set.booked]
        history = seed.insert_history(url, records, vm_set.ids, users, busy=booked)
        timings["history"] = time.monotonic() - began
        self.log(
            f"{BACKEND_NAMES[backend]}: {records:,} audit records and the "
            f"{history.bookings:,} bookings they tell of inserted in {timings['history']:.1f}s"
        )
        seed.analyze(url)
        # The bookings went in behind the app's back: roll their days up first, as migration
        # 0005 does on an upgrade, or the server's first hourly job would do a year at once.
        seed.roll_up(url, self.folder(f"large-rollup-{backend}"))
        server = Server(url, self.folder(f"large-{backend}"), admins="admin@example.com").start()
        for _ in range(3):
            server_get(server, "/healthz")
        rss = server.worker_rss_mb()
        return Large(backend, url, server, vm_set, history, rss, timings)

    def drop_large(self, backend: str) -> None:
        large = self._large.pop(backend, None)
        if large is not None:
            large.server.stop()

    def close(self) -> None:
        for backend in list(self._large):
            self.drop_large(backend)


def server_get(server: Server, path: str) -> None:
    requests.get(server.url + path, timeout=30).raise_for_status()
