"""Crash-consistency harness: a mixed load on a real server, kill -9 at random moments,
restart on the same database, then check that nothing acknowledged was lost.

Used by test_crash.py (bounded, in CI) and soak.py (by hand, for minutes or hours).
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests

from tests.conftest import ServerProcess
from tests.reliability.invariants import Attempt, Database, Report, check_all

ADMIN = "admin@example.com"
USERS = tuple(f"user{i}@example.com" for i in range(6))
TIMEOUT = (5, 30)


def sign_in(base_url: str, email: str) -> str:
    """A bearer token for `email` (open sign-in mode)."""
    session = requests.Session()
    response = session.post(f"{base_url}/api/auth/login", json={"email": email}, timeout=TIMEOUT)
    response.raise_for_status()
    token = session.post(f"{base_url}/api/me/tokens", json={"name": "harness"}, timeout=TIMEOUT)
    token.raise_for_status()
    return token.json()["token"]


class Load:
    """Worker threads: users book, renew and release; an admin moves expiries a few seconds
    ahead (so expiries and warnings happen during the run) and now and then force-releases."""

    def __init__(self, vm_ids: list[str], tokens: dict[str, str], seed: int):
        self.vm_ids = vm_ids
        self.tokens = tokens
        self.seed = seed
        self.base_url = ""
        self.up = threading.Event()
        self.stopping = threading.Event()
        self.attempts: list[Attempt] = []
        self.changed = threading.Condition()
        self.threads: list[threading.Thread] = []

    # -- control ----------------------------------------------------------------------------
    def start(self, base_url: str) -> None:
        self.resume(base_url)
        workers = [(self._user, email) for email in USERS] + [(self._admin, ADMIN)]
        for index, (target, email) in enumerate(workers):
            rng = random.Random(self.seed * 1000 + index)
            thread = threading.Thread(target=target, args=(email, rng), daemon=True)
            thread.start()
            self.threads.append(thread)

    def pause(self) -> None:
        """Stop sending new requests (those in flight go on until the server dies)."""
        self.up.clear()

    def resume(self, base_url: str) -> None:
        self.base_url = base_url
        self.up.set()

    def stop(self) -> None:
        self.stopping.set()
        self.up.set()  # wake the waiting workers so they see the stop
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_for_attempts(self, count: int, timeout: float = 60) -> None:
        """Block until `count` more requests have been sent."""
        with self.changed:
            target = len(self.attempts) + count
            self.changed.wait_for(lambda: len(self.attempts) >= target, timeout=timeout)

    # -- workers ----------------------------------------------------------------------------
    def _send(self, http: requests.Session, attempt: Attempt, method: str, path: str, body=None):
        with self.changed:
            self.attempts.append(attempt)
            self.changed.notify_all()
        try:
            response = http.request(method, self.base_url + path, json=body, timeout=TIMEOUT)
            text = response.text  # a server killed mid-body breaks the read here
        except requests.Timeout:
            return attempt  # the server may still apply it: stays uncertain for ever
        except requests.RequestException:
            attempt.ended = time.monotonic()  # refused or cut off: the server is dead
            return attempt
        attempt.status = response.status_code
        try:
            attempt.body = json.loads(text)
        except ValueError:
            attempt.body = {"raw": text[:200]}
        attempt.ended = time.monotonic()
        return attempt

    def _session(self, email: str) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = "Bearer " + self.tokens[email]
        return http

    def _ready(self) -> bool:
        self.up.wait()
        return not self.stopping.is_set()

    def _user(self, email: str, rng: random.Random) -> None:
        http = self._session(email)
        mine: set[str] = set()
        while self._ready():
            if mine and rng.random() < 0.6:
                vm_id = rng.choice(sorted(mine))
                kind = "renew" if rng.random() < 0.5 else "release"
                body = {"hours": 1} if kind == "renew" else None
            else:
                vm_id, kind, body = rng.choice(self.vm_ids), "book", {"hours": rng.randint(2, 4)}
            path = f"/api/vms/{vm_id}/{kind}"
            attempt = self._send(
                http, Attempt(kind, vm_id, email, time.monotonic()), "POST", path, body
            )
            if attempt.acknowledged:
                (mine.add if kind != "release" else mine.discard)(vm_id)
            elif attempt.refused and kind != "book":
                mine.discard(vm_id)  # not mine any more (expired, or released by the admin)

    def _admin(self, email: str, rng: random.Random) -> None:
        http = self._session(email)
        while self._ready():
            try:
                vms = http.get(self.base_url + "/api/vms", timeout=TIMEOUT).json()
            except (requests.RequestException, ValueError):
                continue
            if not isinstance(vms, list):
                continue  # an error answer
            ours = set(self.vm_ids)  # the database may hold other VMs: leave them alone
            booked = [vm["id"] for vm in vms if vm.get("booked_by") and vm.get("id") in ours]
            if not booked:
                continue
            vm_id = rng.choice(booked)
            if rng.random() < 0.1:
                attempt = Attempt("force_release", vm_id, email, time.monotonic())
                self._send(http, attempt, "POST", f"/api/vms/{vm_id}/release")
                continue
            ahead = timedelta(seconds=rng.uniform(0.2, 3))
            body = {"expires_at": (datetime.now(UTC) + ahead).isoformat()}
            attempt = Attempt("override", vm_id, email, time.monotonic())
            self._send(http, attempt, "PATCH", f"/api/vms/{vm_id}", body)

    def settle(self, rng: random.Random) -> None:
        """One more write on every VM, one after another (nothing overlaps): a person books
        it, or the admin releases it if it is booked. The caller kills right after."""
        for vm_id in self.vm_ids:
            email = rng.choice(USERS)
            body = {"hours": rng.randint(2, 4)}
            attempt = Attempt("book", vm_id, email, time.monotonic())
            self._send(self._session(email), attempt, "POST", f"/api/vms/{vm_id}/book", body)
            if attempt.status == 409:
                attempt = Attempt("force_release", vm_id, ADMIN, time.monotonic())
                self._send(self._session(ADMIN), attempt, "POST", f"/api/vms/{vm_id}/release")


# -- one run: load, kills, restarts -----------------------------------------------------------


def prepare(base_url: str, prefix: str, count: int) -> tuple[list[str], dict[str, str]]:
    """Sign everyone in and add `count` VMs named `prefix`N."""
    tokens = {email: sign_in(base_url, email) for email in (*USERS, ADMIN)}
    admin = requests.Session()
    admin.headers["Authorization"] = "Bearer " + tokens[ADMIN]
    vm_ids = [f"{prefix}{index}" for index in range(count)]
    for vm_id in vm_ids:
        response = admin.post(f"{base_url}/api/vms", json={"id": vm_id}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
    return vm_ids, tokens


def _kill_while_starting(server, rng: random.Random) -> None:
    """Start a server and kill -9 it at a random moment before it is ready: in the middle of
    its migrations or of the start-up sweep that releases overdue bookings."""
    starting = threading.Thread(target=_start_quietly, args=(server,), daemon=True)
    starting.start()
    time.sleep(rng.uniform(0.2, 1.5))  # the moment is random on purpose
    server.kill()
    starting.join(timeout=60)


def _start_quietly(server) -> None:
    with contextlib.suppress(RuntimeError):  # "exited early": it was killed meanwhile
        server.start()


def crash_run(
    make_server: Callable[[], ServerProcess],
    db_url: str,
    *,
    kills: int | None = None,
    until: float | None = None,
    seed: int | None = None,
    prefix: str = "crash-",
    vm_count: int = 12,
    log: Callable[[str], None] = lambda line: None,
) -> Report:
    """Load a server, kill -9 it `kills` times (or until the monotonic deadline `until`),
    restarting on the same database each time (now and then killing it again while it
    starts), then check every invariant. `make_server` gives a server not yet started."""
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    log(f"seed {seed}")
    began = time.monotonic()
    report = Report()
    db = Database(db_url)
    servers: list[ServerProcess] = []

    def fresh() -> ServerProcess:
        servers.append(make_server())
        return servers[-1]

    def restart() -> ServerProcess:
        """Start again on the same database; every booking due by then must be released."""
        if rng.random() < 0.3:
            # Stay down until the next expiry has passed: the start-up must release it.
            wait = db.next_expiry(prefix) - datetime.now(UTC)
            if timedelta(0) < wait < timedelta(seconds=3):
                time.sleep(wait.total_seconds() + 0.05)  # time passing is what is tested
        if rng.random() < 0.25:
            _kill_while_starting(fresh(), rng)
            report.kills += 1
            report.startup_kills += 1
        spawned = datetime.now(UTC)
        report.overdue_at_restart += len(db.overdue(prefix, spawned))
        server = fresh().start()
        left = db.overdue(prefix, spawned)
        if left:
            report.problems.append(f"restart after kill {report.kills}: overdue {sorted(left)}")
        return server

    try:
        server = fresh().start()
        vm_ids, tokens = prepare(server.url, prefix, vm_count)
        load = Load(vm_ids, tokens, seed)
        load.start(server.url)
        try:
            while (kills is not None and report.kills < kills) or (
                until is not None and time.monotonic() < until
            ):
                load.wait_for_attempts(rng.randint(10, 80))
                load.pause()
                server.kill()
                report.kills += 1
                server = restart()
                log(f"kill {report.kills}: {len(load.attempts)} sent")
                load.resume(server.url)
        finally:
            load.stop()
        # A last write on every VM, each answered before the next is sent, then kill -9 at
        # once: every VM must come back exactly as its last answer said.
        load.settle(rng)
        server.kill()
        report.kills += 1
        restart()
        check_all(db, prefix, load.attempts, report)
    finally:
        for server in servers:
            server.stop()
        db.close()
    report.seconds = time.monotonic() - began
    return report
