"""Query plans of the statements the app really runs, captured in-process and EXPLAINed."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

from loadzone import create_app
from loadzone.config import load_settings
from loadzone.extensions import db


@contextmanager
def app_on(url: str, folder: Path):
    """The app bound to an existing, migrated database (no server, no scheduler)."""
    settings = load_settings(folder, database_url=url, rate_limit=False, auth_mode="open")
    app = create_app(settings, migrate=False)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _summary(dialect: str, rows: list[tuple]) -> str:
    if dialect == "sqlite":
        return "; ".join(str(row[-1]) for row in rows)
    nodes = []
    for (line,) in rows:
        text = re.sub(r"\s*\(cost=.*?\)", "", line).strip().removeprefix("->").strip()
        # Casts and literal values make the plans long and say nothing about index use.
        text = re.sub(r"::[a-z]+(?: [a-z]+)*", "", re.sub(r"'[^']*'", "?", text))
        if text and not text.startswith(("Index Cond", "Filter", "Sort Key", "Rows Removed")):
            nodes.append(text)
        elif text.startswith(("Index Cond", "Filter")):
            nodes[-1] += f" [{text}]"
    return " → ".join(nodes)


def explain(call: Callable[[], object], match: str = "") -> list[tuple[str, str]]:
    """Run `call` inside an app context, capture the SELECTs it sends (containing `match`),
    and return (statement, plan summary) for each."""
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and match in statement:
            captured.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        db.session.rollback()
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    out = []
    with engine.connect() as conn:
        for statement, parameters in captured:
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            out.append((" ".join(statement.split()), _summary(engine.dialect.name, rows)))
    return out
