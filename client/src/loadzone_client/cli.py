"""The `lz` command line: parse, check, call, print; exit codes as the pipeline expects."""

from __future__ import annotations

import argparse
import json
import re
import sys

from loadzone_client import __version__, views
from loadzone_client.booking import Ask, announce, book, say
from loadzone_client.errors import Interrupted, LzError, UsageError
from loadzone_client.run import Signals, run
from loadzone_client.settings import connect, poll_seconds

DURATION = re.compile(r"(\d+(?:\.\d+)?)([smh])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MAX_WAIT = 1440 * 60  # the server keeps a request waiting at most a day


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit code 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def duration(text: str) -> float:
    """'90s', '30m', '2h' in seconds."""
    match = DURATION.fullmatch(text.strip())
    if not match or float(match[1]) <= 0:
        raise UsageError(f"Bad duration {text!r}: a number with s, m or h, such as 90s or 30m.")
    seconds = float(match[1]) * UNIT_SECONDS[match[2]]
    if seconds > MAX_WAIT:
        raise UsageError(f"Bad duration {text!r}: the longest wait is 24h.")
    return seconds


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not (sep and key and value):
            raise UsageError(f"Bad label {pair!r}: give KEY=VALUE.")
        labels[key] = value
    return labels


def ask_from(args) -> Ask:
    """The target and options of `book` and `run`, checked before anything is sent."""
    labels = _labels(args.label or [])
    if not (args.vm or args.group or labels):
        raise UsageError("Give a target: --vm ID, --group NAME|ID or --label K=V.")
    if args.vm and (args.group or labels):
        raise UsageError("--vm names one VM: no --group or --label with it.")
    if args.vm and args.count is not None:
        raise UsageError("--count is for --group or --label, not --vm.")
    if args.count is not None and not 1 <= args.count <= 50:
        raise UsageError("--count must be 1 to 50.")
    if args.hours < 1:
        raise UsageError("--hours must be at least 1.")
    if args.heartbeat is not None and not 30 <= args.heartbeat <= 3600:
        raise UsageError("--heartbeat must be 30 to 3600 seconds.")
    wait = duration(args.wait) if args.wait is not None else None
    return Ask(args.hours, args.vm, args.group, labels, args.count, wait, args.heartbeat)


def cmd_book(args, signals: Signals) -> int:
    ask = ask_from(args)
    answer = book(connect(args), ask, poll_seconds())
    announce(answer)
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print("\n".join(booking["vm_id"] for booking in answer["bookings"]))
    return 0


def cmd_run(args, signals: Signals) -> int:
    if not args.command:
        raise UsageError("Give the command after --, e.g. lz run --vm lz-01 --hours 1 -- make load")
    ask = ask_from(args)
    api = connect(args)

    def show(answer: dict) -> None:
        announce(answer)
        if args.json:  # standard output belongs to the command
            print(json.dumps(answer), file=sys.stderr, flush=True)

    return run(api, connect(args), ask, args.command, signals, poll_seconds(), show)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: given before or after the command, neither copy overwrites the other.
    parser.add_argument("--url", default=argparse.SUPPRESS, help="server (LOADZONE_URL)")
    parser.add_argument("--token", default=argparse.SUPPRESS, help="API token (LOADZONE_TOKEN)")


def _target_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target (one VM, or a group and/or labels)")
    target.add_argument("--vm", metavar="ID")
    target.add_argument("--group", metavar="NAME|ID")
    target.add_argument("--label", metavar="K=V", action="append", help="repeatable; all match")
    parser.add_argument("--count", type=int, metavar="N", help="VMs of the pool, all or none")
    parser.add_argument("--hours", type=int, metavar="H", required=True)
    parser.add_argument("--wait", metavar="DURATION", help="queue and wait, e.g. 90s, 30m, 2h")
    parser.add_argument("--heartbeat", type=int, metavar="SECONDS", help="30 to 3600")
    parser.add_argument("--json", action="store_true", help="the whole answer as JSON")


def parser() -> Parser:
    main = Parser(prog="lz", description="Book LoadZone VMs from pipelines and scripts.")
    main.add_argument("--version", action="version", version=f"lz {__version__}")
    _connection_options(main)
    commands = main.add_subparsers(dest="name", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    def add(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        _connection_options(sub)
        sub.set_defaults(handler=handler)
        return sub

    _target_options(add("book", cmd_book, "book VMs; prints their ids, one a line"))
    _target_options(add("run", cmd_run, "book, run a command with the VMs, release"))
    renew = add("renew", views.cmd_renew, "add hours to my booking of a VM")
    renew.add_argument("vm", metavar="VM")
    renew.add_argument("--hours", type=int, metavar="H", required=True)
    release = add("release", views.cmd_release, "release VMs or bookings")
    release.add_argument("vms", metavar="VM", nargs="*")
    release.add_argument("--booking", type=int, metavar="ID", action="append", default=[])
    add("status", views.cmd_status, "my bookings and waiting requests").add_argument(
        "--json", action="store_true"
    )
    add("queue", views.cmd_queue, "waiting requests in grant order").add_argument(
        "--json", action="store_true"
    )
    return main


def parse(argv: list[str]) -> argparse.Namespace:
    """Arguments; for `run`, everything after the first `--` is the command, untouched."""
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = parser().parse_args(argv)
    if command and args.name != "run":
        raise UsageError(f"lz {args.name} takes no command after --.")
    args.command = command
    return args


def main(argv: list[str] | None = None) -> int:
    signals = Signals()
    signals.install()
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
        return args.handler(args, signals)
    except LzError as error:
        say(error.message)
        return error.exit_code
    except Interrupted as interrupt:
        say("interrupted")
        return 128 + interrupt.signum
