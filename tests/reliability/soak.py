"""Long crash soak, run by hand: the CI crash test for as many minutes as you like.

    python -m tests.reliability.soak --minutes 30
    python -m tests.reliability.soak --minutes 30 --database-url postgresql://postgres@127.0.0.1/lz_soak

Without --database-url it uses a fresh SQLite file in a temporary folder. With one, it adds
its own VMs (prefix "soak-<run>-") and checks only those, so the database need not be empty;
the schema is migrated at the first start. Prints the figures and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ServerProcess
from tests.reliability.harness import ADMIN, crash_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5, help="how long to keep killing")
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--seed", type=int, help="repeat a run's random choices")
    parser.add_argument("--vms", type=int, default=12, help="how many VMs to share")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOADZONE_ENV_FILE", os.devnull)

    with tempfile.TemporaryDirectory(prefix="loadzone-soak-") as folder:
        instance = Path(folder) / "instance"
        db_url = args.database_url or f"sqlite:///{Path(folder) / 'loadzone.db'}"
        report = crash_run(
            lambda: ServerProcess(db_url, instance, admins=ADMIN, sweep_seconds=1),
            db_url,
            until=time.monotonic() + args.minutes * 60,
            seed=args.seed,
            prefix=f"soak-{int(time.time())}-",
            vm_count=args.vms,
            log=lambda line: print(line, flush=True),
        )
    print(report.summary("soak"))
    print(f"soak statuses: {dict(report.statuses)}")
    for problem in report.problems[:100]:
        print("  " + problem)
    return 1 if report.problems or report.lost else 0


if __name__ == "__main__":
    sys.exit(main())
