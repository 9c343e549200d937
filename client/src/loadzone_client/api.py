"""The LoadZone HTTP API as `lz` uses it: bearer token, JSON bodies, bounded retries."""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError

from loadzone_client import __version__
from loadzone_client.errors import Refused, Unavailable

# (connect, read) seconds for one attempt.
TIMEOUT = (5, 30)
# Statuses after which the server changed nothing, so any request may be sent again.
NOTHING_DONE = {429, 502, 503}


@dataclass(frozen=True)
class Retries:
    """`attempts` tries in all, waiting `delay`, then twice as long, and so on in between."""

    attempts: int = 4
    delay: float = 1.0

    def pause(self, attempt: int, retry_after: str | None = None) -> float:
        wait = self.delay * 2**attempt
        if retry_after and retry_after.isdigit():
            # Honour the server's hint, but never beyond four back-off steps.
            wait = max(wait, min(float(retry_after), self.delay * 16))
        return wait * random.uniform(1.0, 1.25)  # spread a fleet of runners apart


def _not_sent(error: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (refused, no route, DNS)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _why(error: requests.RequestException) -> str:
    """A short reason: 'Connection refused', 'no answer within 30 s', ..."""
    if isinstance(error, requests.ConnectTimeout):
        return "connecting timed out"
    if isinstance(error, requests.ReadTimeout):
        return f"no answer within {TIMEOUT[1]} s"
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if reason is not None:
        return str(reason).rsplit(": ", 1)[-1]
    return error.__class__.__name__


def _message(response: requests.Response) -> tuple[str, str]:
    """(code, message) of the API's one error shape, or the bare status for anything else."""
    try:
        detail = response.json()["error"]
        return str(detail["code"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        return "http_error", f"HTTP {response.status_code} {response.reason or ''}".strip()


class Api:
    """One LoadZone server seen through one token; one instance per thread."""

    def __init__(self, url: str, token: str, retries: Retries | None = None):
        self.url = url.rstrip("/")
        self.retries = retries or Retries()
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "User-Agent": f"lz/{__version__}"}
        )

    def get(self, path: str, **params):
        return self.call("GET", path, params=params or None)[1]

    def call(self, method: str, path: str, body=None, params=None, repeatable: bool = True):
        """(status, JSON) of a 2xx answer; raises Refused on 4xx, Unavailable when it gives up.

        A request that is not `repeatable` (it would book or add hours twice) is sent again
        only when the first attempt surely changed nothing.
        """
        last = "no attempt made"
        for attempt in range(self.retries.attempts):
            retry_after = None
            try:
                response = self.session.request(
                    method, self.url + path, json=body, params=params, timeout=TIMEOUT
                )
            except requests.RequestException as error:
                last = f"cannot reach {self.url}: {_why(error)}"
                if not (repeatable or _not_sent(error)):
                    raise Unavailable(f"{last}; the server may have done it anyway") from error
            else:
                if response.status_code < 400:
                    return response.status_code, self._json(response)
                code, message = _message(response)
                if response.status_code < 500 and response.status_code != 429:
                    raise Refused(message, response.status_code, code)
                last = f"{self.url} answered {response.status_code}: {message}"
                if not (repeatable or response.status_code in NOTHING_DONE):
                    raise Unavailable(last)
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 < self.retries.attempts:
                pause = self.retries.pause(attempt, retry_after)
                print(f"lz: {last}; retrying in {pause:.1f} s", file=sys.stderr)
                time.sleep(pause)
        raise Unavailable(f"{last} (gave up after {self.retries.attempts} attempts)")

    def _json(self, response: requests.Response):
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Unavailable(
                f"{response.url} answered {response.status_code} without JSON: "
                "is LOADZONE_URL the LoadZone server?"
            ) from None

    def close(self) -> None:
        self.session.close()
