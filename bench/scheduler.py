"""Figure 7: the scheduler's sweep queries cost what is due, not what is in the pool.

Times `expiry.expired_ids(now)` + `expiry.starting_ids(now)` + `expiry.warning_due_ids(now)`
(what one Planner.sweep() reads) in-process on pools of growing size with a fixed number due, and
on one pool with a growing number due."""

from __future__ import annotations

import time

from loadzone.booking import expiry
from loadzone.extensions import db

from . import seed
from .context import BACKEND_NAMES, Context
from .measure import median
from .plans import app_on, explain
from .report import Figure

MAX_POOL_RATIO = 2.0


def cases(ctx: Context) -> list[tuple[int, int]]:
    """(VMs, due) pairs; 'due' bookings have expired and as many more are due a warning."""
    if ctx.quick:
        return [(1_000, 10), (5_000, 10), (10_000, 10), (5_000, 1_000)]
    return [(1_000, 10), (10_000, 10), (50_000, 10), (10_000, 1_000)]


def time_sweep(ctx: Context, backend: str, vms: int, due: int) -> tuple[float, str]:
    """Median milliseconds of the three sweep queries, and their plans."""
    url = ctx.fresh(backend, f"sweep-{vms}-{due}")
    # Besides the due ones, half the pool is booked for hours to come, half is free.
    seed.insert_vms(url, vms, expired=due, warn_due=due, booked=(vms - 2 * due) // 2)
    seed.analyze(url)
    with app_on(url, ctx.folder(f"sweep-app-{backend}-{vms}-{due}")) as app:
        rules = app.extensions["loadzone.rules"]

        def sweep():
            now = seed.utcnow()
            found = (
                expiry.expired_ids(now),
                expiry.starting_ids(now),
                expiry.warning_due_ids(now, rules),
            )
            db.session.rollback()
            return found

        expired, starting, warn = sweep()
        if (len(expired), len(starting), len(warn)) != (due, 0, due):
            raise RuntimeError(
                f"seeded {due} due, sweep found {len(expired)}/{len(starting)}/{len(warn)}"
            )
        samples = []
        for _ in range(ctx.size(60, 20)):
            began = time.perf_counter()
            sweep()
            samples.append((time.perf_counter() - began) * 1000)
        plans = explain(sweep, match="FROM bookings")
    return median(samples), " / ".join(plan for _, plan in plans)


def measure(ctx: Context, backend: str) -> None:
    timings, plans = {}, {}
    for vms, due in cases(ctx):
        timings[vms, due], plans[vms, due] = time_sweep(ctx, backend, vms, due)
        ctx.log(f"sweep queries, {vms:,} VMs, {due} due: {timings[vms, due]:.2f} ms")
    (small, few), (mid, _), (big, _), (_, many) = cases(ctx)
    name = BACKEND_NAMES[backend]
    for pool in (mid, big):
        ctx.add(
            Figure(
                name=f"sweep queries, {pool:,} vs {small:,} VMs, {few} due, {name}",
                value=timings[pool, few],
                unit="ms",
                reference=timings[small, few],
                ref_label=f"{small:,} VMs, {few} due",
                target=f"ratio <= {MAX_POOL_RATIO:g} ({pool // small}x the VMs)",
                met=timings[pool, few] / timings[small, few] <= MAX_POOL_RATIO,
            )
        )
    ctx.add(
        Figure(
            name=f"sweep queries, {many:,} vs {few} due, {mid:,} VMs, {name}",
            value=timings[mid, many],
            unit="ms",
            reference=timings[mid, few],
            ref_label=f"{few} due",
            target="grows with the due (informative)",
            met=None,
        )
    )
    lines = [
        f"{name}: median of {ctx.size(60, 20)} runs of `expired_ids(now)` + "
        "`starting_ids(now)` + `warning_due_ids(now)`; 'due' bookings have expired and as "
        "many more are inside the warning lead time; of the rest half are booked for hours, "
        "half are free (each booked VM is one active row in `bookings`).",
        "",
        "| VMs | due | ms | plans (expired / starting / warning) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {vms:,} | {due:,} | {timings[vms, due]:.2f} | {plans[vms, due]} |"
        for vms, due in cases(ctx)
    ]
    ctx.sections.add("Scheduler sweep", "\n".join(lines) + "\n")


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        measure(ctx, backend)
