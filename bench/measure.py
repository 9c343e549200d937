"""Timing helpers: percentiles, sequential latency samples, concurrent client loops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return percentile(values, 50)


def latencies_ms(
    session: requests.Session, url: str, count: int, params=None, warmup: int = 3
) -> list[float]:
    """Wall time of `count` sequential GETs in milliseconds; every answer must be 200."""
    for _ in range(warmup):
        session.get(url, params=params, timeout=30).raise_for_status()
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return samples


@dataclass
class LoopResult:
    operations: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


def run_clients(clients: list[Callable[[], int]], seconds: float) -> LoopResult:
    """Run each client callable in its own thread, over and over, for `seconds`.

    A callable performs one unit of work and returns how many operations it completed
    (0 counts as an error). All threads start together behind a barrier.
    """
    barrier = threading.Barrier(len(clients) + 1)
    counts = [0] * len(clients)
    errors = [0] * len(clients)
    deadline = [0.0]

    def loop(index: int, work: Callable[[], int]) -> None:
        barrier.wait()
        while time.monotonic() < deadline[0]:
            try:
                done = work()
            except requests.RequestException:
                done = 0
            if done:
                counts[index] += done
            else:
                errors[index] += 1

    threads = [
        threading.Thread(target=loop, args=(i, work), daemon=True) for i, work in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return LoopResult(sum(counts), sum(errors), time.monotonic() - began)
