"""Figure 6: resident memory of the server worker over 10,000 VMs and 1,000,000 audit records,
after a few list and history requests."""

from __future__ import annotations

from .context import BACKEND_NAMES, Context
from .report import Figure
from .server import api_session

LIMIT_MB = 200


def measure(ctx: Context, backend: str) -> None:
    large = ctx.large(backend)
    base = large.server.url
    session = api_session(base, "memory@example.com")
    for _ in range(3):
        session.get(base + "/api/vms", timeout=60).raise_for_status()
    queries = [
        {},
        {"limit": 500},
        {"vm_id": large.vms.ids[7]},
        {"user": large.history.users[3], "action": "book"},
        {"cursor": str(large.history.first_id + large.history.count // 2)},
        {"since": large.history.first_at.isoformat(), "until": large.history.last_at.isoformat()},
    ]
    for params in queries:
        session.get(base + "/api/history", params=params, timeout=60).raise_for_status()
    session.close()
    rss = large.server.worker_rss_mb()
    ctx.add(
        Figure(
            name=f"worker RSS, {len(large.vms.ids):,} VMs + {large.history.count:,} records, "
            f"{BACKEND_NAMES[backend]}",
            value=rss,
            unit="MiB",
            reference=large.rss_at_start_mb,
            ref_label="same worker right after start-up",
            target=f"< {LIMIT_MB} MB",
            met=rss < LIMIT_MB,
            note="VmRSS of the gunicorn worker (the child of `loadzone run`) after 3 full "
            "listings and 6 history pages, on top of whatever the listing and history "
            "figures already asked of the same server",
        )
    )


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        measure(ctx, backend)
