"""Leaderboards (排行榜): each member's running figures per board and period, kept by the worker.

The worker adds each batch's figures (``batch_rows``) in the same database transaction as its ledger entries, an
upsert on ``store_leaderboardfigure`` that adds to ``figure`` and sets ``precedence`` (minus the position of the
event that last changed it). Boards:

    commission   fen credited to the member by reward rules (commissions, team rewards, rebates, prizes), less
                 their reversals: the reward transactions' entries on the member's money books
    sales        fen of the orders of the member's bound buyers: each order whose level-1 distribution commission
                 it was paid (+ the order's amount), less the refunds that reversed it (- the amount)
    invites      members who joined with it as the referrer

Periods, in the shop's time zone: ``day`` (bucket ``2026-03-01``), ``week`` (the Monday of the ISO week,
``2026-02-23``), ``month`` (``2026-03``) and ``all`` (``all``). A figure counts in the period of the instant it
happened (a refund on 03-02 of an order of 03-01 takes 03-02's figure down, and the week's and month's).

Ranking: figure highest first; of two equal figures the one reached first (the earlier event) ranks higher. Only
members with a figure above zero are ranked. The index ``leaderboard_rank`` (board, period, bucket, figure,
precedence) serves the top N (read backwards) and a member's own rank (a count of the rows ahead of it):
``bench/leaderboards.py`` measures both over 1,000,000 rows.

Example: on 2026-03-03 (a Tuesday) B joins with referrer A, then C with referrer A ->
``(invites, day, 2026-03-03, A, 2, -<C's position>)``, the same for ``week 2026-03-02``, ``month 2026-03``, ``all``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..engine.core import Engine
from ..engine.events import Join
from ..engine.ledger import NON_CASH_UNITS, REWARD_RULES
from .feed import Applied

BOARDS: tuple[str, ...] = ("commission", "sales", "invites")
PERIODS: tuple[str, ...] = ("day", "week", "month", "all")
MONEY_BOARDS = frozenset({"commission", "sales"})
COLUMNS = ("board", "period", "bucket", "member", "figure", "precedence")
KEY = ("board", "period", "bucket", "member")
ADDED = ("figure",)
SALES_RULE = "distribution_commission_l1"

TALLY_COLUMNS = ("board", "period", "bucket", "figure", "block", "members")
TALLY_KEY = ("board", "period", "bucket", "figure", "block")
#: precedence values per tally block
BLOCK = 1 << 22

Key = tuple[str, str, str, str]


def block_of(precedence: int) -> int:
    return precedence // BLOCK


def bucket_of(period: str, day: dt.date) -> str:
    """The bucket of ``day`` in ``period``: ``bucket_of("week", date(2026, 3, 4))`` is ``"2026-03-02"``."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        return (day - dt.timedelta(days=day.weekday())).isoformat()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "all":
        return "all"
    raise ValueError(f"unknown period {period!r}")


def buckets_of(day: dt.date) -> list[tuple[str, str]]:
    return [(period, bucket_of(period, day)) for period in PERIODS]


class BoardFigures:
    """A batch's additions, in the making: ``add`` per change, then ``rows``."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self.totals: dict[Key, list[int]] = {}

    def add(self, board: str, member: str, amount: int, at: dt.datetime, position: int) -> None:
        if not amount:
            return
        day = at.astimezone(self.tz).date()
        for period, bucket in buckets_of(day):
            row = self.totals.get((board, period, bucket, member))
            if row is None:
                self.totals[(board, period, bucket, member)] = [amount, -position]
            else:
                row[0] += amount
                row[1] = -position

    def observe(self, engine: Engine, applied: Applied, fallback: dt.datetime) -> None:
        """One applied event with its transactions (the engine's state right after it)."""
        event = applied.event
        if event is None or not applied.applied:
            return
        position = applied.position
        if isinstance(event, Join) and event.referrer is not None:
            self.add("invites", event.referrer, 1, event.at, position)
        for txn in applied.transactions:
            rule = txn.rule
            if rule not in REWARD_RULES:
                continue
            at = txn.at if isinstance(txn.at, dt.datetime) else fallback
            credited: dict[str, int] = {}
            for (owner, book), amount in txn.entries:
                if owner[0] != "@" and book not in NON_CASH_UNITS:
                    credited[owner] = credited.get(owner, 0) + amount
            for member, amount in credited.items():
                self.add("commission", member, amount, at, position)
            if rule == SALES_RULE and txn.order is not None:
                order = engine.orders.get(txn.order)
                if order is None:
                    continue
                sign = -1 if txn.reverses is not None else 1
                for member in credited:
                    self.add("sales", member, sign * order.amount, at, position)

    def rows(self) -> list[tuple[Any, ...]]:
        return [(board, period, bucket, member, figure, precedence)
                for (board, period, bucket, member), (figure, precedence) in self.totals.items()]


def batch_rows(engine: Engine, applied: Sequence[Applied]) -> list[tuple[Any, ...]]:
    """What one worker batch adds to the boards (rows in ``COLUMNS`` order)."""
    figures = BoardFigures(engine.tz)
    for item in applied:
        figures.observe(engine, item, engine.clock)
    return figures.rows()


def write(connection: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    """Add a batch's rows to the boards, inside the batch's database transaction: the figures (an upsert adding to
    ``figure``, setting ``precedence``) and the tally (a member leaves its old (figure, block) and joins its new
    one, when above zero)."""
    from .bulk import upsert_rows

    if not rows:
        return
    wanted: dict[tuple[str, str, str], list[str]] = {}
    for board, period, bucket, member, _figure, _precedence in rows:
        wanted.setdefault((board, period, bucket), []).append(member)
    before: dict[Key, tuple[int, int]] = {}
    with connection.cursor() as cursor:
        for (board, period, bucket), members in wanted.items():
            for start in range(0, len(members), 500):
                chunk = members[start:start + 500]
                marks = ", ".join("%s" for _ in chunk)
                cursor.execute("SELECT member, figure, precedence FROM store_leaderboardfigure WHERE board = %s "
                               f"AND period = %s AND bucket = %s AND member IN ({marks})",
                               [board, period, bucket, *chunk])
                for member, figure, precedence in cursor.fetchall():
                    before[(board, period, bucket, member)] = (figure, precedence)
    tally: dict[tuple[str, str, str, int, int], int] = {}
    for board, period, bucket, member, added, precedence in rows:
        old_figure, old_precedence = before.get((board, period, bucket, member), (0, 0))
        if old_figure > 0:
            key = (board, period, bucket, old_figure, block_of(old_precedence))
            tally[key] = tally.get(key, 0) - 1
        if old_figure + added > 0:
            key = (board, period, bucket, old_figure + added, block_of(precedence))
            tally[key] = tally.get(key, 0) + 1
    upsert_rows(connection, "store_leaderboardfigure", COLUMNS, KEY, rows, added=ADDED)
    upsert_rows(connection, "store_leaderboardtally", TALLY_COLUMNS, TALLY_KEY,
                [(*key, members) for key, members in tally.items() if members], added=("members",))


# --- the team contests' day standings, told to every team member ---------------------------------------------------

NOTICE_COLUMNS = ("member", "contest", "day", "team", "standings", "created_at")
NOTICE_KEY = ("member", "contest", "day")


def contest_notice_rows(engine: Engine, applied: Sequence[Applied]) -> list[tuple[Any, ...]]:
    """One row per team member of each ``contest_day_standings`` fact of the batch (``NOTICE_COLUMNS``)."""
    rows: list[tuple[Any, ...]] = []
    for item in applied:
        for fact in item.facts:
            if fact.get("fact") != "contest_day_standings":
                continue
            at = item.event.at if item.event is not None else engine.clock
            standings = fact["standings"]
            for member, team in fact["teams"].items():
                rows.append((member, fact["contest"], fact["day"], team, standings, at))
    return rows


def write_contest_notices(connection: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    from .bulk import upsert_rows

    upsert_rows(connection, "store_contestnotice", NOTICE_COLUMNS, NOTICE_KEY, rows)


# --- reading (the members' pages) ----------------------------------------------------------------------------------


def current_bucket(period: str, now: dt.datetime, tz: dt.tzinfo) -> str:
    return bucket_of(period, now.astimezone(tz).date())


def top(board: str, period: str, bucket: str, n: int, using: str = "default") -> list[dict[str, Any]]:
    """The first ``n`` members of a board: ``[{"rank": 1, "member": "m1", "figure": 12300}, …]``."""
    from .store.models import LeaderboardFigure

    rows = (LeaderboardFigure.objects.using(using)
            .filter(board=board, period=period, bucket=bucket, figure__gt=0)
            .order_by("-figure", "-precedence").values_list("member", "figure")[:n])
    return [{"rank": i + 1, "member": member, "figure": figure} for i, (member, figure) in enumerate(rows)]


def rank_of(board: str, period: str, bucket: str, member: str, using: str = "default") -> dict[str, Any] | None:
    """A member's own place on a board, even outside the top N: ``{"rank": 1234, "figure": 500}``; None when it
    has no figure above zero there. Ahead of it: the tally above its (figure, block), and the rows of its own
    figure and block reached before it (a short range of the index ``leaderboard_rank``)."""
    from django.db import connections

    from .store.models import LeaderboardFigure

    mine = (LeaderboardFigure.objects.using(using)
            .filter(board=board, period=period, bucket=bucket, member=member)
            .values_list("figure", "precedence").first())
    if mine is None or mine[0] <= 0:
        return None
    figure, precedence = mine
    block = block_of(precedence)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(members), 0) FROM store_leaderboardtally WHERE board = %s AND "
                       "period = %s AND bucket = %s AND (figure, block) > (%s, %s)",
                       [board, period, bucket, figure, block])
        above = int(cursor.fetchone()[0])
        cursor.execute("SELECT COUNT(*) FROM store_leaderboardfigure WHERE board = %s AND period = %s AND "
                       "bucket = %s AND figure = %s AND precedence > %s AND precedence < %s",
                       [board, period, bucket, figure, precedence, (block + 1) * BLOCK])
        beside = int(cursor.fetchone()[0])
    return {"rank": above + beside + 1, "figure": figure}


def initials(name: str) -> str:
    """What a hidden name shows: ``"Wang Fang"`` -> ``"W. F."``, ``"王芳"`` -> ``"王*"``."""
    words = name.split()
    if len(words) > 1:
        return " ".join(f"{w[0].upper()}." for w in words)
    return f"{name[:1]}*" if name else "*"
