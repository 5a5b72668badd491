"""The engine worker: the single writer. It applies the event log in order and commits what the engine did.

One worker runs per shop. It holds a lock (a PostgreSQL advisory lock on a connection of its own; a lock file next to
the SQLite database), so a second worker waits instead of writing. On start it builds the engine from the
ShopSetup row (made from the shop file on the very first start) and replays the events already applied, then
loops: read up to ``batch_size`` pending events after ``WorkerPosition`` in position order, apply each (the rule
in ``service.feed``), and commit in ONE database transaction:

    EventOutcome rows            applied or refused (with the reason), the config version used, the facts
    LedgerEntry rows             every entry, with the account's balance after it
    LedgerTransaction rows       written after their entries: the database refuses one whose entries do not balance
    MemberNotice rows            each member's money arrivals in these transactions (``service.notices``)
    MemberHistory rows           the facts about ranks, referrers and bindings (``service.member_history``)
    ReferralCount rows           the referral counts the batch changed (``Engine.recounted``)
    StatementMonth rows          the entries added to each member's monthly totals (``service.statement_months``)
    DailyFigure rows             the shop's figures per business day, for the dashboard (``service.daily_figures``)
    LeaderboardFigure rows       each member's running figures per board and period (``service.leaderboards``)
    Balance rows                 the accounts the batch moved
    MemberState, ProductState, OrderState, WithdrawalState, CampaignState   the rows the batch touched
    LiabilityDay, LiabilityLeaf  at each applied close_day, the day's proof of liabilities (``service.liability_days``)
    WorkerPosition               the last position applied, and the engine's transaction count there

Killed at any instant, it loses nothing and duplicates nothing: a batch is committed whole or not at all, and the
restarted worker replays up to the committed position and continues after it. Each commit also checks that
``WorkerPosition`` is still where this worker left it (a fence): a writer that lost its lock cannot commit.

Example: events 1-500 pending, the worker applies them and commits once; killed before the commit, nothing of them
is in the database and the next worker applies them again, from the same state, to the same result.

Pending means committed by the web layer: on PostgreSQL positions come from a sequence and concurrent appends may
commit out of order, so the worker only reads up to a high-water mark taken under a SHARE lock on the log (every
append that drew a lower position has committed or rolled back by then).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from ..engine import tune_gc
from ..engine.core import Engine
from ..engine.events import CloseDay
from ..engine.ledger import NON_CASH_UNITS, Account, Transaction
from ..engine.module import Module
from ..engine.registry import new_engine
from .bulk import insert_rows, json_default, upsert_rows
from .daily_figures import ADDED as DAY_ADDED
from .daily_figures import COLUMNS as DAY_COLUMNS
from .daily_figures import KEY as DAY_KEY
from .daily_figures import DayFigures, RankMemory
from .feed import Applied, Touched, apply_logged, next_close_day, shop_of
from .leaderboards import batch_rows as board_rows
from .leaderboards import contest_notice_rows, write_contest_notices
from .leaderboards import write as write_boards
from .liability_days import DayProof, day_proof, liabilities_secret, write_day_proofs
from .member_history import COLUMNS as HISTORY_COLUMNS
from .member_history import history_rows
from .notices import COLUMNS as NOTICE_COLUMNS
from .notices import notice_rows
from .projections import (
    all_campaign_ids,
    campaign_row,
    member_row,
    module_rows,
    order_row,
    product_row,
    withdrawal_row,
)
from .shopfile import ensure_shop_setup
from .statement_months import ADDED as MONTH_ADDED
from .statement_months import COLUMNS as MONTH_COLUMNS
from .statement_months import KEY as MONTH_KEY
from .statement_months import batch_rows as month_rows
from .store.models import (
    CampaignState,
    LoggedEvent,
    MemberState,
    ModuleState,
    OrderState,
    ProductState,
    ShopSetup,
    WithdrawalState,
    WorkerPosition,
)

log = logging.getLogger("liandong.worker")

#: The advisory lock's key: "liandong" as a big-endian integer, halved to fit a signed bigint.
LOCK_KEY = int.from_bytes(b"liandong", "big") >> 1
BATCH_SIZE = 500
LogRow = tuple[int, str, dict[str, Any], dt.datetime, str]


class FenceError(RuntimeError):
    """WorkerPosition moved under this worker: another writer committed. This worker's engine is stale."""


class ReplayMismatch(RuntimeError):
    """Replaying the applied events did not give the committed ledger (a changed engine or a bug): see verify."""


# --- the lock ------------------------------------------------------------------------------------------------------


class WorkerLock(Protocol):
    def acquire(self, blocking: bool = True) -> bool: ...
    def release(self) -> None: ...
    def held(self) -> bool: ...


class FileLock:
    """``flock`` on a file next to the SQLite database; the kernel releases it when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held(self) -> bool:
        return self._fd is not None


class AdvisoryLock:
    """``pg_advisory_lock`` on a connection of its own; PostgreSQL releases it when that session ends."""

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.params: dict[str, Any] = {
            "dbname": settings_dict["NAME"], "user": settings_dict.get("USER") or None,
            "password": settings_dict.get("PASSWORD") or None, "host": settings_dict.get("HOST") or None,
            "port": settings_dict.get("PORT") or None,
        }
        self._conn: Any = None

    def acquire(self, blocking: bool = True) -> bool:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(**{k: v for k, v in self.params.items() if v is not None},
                                         autocommit=True, application_name="liandong-worker-lock")
        if blocking:
            self._conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            return True
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if not (row and row[0]):
            self.release()
            return False
        return True

    def release(self) -> None:
        """End the lock's session: that releases the lock and leaves no idle connection behind."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def held(self) -> bool:
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            ).fetchone()
        except Exception:
            return False
        return bool(row and row[0])


def lock_for(using: str = "default") -> WorkerLock:
    settings_dict = connections[using].settings_dict
    if connections[using].vendor == "postgresql":
        return AdvisoryLock(settings_dict)
    name = str(settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:  # a test database: one per process
        safe = hashlib.sha256(name.encode()).hexdigest()[:16]
        return FileLock(Path(tempfile.gettempdir()) / f"liandong-{os.getpid()}-{safe}.worker-lock")
    return FileLock(Path(name + ".worker-lock"))


# --- reading the log -------------------------------------------------------------------------------------------------


def committed_high_water(using: str = "default", after: int = 0) -> int:
    """The highest position below which every append has committed or rolled back (see the module docstring).
    When nothing after ``after`` is visible yet, the log is not locked (an idle worker polls without blocking
    appends)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(position), 0) FROM store_loggedevent")
        row = cursor.fetchone()
    visible = int(row[0]) if row else 0
    if visible <= after or connection.vendor != "postgresql":
        return visible
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE store_loggedevent IN SHARE MODE")
        cursor.execute("SELECT COALESCE(MAX(position), 0) FROM store_loggedevent")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def read_log(after: int, up_to: int | None, limit: int, using: str = "default") -> list[LogRow]:
    rows = LoggedEvent.objects.using(using).filter(position__gt=after).order_by("position")
    if up_to is not None:
        rows = rows.filter(position__lte=up_to)
    return list(rows.values_list("position", "verb", "payload", "created_at", "key")[:limit])


def build_engine(setup: ShopSetup) -> Engine:
    return new_engine(shop_of(setup.plans, setup.timezone, setup.start))


def replay_log(engine: Engine, auto_close_days: bool, up_to: int, using: str = "default",
               chunk: int = 5000) -> Iterator[list[Applied]]:
    """Apply the log's events up to position ``up_to`` to ``engine``, yielding what each chunk did."""
    after = 0
    while after < up_to:
        rows = read_log(after, up_to, chunk, using)
        if not rows:
            return
        applied = [apply_logged(engine, pos, verb, payload, created, auto_close_days)
                   for pos, verb, payload, created, _key in rows]
        engine.ledger.transactions.clear()
        yield applied
        after = rows[-1][0]


# --- the worker ----------------------------------------------------------------------------------------------------


class Worker:
    """Applies the log and commits. ``drain()`` applies what is pending now; ``run_forever()`` keeps at it."""

    def __init__(self, using: str = "default", batch_size: int = BATCH_SIZE, tick_seconds: float = 60.0) -> None:
        self.using = using
        self.batch_size = batch_size
        self.tick_seconds = tick_seconds
        self.lock = lock_for(using)
        self.database = str(connections[using].settings_dict["NAME"])
        self.engine: Engine | None = None
        self.auto_close_days = False
        self.position = 0
        self._fingerprint: tuple[Any, ...] | None = None
        self._setup_signature = ""
        self._campaign_views: dict[str, Any] = {}
        self._member_hashes: dict[str, int] = {}
        self._ranks: RankMemory | None = None  # the ranks the daily figures compare with (``daily_figures``)
        self.replay_seconds = 0.0

    @contextmanager
    def locked(self, stop: threading.Event | None = None, poll: float = 0.2) -> Iterator[bool]:
        """Hold the worker lock inside the block; wait for it while another worker holds it. With ``stop``, give
        up waiting when it is set (the block then gets False and must not write)."""
        got = self.lock.acquire(blocking=False)
        if not got:
            log.info("another worker holds the lock; waiting for it")
            if stop is None:
                got = self.lock.acquire(blocking=True)
            else:
                while not got and not stop.wait(poll):
                    got = self.lock.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self.lock.release()

    # --- state ---
    def load(self) -> Engine:
        """Build the engine and replay every applied event (measured: ``replay_seconds``)."""
        started = time.perf_counter()
        setup = ensure_shop_setup()
        mark, _ = WorkerPosition.objects.using(self.using).get_or_create(id=1)
        engine = build_engine(setup)
        events = 0
        for chunk in replay_log(engine, setup.auto_close_days, mark.position, self.using):
            events += len(chunk)
        if engine.ledger.count != mark.transactions:
            raise ReplayMismatch(
                f"replaying events up to position {mark.position} gives {engine.ledger.count} transactions, "
                f"the database holds {mark.transactions}: run `liandong verify`")
        engine.track_referral_counts()  # from here on, the members whose referral counts change are written
        self.engine, self.position, self.auto_close_days = engine, mark.position, setup.auto_close_days
        self._campaign_views, self._member_hashes = {}, {}
        self._ranks = RankMemory.of(engine)
        self._fingerprint = self._read_fingerprint()
        self._setup_signature = self._fingerprint[0]
        self.replay_seconds = time.perf_counter() - started
        log.info("engine rebuilt: %d events replayed up to position %d (%d transactions) in %.2f s",
                 events, mark.position, mark.transactions, self.replay_seconds)
        return engine

    def _read_fingerprint(self) -> tuple[Any, ...]:
        """What identifies the database state this worker's engine stands for: the shop, the position and the
        transaction count there, and the key of the event at that position."""
        setup = ShopSetup.objects.using(self.using).filter(id=1).values_list(
            "plans", "timezone", "start", "auto_close_days").first()
        mark = WorkerPosition.objects.using(self.using).filter(id=1).values_list("position", "transactions").first()
        key = LoggedEvent.objects.using(self.using).filter(position=mark[0] if mark else 0).values_list(
            "key", flat=True).first()
        return (json.dumps(setup, default=str, sort_keys=True), mark, key)

    def refresh(self) -> Engine:
        """The engine, rebuilt if the database is not where this worker left it (another writer, a test rollback)."""
        if self.engine is None or self._read_fingerprint() != self._fingerprint:
            return self.load()
        return self.engine

    # --- one batch ---
    def step(self, limit: int | None = None) -> int:
        """Apply and commit up to ``limit`` (the batch size) pending events; return how many."""
        batch = self.next_batch(limit)
        if batch is None:
            return 0
        try:
            write_batch(batch, self.using)
        except BaseException:
            self.engine = None  # it ran ahead of the database: rebuild before the next batch
            raise
        self._fingerprint = (self._setup_signature, (batch.last, batch.transaction_count), batch.last_key)
        return len(batch.outcomes)

    def next_batch(self, limit: int | None = None) -> Batch | None:
        """Read the pending events after what this worker applied, apply them, and build the rows to commit."""
        engine = self.engine or self.load()
        rows = read_log(self.position, committed_high_water(self.using, self.position), limit or self.batch_size,
                        self.using)
        if not rows:
            return None
        try:
            assert self._ranks is not None
            figures = DayFigures(engine.tz, self._ranks)
            applied, proofs = [], []
            for pos, verb, payload, created, _key in rows:
                item = apply_logged(engine, pos, verb, payload, created, self.auto_close_days)
                figures.observe(engine, item)  # the ranks right after each event
                applied.append(item)
                if item.applied and isinstance(item.event, CloseDay):  # the proof of liabilities at the close
                    proofs.append(day_proof(engine, item.event.day, pos, liabilities_secret()))
            batch = prepare_batch(engine, applied, self.position, rows[-1][4], self._campaign_views,
                                  self._member_hashes, figures)
            batch.liabilities = proofs
        except BaseException:
            self.engine = None
            raise
        engine.ledger.transactions.clear()
        self.position = batch.last
        return batch

    def drain(self, max_events: int | None = None) -> int:
        done = 0
        while max_events is None or done < max_events:
            n = self.step(self.batch_size if max_events is None else min(self.batch_size, max_events - done))
            if n == 0:
                break
            done += n
        return done

    # --- running ---
    def run_forever(self, stop: threading.Event | None = None, idle_max: float = 0.025) -> None:
        """Hold the lock and apply events as they come until ``stop`` is set (SIGTERM/Ctrl-C in the command).

        Pipelined: while one batch commits (in a thread of its own, with its own database connection), the engine
        applies the next; at most one batch is in flight, and batches commit in order. If a commit fails, the
        engine (which ran ahead) is rebuilt from the database before anything else is applied."""
        stop = stop or threading.Event()
        tune_gc()
        with self.locked(stop) as got, ThreadPoolExecutor(1, thread_name_prefix="liandong-commit") as committer:
            if not got:
                return
            log.info("worker holds the lock (%s)", type(self.lock).__name__)
            pipeline = _Pipeline(committer, self.using)
            idle, clock_checked = 0.001, 0.0
            while not stop.is_set():
                try:
                    batch = self.next_batch()
                    if batch is not None:
                        pipeline.submit(batch)
                        idle = 0.001
                        if time.monotonic() - clock_checked >= 1.0:  # a busy shop's days close on time too
                            clock_checked = time.monotonic()
                            self.log_clock_events(timezone.now())
                        continue
                    pipeline.finish()
                    clock_checked = time.monotonic()
                    self.log_clock_events(timezone.now())
                except (FenceError, DatabaseError):
                    log.exception("commit failed; rebuilding the engine from the database")
                    pipeline.abandon()
                    self.engine = None
                    connections[self.using].close()
                    stop.wait(1.0)
                stop.wait(idle)
                idle = min(idle * 2, idle_max)
            pipeline.finish()
            committer.submit(connections.close_all).result()

    def log_clock_events(self, now: dt.datetime) -> None:
        """When idle, and each second when busy: log the close of a business day that has ended
        (``auto_close_days``), and a ``tick`` each minute while a module has deadlines (``on_clock``), so deadlines
        pass without waiting for the next order. The tick's key names its minute (its second when ``tick_seconds`` is
        under a minute, so a shorter tick really ticks that often), so two workers' or a restart's ticks of the same
        period are one event."""
        engine = self.engine
        if engine is None:
            return
        if self.auto_close_days:
            day = next_close_day(engine)
            if now > engine.end_of_day(day) + dt.timedelta(seconds=1):
                append_system_event("close_day", {"day": day.isoformat()}, f"system:close_day:{day.isoformat()}")
        has_deadlines = any(type(m).on_clock is not Module.on_clock for m in engine.modules.values())
        if has_deadlines and self.tick_seconds > 0 and now - engine.clock >= dt.timedelta(seconds=self.tick_seconds):
            period = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M" if self.tick_seconds >= 60 else "%Y%m%dT%H%M%S")
            append_system_event("tick", {}, f"system:tick:{period}")


def _hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def append_system_event(verb: str, fields: dict[str, Any], key: str) -> None:
    from .log import append_event

    append_event(verb, fields, key=key, request_hash=_hash(fields), actor="system")


# --- writing -------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Batch:
    """Everything one commit writes, as plain rows (built from the engine while it stood at ``last``)."""

    after: int  # the committed position this batch follows (the fence)
    last: int
    last_key: str
    transaction_count: int
    outcomes: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    transactions: list[tuple[Any, ...]]
    balances: list[tuple[Any, ...]]
    notices: list[tuple[Any, ...]]  # the members' income notices of these transactions (``service.notices``)
    months: list[tuple[Any, ...]]  # what the entries add to the monthly totals (``service.statement_months``)
    days: list[tuple[Any, ...]]  # what the batch adds to the shop's daily figures (``service.daily_figures``)
    projections: list[tuple[Any, list[dict[str, Any]], str]]  # (model, rows, unique field)
    # the proof of liabilities of each day closed in the batch (``service.liability_days``)
    liabilities: list[DayProof] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)  # ``service.member_history``
    counts: list[tuple[Any, ...]] = field(default_factory=list)  # (member, referrals, descendants, team)
    # what the batch adds to the members' leaderboard figures (``service.leaderboards``)
    boards: list[tuple[Any, ...]] = field(default_factory=list)
    # the team contests' day standings for each team member (``service.leaderboards``)
    contest_notices: list[tuple[Any, ...]] = field(default_factory=list)


class _Pipeline:
    """At most one batch committing in the background; the next waits for it, so commits keep their order."""

    def __init__(self, committer: ThreadPoolExecutor, using: str) -> None:
        self.committer, self.using = committer, using
        self.in_flight: Future[None] | None = None

    def submit(self, batch: Batch) -> None:
        self.finish()
        self.in_flight = self.committer.submit(write_batch, batch, self.using)

    def finish(self) -> None:
        """Wait for the batch in flight; its failure is raised here."""
        if self.in_flight is not None:
            in_flight, self.in_flight = self.in_flight, None
            in_flight.result()

    def abandon(self) -> None:
        if self.in_flight is not None:
            wait([self.in_flight])
            self.in_flight = None


def changed_members(engine: Engine, members: set[str], member_hashes: dict[str, int]) -> list[dict[str, Any]]:
    """The member rows of ``members`` that differ from what this worker last wrote (``member_hashes``, updated):
    a reward changes the beneficiary's view, but the referrers looked at again usually show the same."""
    rows = []
    for member in sorted(members):
        row = member_row(engine, member)
        for name in ("view", "reads", "operator_reads"):
            row[name] = json.dumps(row[name], ensure_ascii=False, separators=(",", ":"), default=json_default)
        digest = hash((row["view"], row["reads"], row["operator_reads"], row["rank"], row["team"]))
        if member_hashes.get(member) != digest:
            member_hashes[member] = digest
            rows.append(row)
    return rows


def prepare_batch(engine: Engine, applied: Sequence[Applied], after: int, last_key: str,
                  campaign_views: dict[str, Any], member_hashes: dict[str, int],
                  figures: DayFigures | None = None) -> Batch:
    """The rows of one commit. ``campaign_views`` and ``member_hashes`` (what was last written) are updated.
    ``figures``: the daily figures the events were observed into (their entries are added here)."""
    touched = Touched()
    for item in applied:
        touched.add(engine, item)
    touched.close(engine)
    entries, transactions, balances = ledger_rows(engine, applied)
    notices = notice_rows((txn, transaction_instant(txn, engine.clock)) for a in applied for txn in a.transactions)
    months = month_rows(entries, transactions, engine.tz)
    if figures is None:
        figures = DayFigures(engine.tz, RankMemory([]))
    figures.add_batch(entries, transactions)
    now = timezone.now()
    outcomes = [(a.position, a.applied, a.refusal.to_json() if a.refusal is not None else None, a.facts,
                 a.config_version, now) for a in applied]
    campaigns = []
    # each campaign until it has been written closed (and a closed one again when its orders moved: a refund after
    # the close changes its figures); only when it changed
    reopened = {order.campaign for o in touched.orders if (order := engine.orders.get(o)) is not None
                and order.campaign is not None}
    for cid in all_campaign_ids(engine):
        last = campaign_views.get(cid)
        if last is not None and last["status"] == "closed" and cid not in reopened:
            continue
        row = campaign_row(engine, cid)
        if row is not None and row != last:
            campaigns.append(row)
            campaign_views[cid] = row
    modules = []
    for row in module_rows(engine):  # a module's shop-wide read, when it changed
        key = f"@module:{row['kind']}"
        if campaign_views.get(key) != row:
            modules.append(row)
            campaign_views[key] = row
    projections: list[tuple[Any, list[dict[str, Any]], str]] = [
        (MemberState, changed_members(engine, touched.members, member_hashes), "member"),
        (ProductState, [product_row(engine, sku) for sku in sorted(touched.products)], "sku"),
        (OrderState, [order_row(engine, o) for o in sorted(touched.orders)], "order"),
        (WithdrawalState, [withdrawal_row(engine, w) for w in sorted(touched.withdrawals)], "withdrawal"),
        (CampaignState, campaigns, "campaign"),
        (ModuleState, modules, "kind"),
    ]
    history = history_rows((a.position, a.event.at, a.facts) for a in applied if a.event is not None and a.facts)
    counts: list[tuple[Any, ...]] = []
    if engine.recounted:
        members, team_size = engine.members, engine.ask("team_size")
        counts = [(m, len(members[m].children), members[m].descendants, team_size(engine, m) if team_size else 0)
                  for m in sorted(engine.recounted)]
        engine.recounted.clear()
    return Batch(after, applied[-1].position, last_key, engine.ledger.count, outcomes, entries, transactions,
                 balances, notices, months, figures.rows(), projections, history=history, counts=counts,
                 boards=board_rows(engine, applied), contest_notices=contest_notice_rows(engine, applied))


@dataclass
class CrashInsideCommit:
    """The crash test's fault hook: ``LIANDONG_CRASH_INSIDE_COMMIT=POINT:N:MARKER`` makes this process, in the N-th
    batch it writes, append ``POINT AFTER LAST`` (the batch's positions) to the file MARKER and SIGKILL itself inside
    the batch's database transaction, right after the rows POINT names are written (``outcomes``, ``entries``,
    ``transactions``, ``balances``, ``projections``, or ``position``: the position updated, not yet committed).
    Unset, as everywhere but the crash test, there is no hook and each point costs one ``is None`` test."""

    POINTS = ("outcomes", "entries", "transactions", "balances", "projections", "position")

    point: str
    batch: int
    marker: Path
    written: int = 0

    @classmethod
    def from_environment(cls) -> CrashInsideCommit | None:
        value = os.environ.get("LIANDONG_CRASH_INSIDE_COMMIT")
        if not value:
            return None
        point, batch, marker = value.split(":", 2)
        if point not in cls.POINTS:
            raise ValueError(f"LIANDONG_CRASH_INSIDE_COMMIT: unknown point {point!r}, expected one of {cls.POINTS}")
        return cls(point, int(batch), Path(marker))

    def reached(self, point: str, batch: Batch) -> None:
        if point == self.point and self.written == self.batch:
            with self.marker.open("a", encoding="utf-8") as marker:
                marker.write(f"{point} {batch.after} {batch.last}\n")
                marker.flush()
                os.fsync(marker.fileno())
            os.kill(os.getpid(), signal.SIGKILL)


_crash_inside_commit = CrashInsideCommit.from_environment()


def write_batch(batch: Batch, using: str) -> None:
    """Commit one batch in one database transaction, after checking the fence."""
    connection = connections[using]
    crash = _crash_inside_commit  # None but in the crash test
    if crash is not None:
        crash.written += 1
    try:
        with transaction.atomic(using=using):
            mark = WorkerPosition.objects.using(using).select_for_update().get(id=1)
            if mark.position != batch.after:
                raise FenceError(f"WorkerPosition is {mark.position}, this batch follows {batch.after}")
            insert_rows(connection, "store_eventoutcome",
                        ("event_id", "applied", "refusal", "facts", "config_version", "applied_at"), batch.outcomes)
            if crash is not None:
                crash.reached("outcomes", batch)
            insert_rows(connection, "store_ledgerentry",
                        ("transaction_id", "owner", "book", "unit", "amount", "balance_after"), batch.entries)
            if crash is not None:
                crash.reached("entries", batch)
            insert_rows(connection, "store_ledgertransaction",
                        ("id", "event_id", "rule", "plan", "order", "source", "reverses", "ref", "at"),
                        batch.transactions)
            insert_rows(connection, "store_membernotice", NOTICE_COLUMNS, batch.notices)  # after their transactions
            upsert_rows(connection, "store_statementmonth", MONTH_COLUMNS, MONTH_KEY, batch.months, added=MONTH_ADDED)
            upsert_rows(connection, "store_dailyfigure", DAY_COLUMNS, DAY_KEY, batch.days, added=DAY_ADDED)
            write_boards(connection, batch.boards)
            write_contest_notices(connection, batch.contest_notices)
            if crash is not None:
                crash.reached("transactions", batch)
            upsert_rows(connection, "store_balance", ("owner", "book", "amount"), ("owner", "book"), batch.balances)
            if crash is not None:
                crash.reached("balances", batch)
            for model, rows, unique in batch.projections:
                write_rows(model, rows, unique, using)
            write_day_proofs(connection, batch.liabilities, using)
            insert_rows(connection, "store_memberhistory", HISTORY_COLUMNS, batch.history)
            upsert_rows(connection, "store_referralcount", ("member", "referrals", "descendants", "team_size"),
                        ("member",), batch.counts)
            if crash is not None:
                crash.reached("projections", batch)
            WorkerPosition.objects.using(using).filter(id=1).update(
                position=batch.last, transactions=batch.transaction_count, updated_at=timezone.now())
            if crash is not None:
                crash.reached("position", batch)
    except DatabaseError:
        connection.close()  # it may be broken; the next use opens a new one
        raise


def transaction_instant(txn: Transaction, fallback: dt.datetime) -> dt.datetime:
    at: Any = txn.at
    if isinstance(at, dt.datetime):
        return at
    if isinstance(at, int) and at:
        return dt.datetime.fromtimestamp(at, dt.UTC)
    return fallback


def ledger_rows(engine: Engine, applied: Sequence[Applied]
                ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Entries (each with its account's balance after it: the database writes them before their transactions),
    transactions, and the balances the batch moved."""
    moved: dict[Account, int] = {}
    for a in applied:
        for txn in a.transactions:
            for account, amount in txn.entries:
                moved[account] = moved.get(account, 0) + amount
    balances = engine.ledger.balances
    running = {account: balances.get(account, 0) - total for account, total in moved.items()}
    entries: list[tuple[Any, ...]] = []
    units = NON_CASH_UNITS
    transactions: list[tuple[Any, ...]] = []
    for a in applied:
        for txn in a.transactions:
            for account, amount in txn.entries:
                after = running[account] = running[account] + amount
                entries.append((txn.id, account[0], account[1], units.get(account[1], "fen"), amount, after))
            transactions.append((txn.id, a.position, txn.rule, txn.plan or "", txn.order or "", txn.source or "",
                                 txn.reverses, txn.ref or "", transaction_instant(txn, engine.clock)))
    return entries, transactions, [(owner, book, balances.get((owner, book), 0)) for owner, book in moved]


def write_rows(model: Any, rows: list[dict[str, Any]], unique: str, using: str) -> None:
    """Insert or update projection rows (field values by name) keyed on ``unique``."""
    if not rows:
        return
    columns = tuple(model._meta.get_field(name).column for name in rows[0])
    upsert_rows(connections[using], model._meta.db_table, columns, (model._meta.get_field(unique).column,),
                [tuple(row.values()) for row in rows])


# --- the in-process entry point ------------------------------------------------------------------------------------

_inline_lock = threading.Lock()
_inline_workers: dict[str, Worker] = {}


def drain(max_events: int | None = None, using: str = "default") -> int:
    """Apply every pending logged event (or up to ``max_events``) in this process, under the worker lock, and commit.
    For tests and a one-process demo; ``liandong worker`` is the production writer."""
    with _inline_lock:
        database = str(connections[using].settings_dict["NAME"])
        worker = _inline_workers.get(using)
        if worker is None or worker.database != database:
            worker = _inline_workers[using] = Worker(using)
        with worker.locked():
            worker.refresh()
            return worker.drain(max_events)


def run_worker_process(batch_size: int = BATCH_SIZE) -> None:
    """``liandong worker``: run until SIGTERM or Ctrl-C, which finish the batch in hand and stop."""
    import signal

    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        log.info("signal %d: stopping after the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    Worker(batch_size=batch_size).run_forever(stop)
    log.info("worker stopped at position %s", WorkerPosition.objects.filter(id=1).values_list("position", flat=True)
             .first())
