"""Reading /metrics the way Prometheus does."""

from __future__ import annotations

import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple, float]:
    """Every sample as {(name, (label, value), ...): value}."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return found


def value(text_or_samples, name: str, **labels) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    got = samples(text_or_samples) if isinstance(text_or_samples, str) else text_or_samples
    return got.get((name, *sorted(labels.items())), 0.0)


class Scraper:
    """GET /metrics of a running server with the bearer token."""

    def __init__(self, base_url: str, token: str | None = None):
        self.url = base_url + "/metrics"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __call__(self) -> dict[tuple, float]:
        response = requests.get(self.url, headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/plain")
        return samples(response.text)

    def until(self, name: str, expected: float, timeout: float = 15, **labels) -> None:
        """Scrape until the sample reaches `expected` (for figures that settle after a reply)."""
        deadline = time.monotonic() + timeout
        while (seen := value(self(), name, **labels)) != expected:
            assert time.monotonic() < deadline, f"{name}{labels} stayed {seen}, not {expected}"
            time.sleep(0.05)
