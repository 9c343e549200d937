"""Figure 3: GET /api/history over 1,000,000 audit records: every kind of filtered or deep
page at p99 < 50 ms, with the query plan behind each kind."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from loadzone.reporting import history

from .context import BACKEND_NAMES, Context, Large
from .measure import percentile
from .plans import app_on, explain
from .report import Figure
from .server import api_session

P99_MS = 50
ACTIONS = ("book", "renew", "release")


class Params:
    """Random but reproducible query parameters over the seeded history."""

    def __init__(self, large: Large, seed: int):
        self.rng = random.Random(seed)
        self.h = large.history
        self.vms = large.vms.ids
        self.span = self.h.last_at - self.h.first_at

    def vm(self) -> str:
        return self.rng.choice(self.vms)

    def user(self) -> str:
        return self.rng.choice(self.h.users)

    def action(self) -> str:
        return self.rng.choice(ACTIONS)

    def moment(self, low: float = 0.0, high: float = 1.0) -> datetime:
        return self.h.first_at + self.span * self.rng.uniform(low, high)

    def window(self, days: float) -> dict:
        start = self.moment(0, 1 - days / 365)
        return {"since": start.isoformat(), "until": (start + timedelta(days=days)).isoformat()}

    def id_at(self, moment: datetime) -> str:
        """The year's ids run from first_id in time order, so an instant maps onto an id."""
        offset = int(self.h.count * ((moment - self.h.first_at) / self.span))
        return str(self.h.first_id + max(1, offset))

    def deep(self) -> str:
        return str(self.h.first_id + int(self.h.count * self.rng.uniform(0.05, 0.95)))

    def window_with_cursor(self, days: float) -> dict:
        params = self.window(days)
        since = datetime.fromisoformat(params["since"])
        return {**params, "cursor": self.id_at(since + timedelta(days=days / 2))}


def query_kinds(p: Params) -> dict:
    """Name -> function giving fresh query parameters for one request of that kind."""
    week_ago = (p.h.last_at - timedelta(days=7)).isoformat()
    return {
        "newest page": lambda: {},
        "newest page, limit 500": lambda: {"limit": 500},
        "vm_id": lambda: {"vm_id": p.vm()},
        "user": lambda: {"user": p.user()},
        "action": lambda: {"action": p.action()},
        "since last 7 days": lambda: {"since": week_ago},
        "until (older half)": lambda: {"until": p.moment(0.01, 0.5).isoformat()},
        "since..until 1 day": lambda: p.window(1),
        "since..until 30 days": lambda: p.window(30),
        "user + action": lambda: {"user": p.user(), "action": p.action()},
        "vm_id + action": lambda: {"vm_id": p.vm(), "action": p.action()},
        "action + 1 day": lambda: {"action": p.action(), **p.window(1)},
        "user + 30 days": lambda: {"user": p.user(), **p.window(30)},
        "vm_id + 30 days": lambda: {"vm_id": p.vm(), **p.window(30)},
        "deep cursor": lambda: {"cursor": p.deep()},
        "user, deep cursor": lambda: {"user": p.user(), "cursor": p.deep()},
        "action, deep cursor": lambda: {"action": p.action(), "cursor": p.deep()},
        "30 days, cursor inside": lambda: p.window_with_cursor(30),
    }


def timings(large: Large, per_kind: int) -> dict[str, list[float]]:
    """Latency samples (ms) per kind, kinds shuffled together with /healthz references."""
    kinds = query_kinds(Params(large, 3))
    order = [name for name in kinds for _ in range(per_kind)] + ["/healthz"] * per_kind
    random.Random(4).shuffle(order)
    base = large.server.url
    session = api_session(base, "auditor@example.com")
    for name in kinds:  # warm each statement once
        session.get(base + "/api/history", params=kinds[name](), timeout=30).raise_for_status()
    samples: dict[str, list[float]] = {name: [] for name in [*kinds, "/healthz"]}
    for name in order:
        if name == "/healthz":
            url, params = base + "/healthz", None
        else:
            url, params = base + "/api/history", kinds[name]()
        began = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        samples[name].append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    session.close()
    return samples


def _page_call(params: dict):
    def call():
        cursor = params.get("cursor")
        history.page(
            int(params.get("limit", 50)),
            int(cursor) if cursor else None,
            vm_id=params.get("vm_id"),
            user=params.get("user"),
            action=params.get("action"),
            since=datetime.fromisoformat(params["since"]) if "since" in params else None,
            until=datetime.fromisoformat(params["until"]) if "until" in params else None,
        )

    return call


def query_plans(ctx: Context, large: Large) -> dict[str, str]:
    kinds = query_kinds(Params(large, 5))
    plans = {}
    with app_on(large.url, ctx.folder(f"plans-{large.backend}")):
        for name, make in kinds.items():
            captured = explain(_page_call(make()), match="FROM history")
            # The last statement is the page itself (a cursor is looked up first).
            plans[name] = captured[-1][1] if captured else "?"
    return plans


def measure(ctx: Context, backend: str) -> None:
    large = ctx.large(backend)
    samples = timings(large, ctx.size(150, 20))
    plans = query_plans(ctx, large)
    ref = samples.pop("/healthz")
    p99 = {name: percentile(values, 99) for name, values in samples.items()}
    worst = max(p99, key=p99.get)
    name = BACKEND_NAMES[backend]
    ctx.add(
        Figure(
            name=f"GET /api/history p99, worst of {len(p99)} kinds, "
            f"{large.history.count:,} records, {name}",
            value=p99[worst],
            unit="ms",
            reference=percentile(ref, 99),
            ref_label="GET /healthz p99",
            target=f"p99 < {P99_MS} ms",
            met=p99[worst] < P99_MS,
            note=f"slowest kind: {worst}; {sum(map(len, samples.values())):,} pages in all",
        )
    )
    lines = [
        f"{name}, {large.history.count:,} records, {len(large.vms.ids):,} VMs, 200 users; "
        f"{len(ref)} pages of each kind (limit 50 unless stated) with random values, "
        f"interleaved with as many `GET /healthz` (p50 {percentile(ref, 50):.1f} ms, "
        f"p99 {percentile(ref, 99):.1f} ms).",
        "",
        "| kind | p50 ms | p99 ms | plan |",
        "|---|---|---|---|",
    ]
    for kind, values in samples.items():
        lines.append(
            f"| {kind} | {percentile(values, 50):.1f} | {p99[kind]:.1f} | "
            f"{plans.get(kind, '?').replace('|', '/')} |"
        )
    ctx.sections.add("Audit history pages and their query plans", "\n".join(lines) + "\n")


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        measure(ctx, backend)
