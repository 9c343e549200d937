"""Fresh, migrated databases and bulk data written straight into them (no HTTP).

Bookings are rows of their own and every audit record names its booking, as the app writes
them. Data sets are built in Python with explicit ids, then bulk-loaded: SQLite with
executemany in batches inside one transaction per table, PostgreSQL with COPY followed by
VACUUM ANALYZE (as autovacuum would) and the id sequences moved past the rows loaded.
"""

from __future__ import annotations

import heapq
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import Engine

from loadzone import create_app
from loadzone.config import database_url, load_settings
from loadzone.extensions import db
from loadzone.reporting import rollup

from .plans import app_on

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/lz_bench"
BATCH = 50_000
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ADMIN = "admin@example.com"
GROUP_COLUMNS = ("id", "name", "name_key")
VM_COLUMNS = ("id", "group_id", "description", "maintenance", "created_at")
BOOKING_COLUMNS = (
    "id",
    "vm_id",
    "owner",
    "start",
    "end",
    "state",
    "ended_at",
    "end_reason",
    "created_at",
    "warned",
)
HISTORY_COLUMNS = (
    "id",
    "at",
    "action",
    "reason",
    "vm_id",
    "user",
    "actor",
    "start",
    "end",
    "booking_id",
)


def pg_url() -> str:
    """The one PostgreSQL database the benchmarks may use (LOADZONE_BENCH_DATABASE_URL)."""
    raw = os.environ.get("LOADZONE_BENCH_DATABASE_URL") or PG_DEFAULT
    return database_url(raw, Path("."))


def _connects(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any driver or network error means: skip PostgreSQL
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def pg_available(url: str) -> str | None:
    """None when the database answers (created first when the server lacks it), else why not."""
    reason = _connects(url)
    if reason is None or "does not exist" not in reason:
        return reason
    name = make_url(url).database
    engine = create_engine(make_url(url).set(database="postgres"))
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f'CREATE DATABASE "{name}"'
            )
    except Exception as exc:  # no right to create it: say why PostgreSQL is skipped
        return f"{reason}; creating it failed: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return _connects(url)


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive(moment: datetime) -> datetime:
    """The storage form: naive UTC (what UtcDateTime writes)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def fresh_database(backend: str, folder: Path) -> str:
    """An empty database at the newest migration: a new SQLite file, or PostgreSQL's public
    schema dropped and recreated in the benchmark database only."""
    folder.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = folder / "loadzone.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = pg_url()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate(url, folder)
    return url


def migrate(url: str, folder: Path) -> None:
    """Build the app once on `url`: create_app runs the Alembic migrations. Then create the
    indexes the models declare that no migration has created yet, so the figures show the
    schema the code is written for (a migration adds them where the app is deployed)."""
    settings = load_settings(
        folder / "instance", database_url=url, rate_limit=False, auth_mode="open"
    )
    app = create_app(settings)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for name in missing_indexes(url):
        print(f"index {name} is declared by the models but no migration made it: created")


def missing_indexes(url: str) -> list[str]:
    """Create the model indexes the database lacks; returns their names."""
    eng = engine(url)
    created = []
    try:
        with eng.begin() as conn:
            present = {
                table: {index["name"] for index in inspect(conn).get_indexes(table)}
                for table in db.metadata.tables
            }
            for table in db.metadata.sorted_tables:
                for index in sorted(table.indexes, key=lambda i: i.name):
                    if index.name not in present.get(table.name, ()):
                        index.create(conn)
                        created.append(index.name)
    finally:
        eng.dispose()
    return created


def engine(url: str) -> Engine:
    return create_engine(url)


# -- bulk loading ------------------------------------------------------------------------


def _stored(value):
    """SQLite: the text form SQLAlchemy's DateTime writes and compares."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def load(url: str, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Bulk-insert plain tuples (naive UTC datetimes) into `table`."""
    eng = engine(url)
    try:
        if eng.dialect.name == "sqlite":
            _sqlite_load(eng, table, columns, rows)
        else:
            _postgres_load(eng, table, columns, rows)
    finally:
        eng.dispose()


def _sqlite_load(eng: Engine, table: str, columns: Sequence[str], rows) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    with eng.begin() as conn:
        # A loading connection only: a cache that holds the indexes being filled (the
        # default 2 MB makes every insert into a large index read pages back), no fsync.
        conn.exec_driver_sql("PRAGMA cache_size = -1048576")
        conn.exec_driver_sql("PRAGMA synchronous = OFF")
        batch = []
        for row in rows:
            batch.append(tuple(_stored(v) for v in row))
            if len(batch) == BATCH:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)


def _postgres_load(eng: Engine, table: str, columns: Sequence[str], rows) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    raw = eng.raw_connection()
    try:
        connection = raw.driver_connection
        cursor = connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        sequence = connection.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')").fetchone()[
            0
        ]
        if sequence and "id" in columns:  # ids were given: the next one comes after them
            connection.execute(
                f"SELECT setval('{sequence}', COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, "
                "false)"
            )
        connection.commit()
        connection.autocommit = True
        connection.execute(f"VACUUM ANALYZE {table}")
        connection.autocommit = False
    finally:
        raw.close()


def next_id(url: str, table: str) -> int:
    eng = engine(url)
    with eng.connect() as conn:
        value = conn.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar()
    eng.dispose()
    return int(value)


def analyze(url: str) -> None:
    """Planner statistics for PostgreSQL tables loaded in bulk (autovacuum would do it)."""
    eng = engine(url)
    if eng.dialect.name == "postgresql":
        with eng.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    eng.dispose()


# -- a pool of VMs, some of them booked now ----------------------------------------------


@dataclass
class VmSet:
    ids: list[str]
    expired: int
    warn_due: int
    booked: int


def pool_rows(
    count: int, *, expired=0, warn_due=0, booked=0, prefix="vm-", now=None
) -> tuple[list[tuple], list[tuple]]:
    """VM rows and the active bookings (without ids) of the first of them: `expired` past
    their end, then `warn_due` inside the default 60-minute warning lead, then `booked`
    ending 2-24 h ahead; the rest are free. Each booking started 24 h before its end."""
    now = naive(now or utcnow())
    rng = random.Random(count)
    vms, bookings = [], []
    for index in range(count):
        vm_id = f"{prefix}{index:06d}"
        vms.append((vm_id, None, f"load generator {index}", False, now - 30 * DAY))
        if index < expired:
            ahead = -timedelta(minutes=rng.uniform(1, 60))
        elif index < expired + warn_due:
            ahead = timedelta(minutes=rng.uniform(5, 50))
        elif index < expired + warn_due + booked:
            ahead = timedelta(hours=rng.uniform(2, 24))
        else:
            continue
        owner = f"user-{index % 200:03d}@example.com"
        end = now + ahead
        start = end - 24 * HOUR
        bookings.append((vm_id, owner, start, end, "active", None, None, start, False))
    return vms, bookings


def insert_vms(url: str, count: int, **kinds) -> VmSet:
    """Insert `count` VMs, their active bookings and a `book` audit record for each (see
    pool_rows for `kinds`)."""
    vms, bookings = pool_rows(count, **kinds)
    load(url, "vms", VM_COLUMNS, vms)
    first_booking, first_record = next_id(url, "bookings"), next_id(url, "history")
    numbered = [(first_booking + k, *row) for k, row in enumerate(bookings)]
    load(url, "bookings", BOOKING_COLUMNS, numbered)
    records = (
        (first_record + k, b[3], "book", None, b[1], b[2], b[2], b[3], b[4], b[0])
        for k, b in enumerate(numbered)
    )
    load(url, "history", HISTORY_COLUMNS, records)
    return VmSet(
        [row[0] for row in vms],
        kinds.get("expired", 0),
        kinds.get("warn_due", 0),
        kinds.get("booked", 0),
    )


# -- a year of audit records, each naming its (ended) booking ------------------------------


@dataclass
class HistorySet:
    count: int
    first_at: datetime
    last_at: datetime
    users: list[str]
    # Ids run from first_id to first_id + count - 1 in time order.
    first_id: int = 1
    bookings: int = 0
    actions: dict[str, int] = field(default_factory=dict)


SESSION_HOURS = (1, 2, 2, 3, 4, 6, 8)


class _Sessions:
    """Bookings told as audit records, one record every `step`: book, perhaps a renewal
    (35%), then a release (half by hand before the end, 40% expired, 10% by an admin).
    A record slot goes to the earliest event that is due, else to a new booking of a VM
    that is free; near the end only releases, so every booking has ended."""

    def __init__(self, vm_ids, users, first_id, first_booking, busy, quiet_after):
        self.rng = random.Random(1)
        self.vm_ids, self.users = vm_ids, users
        self.first_id, self.next_booking = first_id, first_booking
        self.busy, self.quiet_after = busy, quiet_after
        self.pending: list = []  # (due, tie, kind, session): one event per open booking
        self.open: set[str] = set()
        self.records: list[tuple] = []
        self.bookings: list[tuple] = []

    def _schedule(self, due, kind, session) -> None:
        heapq.heappush(self.pending, (due, len(self.records), kind, session))

    def _plan_release(self, session, now) -> None:
        roll = self.rng.random()
        if roll < 0.5:
            reason, due = "manual", now + (session["end"] - now) * self.rng.uniform(0.1, 0.95)
        elif roll < 0.9:
            reason, due = "expired", session["end"]
        else:
            reason, due = "admin", now + (session["end"] - now) * self.rng.random()
        session["reason"] = reason
        self._schedule(due, "release", session)

    def _record(self, at, action, reason, session, actor, start, end) -> None:
        rid = self.first_id + len(self.records)
        vm_id, owner = session["vm"], session["owner"]
        self.records.append(
            (rid, at, action, reason, vm_id, owner, actor, start, end, session["id"])
        )

    def book(self, at) -> None:
        rng = self.rng
        while True:
            vm_id = self.vm_ids[rng.randrange(len(self.vm_ids))]
            if vm_id not in self.open and not (at >= self.quiet_after and vm_id in self.busy):
                break
        owner = self.users[rng.randrange(len(self.users))]
        hours = SESSION_HOURS[rng.randrange(len(SESSION_HOURS))]
        session = {"id": self.next_booking, "vm": vm_id, "owner": owner, "start": at}
        session["end"] = at + hours * HOUR
        self.next_booking += 1
        self.open.add(vm_id)
        self._record(at, "book", None, session, owner, at, session["end"])
        if rng.random() < 0.35:
            self._schedule(at + hours * HOUR * rng.uniform(0.3, 0.9), "renew", session)
        else:
            self._plan_release(session, at)

    def event(self, at, force: bool) -> None:
        _, _, kind, session = heapq.heappop(self.pending)
        if kind == "renew" and not force:
            session["end"] += self.rng.choice((1, 2, 3)) * HOUR
            owner = session["owner"]
            self._record(at, "renew", None, session, owner, at, session["end"])
            self._plan_release(session, at)
            return
        reason = session.get("reason", "manual")
        if reason == "expired" and at < session["end"]:
            reason = "manual"  # closed early to end the history with every booking ended
        actor = {"manual": session["owner"], "expired": None, "admin": ADMIN}[reason]
        self._record(at, "release", reason, session, actor, at, None)
        self.open.discard(session["vm"])
        warned = reason == "expired"
        start, end = session["start"], session["end"]
        self.bookings.append(
            (session["id"], session["vm"], session["owner"], start, end, "ended", at, reason)
            + (start, warned)
        )

    def run(self, count: int, base: datetime, step: timedelta) -> None:
        for index in range(count):
            at = base + step * index
            force = len(self.pending) >= count - index
            if self.pending and (force or self.pending[0][0] <= at):
                self.event(at, force)
            else:
                self.book(at)
        self.bookings.sort()


def insert_history(
    url: str, count: int, vm_ids: list[str], users: list[str], busy: Iterable[str] = ()
) -> HistorySet:
    """`count` audit records spread over the past year, and the ended bookings they tell of
    (about 43% book, 15% renew, 43% release). VMs in `busy` (held now) get no booking in
    the last three days."""
    last_at = utcnow() - timedelta(minutes=1)
    first_at = last_at - timedelta(days=365)
    step = (last_at - first_at) / max(count, 1)
    first_id, first_booking = next_id(url, "history"), next_id(url, "bookings")
    sessions = _Sessions(
        vm_ids, users, first_id, first_booking, set(busy), naive(last_at) - 3 * DAY
    )
    sessions.run(count, naive(first_at), step)
    load(url, "bookings", BOOKING_COLUMNS, sessions.bookings)
    load(url, "history", HISTORY_COLUMNS, sessions.records)
    actions: dict[str, int] = {}
    for record in sessions.records:
        actions[record[2]] = actions.get(record[2], 0) + 1
    return HistorySet(count, first_at, last_at, users, first_id, len(sessions.bookings), actions)


# -- the calendar and usage data set: bookings of a small pool over a year ----------------


@dataclass
class BookingSet:
    now: datetime  # aware UTC: the instant the data set was built around
    vm_ids: list[str]
    users: list[str]
    groups: int
    count: int
    records: int
    states: dict[str, int]


PAST_HOURS = (1, 1, 1, 2, 2, 3, 4, 8)
RESERVE_HOURS = (1, 2, 2, 3, 4, 8)


class _Calendar:
    """Per VM: back-to-back bookings over the past year (3% cancelled reservations; of the
    ended ones 45% released by hand, 45% expired, 5% idle, 5% by an admin; 30% reserved
    ahead before they started), an active booking on 60% of the VMs now, and reservations
    over the next 30 days, dense in the next days and thinning out. People book mostly
    (80%) the VMs of their own group."""

    def __init__(self, vms: int, users: int, groups: int, now: datetime, seed: int = 7):
        self.rng = random.Random(seed)
        self.now = now
        self.vm_ids = [f"vm-{index:04d}" for index in range(vms)]
        # Every (groups + 1)-th VM belongs to no group.
        self.group_of = {
            vm_id: (index % (groups + 1)) + 1 if index % (groups + 1) < groups else None
            for index, vm_id in enumerate(self.vm_ids)
        }
        self.users = [f"user-{k:03d}@example.com" for k in range(users)]
        self.members = {g: self.users[g - 1 :: groups] for g in range(1, groups + 1)}
        self.groups = groups
        self.rows: list[list] = []  # [vm, owner, start, end, state, ended_at, reason, created]

    def owner(self, vm_id: str) -> str:
        group = self.group_of[vm_id]
        if group is not None and self.rng.random() < 0.8:
            return self.rng.choice(self.members[group])
        return self.rng.choice(self.users)

    def ahead(self, vm_id: str) -> datetime:
        """The active booking (60% of VMs) and reservations; returns where the past ends."""
        rng, now = self.rng, self.now
        horizon = now + 30 * DAY
        past_until = now - timedelta(minutes=rng.uniform(5, 180))
        t = now + timedelta(minutes=rng.uniform(0, 120))
        if rng.random() < 0.6:
            end = now + timedelta(minutes=rng.uniform(15, 480))
            owner = self.owner(vm_id)
            self.rows.append([vm_id, owner, past_until, end, "active", None, None, past_until])
            t = end
        while True:
            days = (t - now) / DAY
            start = t + HOUR * rng.expovariate(1 / (3 + 2 * days))
            end = start + HOUR * rng.choice(RESERVE_HOURS)
            if end > horizon:
                return past_until
            made = now - DAY * rng.uniform(0, min(10.0, 30 - (start - now) / DAY))
            self.rows.append([vm_id, self.owner(vm_id), start, end, "reserved", None, None, made])
            t = end

    def past(self, vm_id: str, count: int, since: datetime, until: datetime) -> None:
        rng = self.rng
        lengths = [HOUR * rng.choice(PAST_HOURS) for _ in range(count)]
        gaps = [rng.expovariate(1.0) for _ in range(count)]
        room = (until - since) - sum(lengths, timedelta())
        if room <= timedelta():
            raise ValueError("too many bookings for the span: use more VMs")
        scale = room / sum(gaps)
        t = since
        for length, gap in zip(lengths, gaps, strict=True):
            start = t + scale * gap
            end = t = start + length
            created = start
            if rng.random() < 0.3:
                created = start - HOUR * rng.uniform(1, 240)
            roll = rng.random()
            if roll < 0.03:
                created = min(created, start - HOUR)
                row = [vm_id, self.owner(vm_id), start, end, "cancelled"]
                row += [created + (start - created) * rng.random(), "cancelled", created]
            else:
                if roll < 0.48:
                    reason, ended = "manual", start + length * rng.uniform(0.1, 0.95)
                elif roll < 0.93:
                    reason, ended = "expired", end + timedelta(seconds=rng.uniform(0, 2))
                elif roll < 0.965:
                    reason, ended = "idle", start + length * rng.uniform(0.3, 0.95)
                else:
                    reason, ended = "admin", start + length * rng.random()
                row = [vm_id, self.owner(vm_id), start, end, "ended", ended, reason, created]
            self.rows.append(row)

    def build(self, count: int, days: int) -> None:
        ends = {vm_id: self.ahead(vm_id) for vm_id in self.vm_ids}
        left = count - len(self.rows)
        share, extra = divmod(left, len(self.vm_ids))
        for index, vm_id in enumerate(self.vm_ids):
            n = share + (index < extra)
            self.past(vm_id, n, self.now - days * DAY, ends[vm_id])
        # Ids follow creation, as the app hands them out: the table is in that order too.
        self.rows.sort(key=lambda row: row[7])

    def history(self, first_booking: int) -> list[tuple]:
        """Audit records as the app writes them, oldest first (ids not yet assigned)."""
        out = []
        for offset, (vm_id, owner, start, end, state, ended, reason, made) in enumerate(self.rows):
            bid = first_booking + offset
            if made < start:  # reserved ahead, then started by the scheduler
                out.append((made, "reserve", None, vm_id, owner, owner, start, end, bid))
                if state in ("active", "ended"):
                    out.append((start, "book", None, vm_id, owner, None, start, end, bid))
            else:
                out.append((start, "book", None, vm_id, owner, owner, start, end, bid))
            if state == "cancelled":
                out.append((ended, "cancel", None, vm_id, owner, owner, start, end, bid))
            elif state == "ended":
                actor = {"manual": owner, "expired": None, "idle": None, "admin": ADMIN}[reason]
                out.append((ended, "release", reason, vm_id, owner, actor, ended, None, bid))
        out.sort(key=lambda record: record[0])
        return out


def insert_bookings(
    url: str, count: int, vms: int = 500, users: int = 200, groups: int = 10, days: int = 365
) -> BookingSet:
    """`count` bookings of `vms` VMs (see _Calendar), their groups, VMs and audit records."""
    now = utcnow()
    calendar = _Calendar(vms, users, groups, naive(now))
    calendar.build(count, days)
    load(
        url,
        "groups",
        GROUP_COLUMNS,
        [(g, f"Team {g}", f"team {g}") for g in range(1, groups + 1)],
    )
    created = naive(now) - (days + 30) * DAY
    load(
        url,
        "vms",
        VM_COLUMNS,
        [(v, calendar.group_of[v], f"load generator {v}", False, created) for v in calendar.vm_ids],
    )
    first_booking = next_id(url, "bookings")
    load(
        url,
        "bookings",
        BOOKING_COLUMNS,
        (
            (
                first_booking + k,
                vm,
                owner,
                start,
                end,
                state,
                ended,
                reason,
                made,
                reason == "expired",
            )
            for k, (vm, owner, start, end, state, ended, reason, made) in enumerate(calendar.rows)
        ),
    )
    records = calendar.history(first_booking)
    first_record = next_id(url, "history")
    load(url, "history", HISTORY_COLUMNS, ((first_record + k, *r) for k, r in enumerate(records)))
    states: dict[str, int] = {}
    for row in calendar.rows:
        states[row[4]] = states.get(row[4], 0) + 1
    return BookingSet(
        now, calendar.vm_ids, calendar.users, groups, len(calendar.rows), len(records), states
    )


def roll_up(url: str, folder: Path) -> int:
    """Roll up the usage days of bookings written straight into the database."""
    with app_on(url, folder):
        days = rollup.advance(db.session, utcnow())
        db.session.commit()
    return days
