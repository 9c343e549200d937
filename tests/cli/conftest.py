"""Run `loadzone` commands in-process on this test's database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from loadzone.web import cli


@dataclass
class Result:
    code: int
    output: str


@pytest.fixture
def loadzone(db_url, tmp_path, monkeypatch):
    """Call as loadzone("vm", "add", "x"); returns exit code and combined output."""
    monkeypatch.setenv("LOADZONE_DATABASE_URL", db_url)
    monkeypatch.setenv("LOADZONE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LOADZONE_AUTH_MODE", "open")
    apps = []
    build = cli.main.create_app

    def create_app():
        app = build()
        apps.append(app)
        return app

    monkeypatch.setattr(cli.main, "create_app", create_app)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(cli.main, list(args), catch_exceptions=False)
        return Result(result.exit_code, result.output)

    yield invoke
    from loadzone.extensions import db

    for app in apps:
        with app.app_context():
            db.engine.dispose()
