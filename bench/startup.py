"""Figure 5: start-up with 10,000 active bookings, from process start to /healthz 200, and
every booking planned by the scheduler."""

from __future__ import annotations

from . import seed
from .context import BACKEND_NAMES, Context
from .report import Figure
from .server import Server

LIMIT_S = 5


def measure(ctx: Context, backend: str) -> None:
    count = ctx.size(10_000, 2_000)
    url = ctx.fresh(backend, "startup-empty")
    with Server(url, ctx.folder(f"startup-empty-{backend}")) as empty:
        reference = empty.startup_seconds
    url = ctx.fresh(backend, "startup")
    # Every booking ends 2-24 h ahead: nothing is due, so start-up only plans.
    seed.insert_vms(url, count, booked=count)
    seed.analyze(url)
    with Server(url, ctx.folder(f"startup-{backend}")) as server:
        seconds = server.startup_seconds
        planned = server.planned_bookings()
    ctx.add(
        Figure(
            name=f"start-up to /healthz 200, {count:,} bookings, {BACKEND_NAMES[backend]}",
            value=seconds,
            unit="s",
            reference=reference,
            ref_label="same, empty database",
            target=f"< {LIMIT_S} s, all {count:,} planned",
            met=seconds < LIMIT_S and planned == count,
            note=f"the log says {planned:,} bookings planned"
            if planned is not None
            else "no 'scheduler started' line in the log",
        )
    )


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        measure(ctx, backend)
