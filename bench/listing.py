"""Figure 2: GET /api/vms with 10,000 VMs (p50 < 150 ms) and with 100 VMs (within 2x of
GET /healthz on the same server), plus the payload size."""

from __future__ import annotations

from . import seed
from .context import BACKEND_NAMES, Context
from .measure import latencies_ms, median, percentile
from .report import Figure
from .server import Server, api_session

LARGE_P50_MS = 150
SMALL_RATIO = 2.0


def sample(server: Server, count_list: int, count_ref: int) -> dict:
    """Interleaved rounds of /api/vms and /healthz latencies (ms), and the payload size."""
    session = api_session(server.url, "lister@example.com")
    vms, ref = [], []
    rounds = 5
    for _ in range(rounds):
        vms += latencies_ms(session, server.url + "/api/vms", count_list // rounds, warmup=1)
        ref += latencies_ms(session, server.url + "/healthz", count_ref // rounds, warmup=1)
    body = session.get(server.url + "/api/vms", timeout=30)
    size = len(body.content)
    listed = len(body.json())
    session.close()
    return {"vms": vms, "ref": ref, "bytes": size, "listed": listed}


def _large(ctx: Context, backend: str) -> None:
    large = ctx.large(backend)
    result = sample(large.server, ctx.size(40, 15), 200)
    value, ref = median(result["vms"]), median(result["ref"])
    name = BACKEND_NAMES[backend]
    ctx.add(
        Figure(
            name=f"GET /api/vms p50, {result['listed']:,} VMs, {name}",
            value=value,
            unit="ms",
            reference=ref,
            ref_label="GET /healthz p50",
            target=f"p50 < {LARGE_P50_MS} ms",
            met=value < LARGE_P50_MS,
            note=(
                f"p99 {percentile(result['vms'], 99):.0f} ms over {len(result['vms'])} requests; "
                f"body {result['bytes']:,} bytes ({result['bytes'] / result['listed']:.0f} "
                "bytes per VM, 30% of them booked)"
            ),
        )
    )
    ctx.sections.add(
        "Payload",
        f"- {name}: `GET /api/vms` with {result['listed']:,} VMs (30% booked) answers "
        f"{result['bytes']:,} bytes of JSON, {result['bytes'] / result['listed']:.0f} bytes "
        "per VM, uncompressed.",
    )


def _small(ctx: Context, backend: str) -> None:
    url = ctx.fresh(backend, "listing-small")
    seed.insert_vms(url, 100, booked=30)
    with Server(url, ctx.folder(f"listing-small-{backend}")) as server:
        result = sample(server, 300, 300)
    value, ref = median(result["vms"]), median(result["ref"])
    ratio = value / ref
    ctx.add(
        Figure(
            name=f"GET /api/vms p50, 100 VMs, {BACKEND_NAMES[backend]}",
            value=value,
            unit="ms",
            reference=ref,
            ref_label="GET /healthz p50",
            target=f"ratio <= {SMALL_RATIO:g}",
            met=ratio <= SMALL_RATIO,
            note=f"p99 {percentile(result['vms'], 99):.1f} ms; body {result['bytes']:,} bytes",
        )
    )


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        # The small pool first: on PostgreSQL a fresh database ends the large one.
        _small(ctx, backend)
        _large(ctx, backend)
