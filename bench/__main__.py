"""`python -m bench [--quick] [only NAME ...]`: measure, print the table, write the report."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import seed
from .context import Context
from .report import console_table, machine, markdown_table

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "performance.md"
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
# name -> module, in the order they run (PostgreSQL figures reuse one database in turn).
BENCHMARKS = {
    "versus": "bench.versus",
    "versus-listing": "bench.versus:run_listing",
    "versus-cycles": "bench.versus:run_cycles",
    "cycles": "bench.cycles",
    "listing": "bench.listing",
    "history": "bench.audit",
    "memory": "bench.memory",
    "startup": "bench.startup",
    "fanout": "bench.fanout",
    "scheduler": "bench.scheduler",
    "bookings": "bench.bookings",
    "health": "bench.health",
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data sets and shorter runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"where to write the report (default: {REPORT.relative_to(ROOT)} on a full run, "
        "nowhere with --quick or `only`)",
    )
    parser.add_argument(
        "selection",
        nargs="*",
        metavar="only NAME",
        help=f"run only these benchmarks: {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    names = args.selection
    if names and names[0] == "only":
        names = names[1:]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or (args.selection and not names):
        parser.error(f"choose from {', '.join(BENCHMARKS)}; got {' '.join(args.selection)}")
    # A full run skips the parts of `versus` that may also be named alone.
    args.names = names or [n for n, target in BENCHMARKS.items() if ":" not in target]
    args.partial = bool(names) or args.quick
    if args.output is None and not args.partial:
        args.output = REPORT
    return args


def document(ctx: Context, info: dict, seconds: float, args) -> str:
    command = "make bench" if not args.partial else "python -m bench " + " ".join(sys.argv[1:])
    lines = [
        "# Performance",
        "",
        f"Measured by `{command}` (`.venv/bin/python -m bench`) in {seconds / 60:.1f} min. "
        "Every figure sits next to a reference taken in the same run on the same server, "
        "a real `loadzone run` (gunicorn, one gthread worker unless the figure names other "
        "settings) on 127.0.0.1: normally "
        "`GET /healthz`, a trivial JSON endpoint doing one `SELECT 1`. The ratio is "
        "value / reference.",
        "",
        "## Machine",
        "",
        f"- date: {info['date']}",
        f"- CPU: {info['cpu']}, `nproc` = {info['nproc']}",
        f"- memory: {info['memory']}",
        f"- Python {info['python']}, Linux {info['kernel']}",
        f"- load average when the run ended: {info['load']} (other test runs share the machine, "
        "so figures are noisy)",
    ]
    if ctx.pg_reason:
        lines.append(f"- PostgreSQL skipped: {ctx.pg_reason}")
    lines += ["", "## Figures", "", markdown_table(ctx.figures)]
    for heading, parts in ctx.sections.parts.items():
        lines += [f"## {heading}", "", *parts]
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text().rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # A SIGTERM unwinds like Ctrl-C, so every server and client process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ["LOADZONE_ENV_FILE"] = os.devnull  # a developer's .env must not leak in
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    pg_url, pg_reason = None, "--no-postgres"
    if not args.no_postgres:
        pg_url = seed.pg_url()
        pg_reason = seed.pg_available(pg_url)
        if pg_reason:
            pg_url = None
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loadzone-bench-") as workdir:
        ctx = Context(args.quick, Path(workdir), pg_url, pg_reason)
        try:
            for name in args.names:
                ctx.log(f"== {name}")
                module, _, function = BENCHMARKS[name].partition(":")
                getattr(importlib.import_module(module), function or "run")(ctx)
        finally:
            ctx.close()
    seconds = time.monotonic() - began
    print()
    print(console_table(ctx.figures))
    print(f"\n{len(ctx.figures)} figures in {seconds / 60:.1f} min")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document(ctx, machine(), seconds, args))
        print(f"wrote {args.output}")
    missed = [f.name for f in ctx.figures if f.met is False]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
