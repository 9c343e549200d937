"""LoadZone next to the naive baseline, in the same run, with the same load generator.

GET /api/vms with 100 and 2,000 VMs, and book + release cycles, at 1, 4, 16 and 64
keep-alive clients each with its own bearer token. Both servers run side by side and are
measured alternately, so a noisy neighbour hits both; only the ratios mean anything on a
shared machine. Figures are the median of three runs (one with --quick).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import redis

from . import baseline, loadgen, seed
from .context import BACKEND_NAMES, Context
from .measure import median
from .report import Figure
from .server import Server, api_session

CONCURRENCY = (1, 4, 16, 64)
AT = 16  # the concurrency of the headline figures
LISTING_SMALL, LISTING_LARGE = 100, 2_000
CYCLE_VMS = 64  # 50 in the issue; one more VM per client so no two share one at 64
# LoadZone's shape for these figures: one serving process per core with Redis between
# them (README, LOADZONE_WORKERS) when Redis answers at LOADZONE_BENCH_REDIS_URL, else the
# single default process; LOADZONE_BENCH_SERVER="workers=1 worker=gevent" overrides it.
REDIS_URL = os.environ.get("LOADZONE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _redis_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def server_shape() -> tuple[dict[str, str], str]:
    """LoadZone settings for the side-by-side figures (see REDIS_URL above), and why."""
    chosen = os.environ.get("LOADZONE_BENCH_SERVER")
    if chosen is not None:
        shape = dict(item.split("=", 1) for item in chosen.split() if "=" in item)
        return shape, "chosen with LOADZONE_BENCH_SERVER"
    if _redis_answers(REDIS_URL):
        shape = {"workers": str(os.cpu_count() or 1), "redis_url": REDIS_URL}
        return shape, f"one per core, the README's setting for a machine with Redis at {REDIS_URL}"
    return {}, f"the default: no Redis answered at {REDIS_URL}"


def shape_label(shape: dict[str, str]) -> str:
    workers = int(shape.get("workers", "1"))
    kind = shape.get("worker", "gthread")
    label = f"{workers} {kind} worker" + ("s" if workers > 1 else "")
    return label + (", Redis" if shape.get("redis_url") else "")


TARGETS = {"small": 1.5, "large": 3.0, "cycles": 3.0, "healthz": 0.8, "collapse": 0.9}


@dataclass
class Point:
    """Medians over the runs at one concurrency."""

    rate: float
    p99: float
    errors: int
    body: int


def _tokens(base: str, count: int) -> list[str]:
    def one(index: int) -> str:
        session = api_session(base, f"versus-{index:02d}@example.com")
        session.close()
        return session.token

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def _point(results: list[loadgen.Result]) -> Point:
    return Point(
        median([r.rate for r in results]),
        median([r.p(99) for r in results]),
        sum(r.errors for r in results),
        max(r.body_bytes for r in results),
    )


def _sweep(ctx: Context, servers: dict, scripts) -> dict[str, dict[int, Point]]:
    """{label: {concurrency: Point}}: each label's script on its server, runs interleaved."""
    seconds, runs = ctx.size(5, 2), ctx.size(3, 1)
    found: dict[str, dict[int, Point]] = {label: {} for label in servers}
    for clients in CONCURRENCY:
        results: dict[str, list] = {label: [] for label in servers}
        for label, (url, tokens) in servers.items():  # warm-up, not counted
            loadgen.run(url, scripts(label, tokens[:clients]), 0.5)
        for _ in range(runs):
            for label, (url, tokens) in servers.items():
                results[label].append(loadgen.run(url, scripts(label, tokens[:clients]), seconds))
        for label in servers:
            found[label][clients] = _point(results[label])
        ctx.log(
            f"  {clients:>2} clients: "
            + ", ".join(
                f"{k} {v[clients].rate:,.0f}/s p99 {v[clients].p99:.0f} ms"
                for k, v in found.items()
            )
        )
    return found


def _table(title: str, unit: str, found: dict[str, dict[int, Point]]) -> str:
    lines = [
        f"**{title}** ({unit}; p99 in ms)",
        "",
        "| clients | " + " | ".join(f"{k} {unit} | {k} p99" for k in found) + " | ratio |",
        "|---|" + "---|---|" * len(found) + "---|",
    ]
    for clients in CONCURRENCY:
        cells = [f"{v[clients].rate:,.0f} | {v[clients].p99:.0f}" for v in found.values()]
        ratio = found["LoadZone"][clients].rate / max(found["baseline"][clients].rate, 1e-9)
        lines.append(f"| {clients} | " + " | ".join(cells) + f" | {ratio:.2f} |")
    return "\n".join(lines)


def _figures(ctx, name, unit, found, target_key, extra_note="") -> None:
    lz, base = found["LoadZone"], found["baseline"]
    ratio = lz[AT].rate / max(base[AT].rate, 1e-9)
    target = TARGETS[target_key]
    ctx.add(
        Figure(
            name=f"{name}, {AT} clients",
            value=lz[AT].rate,
            unit=unit,
            reference=base[AT].rate,
            ref_label="baseline, same run",
            target=f"ratio >= {target:g}",
            met=ratio >= target,
            note=", ".join(f"{c}: {lz[c].rate:,.0f} vs {base[c].rate:,.0f}" for c in CONCURRENCY)
            + f" ({unit} by clients); {lz[AT].errors} failed units{extra_note}",
        )
    )
    ctx.add(
        Figure(
            name=f"{name}, p99, {AT} clients",
            value=lz[AT].p99,
            unit="ms",
            reference=base[AT].p99,
            ref_label="baseline p99, same run",
            target="<= baseline",
            met=lz[AT].p99 <= base[AT].p99,
        )
    )
    kept = lz[64].rate / max(lz[4].rate, 1e-9)
    ctx.add(
        Figure(
            name=f"{name}, 64 clients / 4 clients",
            value=lz[64].rate,
            unit=unit,
            reference=lz[4].rate,
            ref_label="LoadZone, 4 clients",
            target=f"ratio >= {TARGETS['collapse']:g}",
            met=kept >= TARGETS["collapse"],
            note=f"baseline: {base[64].rate / max(base[4].rate, 1e-9):.2f}",
        )
    )


def _listing(ctx: Context, backend: str, count: int, target_key: str) -> None:
    booked = count * 3 // 10
    url = ctx.fresh(backend, f"versus-{count}")
    seed.insert_vms(url, count, booked=booked)
    folder = ctx.folder(f"versus-{count}-{backend}")
    lz_server = Server(url, folder, **ctx.versus_shape)
    with lz_server as lz, baseline.Baseline(folder / "baseline", count, booked) as bl:
        servers = {
            "LoadZone": (lz.url, _tokens(lz.url, max(CONCURRENCY))),
            "baseline": (bl.url, _tokens(bl.url, max(CONCURRENCY))),
        }
        if count == LISTING_SMALL:
            servers["LoadZone /healthz"] = servers["LoadZone"]

        def scripts(label, tokens):
            path = "/healthz" if label.endswith("/healthz") else "/api/vms"
            return [loadgen.Client(t, [loadgen.Request("GET", path)]) for t in tokens]

        found = _sweep(ctx, servers, scripts)
    name = f"GET /api/vms, {count:,} VMs, {BACKEND_NAMES[backend]}, {ctx.versus_label}"
    body = found["LoadZone"][AT].body
    _figures(ctx, name, "req/s", found, target_key, f"; body {body:,} bytes")
    if count == LISTING_SMALL:
        lz, hz = found["LoadZone"][AT].rate, found["LoadZone /healthz"][AT].rate
        ctx.add(
            Figure(
                name=f"{name}, next to /healthz, {AT} clients",
                value=lz,
                unit="req/s",
                reference=hz,
                ref_label="GET /healthz, same server",
                target=f"ratio >= {TARGETS['healthz']:g}",
                met=lz / max(hz, 1e-9) >= TARGETS["healthz"],
            )
        )
    ctx.sections.add("Side by side with the baseline", _table(name, "req/s", found))


def _cycles(ctx: Context, backend: str) -> None:
    url = ctx.fresh(backend, "versus-cycles")
    seed.insert_vms(url, CYCLE_VMS, prefix="cycle-")
    folder = ctx.folder(f"versus-cycles-{backend}")
    with (
        Server(url, folder, **ctx.versus_shape) as lz,
        baseline.Baseline(folder / "baseline", CYCLE_VMS, prefix="cycle-") as bl,
    ):
        servers = {
            "LoadZone": (lz.url, _tokens(lz.url, max(CONCURRENCY))),
            "baseline": (bl.url, _tokens(bl.url, max(CONCURRENCY))),
        }
        hours = json.dumps({"hours": 1}).encode()

        def scripts(_label, tokens):
            return [
                loadgen.Client(
                    t,
                    [
                        loadgen.Request("POST", f"/api/vms/cycle-{i:06d}/book", hours),
                        loadgen.Request("POST", f"/api/vms/cycle-{i:06d}/release"),
                    ],
                )
                for i, t in enumerate(tokens)
            ]

        found = _sweep(ctx, servers, scripts)
    name = f"book + release cycles, {BACKEND_NAMES[backend]}, {ctx.versus_label}"
    _figures(ctx, name, "cycles/s", found, "cycles")
    ctx.sections.add("Side by side with the baseline", _table(name, "cycles/s", found))


def _ready(ctx: Context) -> bool:
    reason = baseline.missing()
    if reason:
        ctx.log(f"versus: NOT MEASURED, {reason}")
        ctx.sections.add("Side by side with the baseline", f"Not measured: {reason}.")
        return False
    baseline.python()
    if ctx.versus_shape is None:
        ctx.versus_shape, reason = server_shape()
        ctx.versus_label = shape_label(ctx.versus_shape)
        ctx.log(f"versus: LoadZone runs with {ctx.versus_label}")
        ctx.sections.add(
            "Side by side with the baseline",
            f"LoadZone ran with {ctx.versus_label} ({reason}); "
            "the baseline is one process, as it was written.",
        )
    return True


def run_listing(ctx: Context) -> None:
    if _ready(ctx):
        for backend in ctx.backends():
            _listing(ctx, backend, LISTING_SMALL, "small")
            _listing(ctx, backend, LISTING_LARGE, "large")


def run_cycles(ctx: Context) -> None:
    if _ready(ctx):
        for backend in ctx.backends():
            _cycles(ctx, backend)


def run(ctx: Context) -> None:
    run_listing(ctx)
    run_cycles(ctx)
