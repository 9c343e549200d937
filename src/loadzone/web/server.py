"""`loadzone run`: gunicorn with threads serving HTTP and WebSocket, plus the scheduler."""

from __future__ import annotations

import gc

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from loadzone.config import load_settings
from loadzone.core import logs
from loadzone.web import balance, fairness, metrics


class JsonLogger(Logger):
    """gunicorn's own lines (start, stop, worker deaths) as JSON like the app's."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(logs.JsonFormatter())


class Server(BaseApplication):
    """One worker process (LOADZONE_WORKERS: more, with Redis between them) with a large
    thread pool: Flask-SocketIO's threading mode keeps one thread per WebSocket."""

    def __init__(self, settings):
        self.settings = settings
        super().__init__()

    def load_config(self):
        s = self.settings
        self.cfg.set("bind", [f"[{s.host}]:{s.port}" if ":" in s.host else f"{s.host}:{s.port}"])
        self.cfg.set("workers", s.workers)
        # gthread (default): one thread per open WebSocket, and a busy keep-alive connection
        # keeps its thread (web/keepalive.py). gevent: one greenlet each (needs the `gevent`
        # extra); see docs/performance.md for the comparison.
        gthread = "loadzone.web.keepalive.KeepAliveWorker"
        self.cfg.set("worker_class", gthread if s.worker == "gthread" else s.worker)
        board = None
        if s.workers > 1 and s.worker == "gthread":
            # Connections spread evenly over the workers (web/balance.py).
            board = balance.BalancedWorker.board = balance.Board(s.workers)
            self.cfg.set("worker_class", "loadzone.web.balance.BalancedWorker")
            self.cfg.set("pre_fork", lambda arbiter, worker: _seat(board, arbiter, worker))
        self.cfg.set("threads", s.threads)
        self.cfg.set("worker_connections", s.threads * 2)
        self.cfg.set("timeout", 60)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("keepalive", 5)
        self.cfg.set("accesslog", None)
        self.cfg.set("proc_name", "loadzone")
        self.cfg.set("control_socket_disable", True)
        if s.log_format == "json":
            self.cfg.set("logger_class", JsonLogger)
        # Multi-process metrics: files of an earlier run go; a dead worker's live gauges too.
        self.cfg.set("on_starting", lambda _arbiter: metrics.clear_multiprocess_dir())
        self.cfg.set("child_exit", lambda _arbiter, worker: _exited(board, worker))

    def load(self):
        from loadzone import create_app
        from loadzone.booking import jobs
        from loadzone.core import storage
        from loadzone.hooks import worker
        from loadzone.inventory import probing
        from loadzone.notifications import courier
        from loadzone.web import leader, realtime, socket_guard, startup

        # Serve at once: until the database answers, every request gets a 503 saying why.
        app = create_app(self.settings, migrate=False)
        realtime.start_sender(app)
        services = [
            lambda: jobs.start(app, self.settings.sweep_seconds),
            lambda: courier.start(app),
            lambda: worker.start(app),
            lambda: probing.start(app, self.settings.health_seconds),
        ]
        if self.settings.workers == 1:
            steps = [lambda: storage.upgrade(app), *services, lambda: socket_guard.start(app)]
        else:  # each worker guards its own sockets; one of them runs the services
            migrate_lock = self.settings.instance_path / "migrate.lock"

            def migrate() -> None:
                with leader.locked(migrate_lock):
                    storage.upgrade(app)

            lead = leader.Leadership(app, self.settings)
            steps = [migrate, lambda: socket_guard.start(app), lambda: lead.start(services)]
        startup.begin(app, steps)
        # What start-up built lives as long as the process: keep it out of the collector's
        # full passes, which walked all of it and added 100 ms to one request in fifty.
        gc.collect()
        gc.freeze()
        if self.settings.worker == "gevent":
            return fairness.take_turns(app)
        return app


def _seat(board, arbiter, worker) -> None:
    worker.board_slot = balance.claim_slot(board, arbiter.WORKERS.values())


def _exited(board, worker) -> None:
    metrics.worker_exited(worker.pid)
    if board is not None and getattr(worker, "board_slot", None) is not None:
        board.leave(worker.board_slot)


def serve(host: str | None = None, port: int | None = None) -> None:
    """Serve until stopped; `host` and `port`, when given, win over the settings."""
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = load_settings(**overrides)
    if settings.workers > 1 and not settings.redis_url:
        raise SystemExit(
            "LOADZONE_WORKERS above 1 needs LOADZONE_REDIS_URL: events cross processes there."
        )
    Server(settings).run()
