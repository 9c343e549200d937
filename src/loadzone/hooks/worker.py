"""The hook worker of a serving process: claims runs and runs them in a small thread pool.

It never blocks a request or the scheduler: requests and jobs only write `hook_runs` rows
(and wake the worker after their commit). A claim loop takes pending runs, runs whose
claimer died on this host (at once, at start-up) and runs whose lease ran out (another
host died), up to the pool's size; each run renews its lease while its hook is running.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from loadzone.core import events
from loadzone.core.facts import HookRunPlanned
from loadzone.core.storage import transaction
from loadzone.core.timeutil import utcnow
from loadzone.extensions import db
from loadzone.hooks import command, instance, outcome, runs

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
MAX_ATTEMPTS = 3


class HookWorker:
    def __init__(self, app: Flask, workers: int, timeout: float):
        self.app = app
        self.me = instance.identity()
        self.workers = workers
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="hook")
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.busy: set[int] = set()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="hook-claims", daemon=True)

    def start(self) -> None:
        events.subscribe_facts(self.app, self.on_fact)
        self.thread.start()

    def stop(self, wait: bool = False) -> None:
        self.stopping.set()
        self.wakeup.set()
        if wait:
            self.thread.join(10)
        self.pool.shutdown(wait=wait)

    def on_fact(self, fact) -> None:
        if isinstance(fact, HookRunPlanned):
            self.wakeup.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self._claim_some()
            except Exception:
                log.exception("claiming hook runs failed; retrying in %ss", POLL_SECONDS)
            self.wakeup.wait(POLL_SECONDS)
            self.wakeup.clear()

    def _claim_some(self) -> None:
        with self.app.app_context():
            try:
                candidates = runs.claimable(utcnow(), self.me, instance.gone)
            finally:
                db.session.remove()
            for run in candidates:
                with self.lock:
                    if len(self.busy) >= self.workers:
                        return
                if run.id in self.busy or not self._claim(run):
                    continue
                with self.lock:
                    self.busy.add(run.id)
                self.pool.submit(self._run, run.id, run.attempts + 1)

    def _claim(self, run) -> bool:
        with transaction():
            taken = runs.claim(run, self.me, utcnow())
        if taken and run.state == runs.RUNNING:
            log.warning("hook run %s taken over from %s", run.id, run.claimed_by)
            if instance.gone(run.claimed_by):
                instance.kill_orphans(run.id)
        return taken

    def _run(self, run_id: int, attempt: int) -> None:
        try:
            with self.app.app_context():
                result = self._execute(run_id, attempt)
                with transaction():
                    outcome.finish(run_id, self.me, result, utcnow())
        except Exception:
            log.exception("hook run %s failed to run; its lease will run out", run_id)
        finally:
            with self.lock:
                self.busy.discard(run_id)
            self.wakeup.set()

    def _execute(self, run_id: int, attempt: int) -> command.Result:
        try:
            found = outcome.environment(run_id)
            argv = runs.commands()[found[0].kind] if found else ()
        finally:
            db.session.remove()
        if found is None:
            return command.Result(None, "", None)  # the VM was deleted meanwhile
        if not argv:
            return command.Result(None, "", None)  # the hook was unset since the run was planned
        if attempt > MAX_ATTEMPTS:
            return command.Result(None, "", f"was interrupted {MAX_ATTEMPTS} times")
        return command.run(
            argv,
            found[1],
            self.timeout,
            on_start=lambda pid: self._renew(run_id, pid),
            on_tick=lambda: self._renew(run_id),
            tick=min(10.0, runs.LEASE.total_seconds() / 3),
        )

    def _renew(self, run_id: int, pid: int | None = None) -> bool:
        try:
            with transaction():
                return runs.renew(run_id, self.me, utcnow(), pid)
        except Exception:
            log.exception("renewing the lease of hook run %s failed", run_id)
            return True  # keep running; a lost lease shows at the next renewal or the finish


def start(app: Flask) -> HookWorker:
    """Start the hook worker in the serving process only."""
    settings = app.extensions["loadzone.settings"]
    worker = HookWorker(app, settings.hook_workers, settings.hook_timeout)
    worker.start()
    app.extensions["loadzone.hooks"] = worker
    return worker
