"""The leaderboards the worker keeps (service.leaderboards): hand-derived figures per board and period, ties to the
member who reached the figure first, a refund taken out in the period it happened, a member's own rank outside the
top N, and only members with a figure ranked.

The shop (distribution, 10% on level 1, TEA 100.00), Asia/Shanghai; 2026-03-02 and 2026-03-09 are Mondays::

    03-02 09:00  A, P join; B and C join with referrer A (bound to A), D with referrer P (bound to P)
    03-02 10:00  B pays TEA (o1)        A: commission 10.00, sales 100.00
    03-02 11:00  D pays 3 TEA (o2)      P: commission 30.00, sales 300.00
    03-03 10:00  C pays 2 TEA (o3)      A: commission 30.00, sales 300.00 (all time): a tie with P, who was first
    03-09 10:00  o2 refunded            P: -300.00 sales on 03-09 (its week 03-09), month and all time back to 0
"""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection

from conftest import LogEvent, make_shop
from liandong.service.leaderboards import bucket_of, rank_of, top
from liandong.service.store.models import LeaderboardFigure, LeaderboardTally
from liandong.service.worker import drain

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> str:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=TZ).isoformat()


def figures(board: str, period: str, bucket: str) -> list[tuple[int, str, int]]:
    return [(row["rank"], row["member"], row["figure"]) for row in top(board, period, bucket, 10)]


@pytest.fixture
def boards(db: None, log_event: LogEvent) -> None:
    make_shop(plans={"distribution": {"rates": ["0.10"]}}, start=dt.datetime(2026, 3, 1, 8, tzinfo=TZ),
              products=[{"sku": "TEA", "price": "100.00"}])
    log_event("join", member="A", at=at(2, 9))
    log_event("join", member="P", at=at(2, 9, 1))
    log_event("join", member="B", referrer="A", at=at(2, 9, 2))
    log_event("join", member="C", referrer="A", at=at(2, 9, 3))
    log_event("join", member="D", referrer="P", at=at(2, 9, 4))
    log_event("pay", member="B", sku="TEA", order="o1", at=at(2, 10))
    log_event("pay", member="D", sku="TEA", quantity=3, order="o2", at=at(2, 11))
    log_event("pay", member="C", sku="TEA", quantity=2, order="o3", at=at(3, 10))
    drain()


def test_buckets_are_calendar_periods_in_the_shop_zone() -> None:
    day = dt.date(2026, 3, 4)  # a Wednesday
    assert [bucket_of(p, day) for p in ("day", "week", "month", "all")] == ["2026-03-04", "2026-03-02", "2026-03",
                                                                           "all"]


def test_figures_per_board_and_period_with_ties_to_the_first(boards: None) -> None:
    assert figures("invites", "all", "all") == [(1, "A", 2), (2, "P", 1)]
    assert figures("invites", "day", "2026-03-02") == [(1, "A", 2), (2, "P", 1)]
    assert figures("sales", "day", "2026-03-02") == [(1, "P", 30000), (2, "A", 10000)]
    assert figures("sales", "day", "2026-03-03") == [(1, "A", 20000)]
    # 300.00 each this week: P reached it on 03-02 11:00, A on 03-03 10:00
    assert figures("sales", "week", "2026-03-02") == [(1, "P", 30000), (2, "A", 30000)]
    assert figures("commission", "month", "2026-03") == [(1, "P", 3000), (2, "A", 3000)]
    assert figures("commission", "week", "2026-03-09") == []
    # the buyers themselves earned nothing and invited nobody: they are on no board
    assert not LeaderboardFigure.objects.filter(member__in=["B", "C", "D"]).exists()


def test_a_member_sees_its_own_rank_outside_the_top(boards: None) -> None:
    assert [row["member"] for row in top("sales", "all", "all", 1)] == ["P"]
    assert rank_of("sales", "all", "all", "A") == {"rank": 2, "figure": 30000}
    assert rank_of("sales", "all", "all", "P") == {"rank": 1, "figure": 30000}
    assert rank_of("sales", "all", "all", "B") is None


def test_a_refund_comes_off_in_the_period_it_happened(boards: None, log_event: LogEvent) -> None:
    log_event("refund", order="o2", at=at(9, 10))
    drain()
    assert figures("sales", "all", "all") == [(1, "A", 30000)]
    assert rank_of("sales", "all", "all", "P") is None  # 0.00: not ranked
    assert figures("commission", "month", "2026-03") == [(1, "A", 3000)]
    # the day and the week of the order keep it; the refund's own day and week hold it negative, unranked
    assert figures("sales", "day", "2026-03-02") == [(1, "P", 30000), (2, "A", 10000)]
    assert LeaderboardFigure.objects.get(board="sales", period="week", bucket="2026-03-09", member="P").figure == \
        -30000
    assert figures("sales", "week", "2026-03-09") == []


def test_the_tally_gives_the_rank_a_full_sort_gives(boards: None, log_event: LogEvent) -> None:
    """Many members, ties and refunds: every member's rank_of equals its place in a sort of all the rows."""
    for n in range(30):
        log_event("join", member=f"R{n}", referrer="A" if n % 3 else "P", at=at(4, 9, n))
    for n in range(30):
        log_event("pay", member=f"R{n}", sku="TEA", quantity=1 + n % 4, order=f"r{n}", at=at(4, 10, n))
    for n in range(0, 30, 7):
        log_event("refund", order=f"r{n}", at=at(4, 11, n))
    drain()
    for board in ("sales", "commission", "invites"):
        rows = list(LeaderboardFigure.objects.filter(board=board, period="all", bucket="all", figure__gt=0)
                    .order_by("-figure", "-precedence").values_list("member", flat=True))
        assert rows, board
        for place, member in enumerate(rows, start=1):
            found = rank_of(board, "all", "all", member)
            assert found is not None and found["rank"] == place, (board, member, found, place)


def test_the_migration_builds_the_figures_the_worker_kept(boards: None, log_event: LogEvent) -> None:
    """Migration 0014 replays the log applied before it, as the worker adds the figures: the same rows."""
    log_event("refund", order="o2", at=at(9, 10))
    drain()
    columns = ("board", "period", "bucket", "member", "figure", "precedence")
    kept = sorted(LeaderboardFigure.objects.values_list(*columns))
    tally = sorted(LeaderboardTally.objects.exclude(members=0).values_list("board", "period", "bucket", "figure",
                                                                           "block", "members"))
    LeaderboardFigure.objects.all().delete()
    LeaderboardTally.objects.all().delete()
    migration = importlib.import_module("liandong.service.store.migrations.0014_leaderboards")
    migration.fill_leaderboards(apps, SimpleNamespace(connection=connection))
    assert sorted(LeaderboardFigure.objects.values_list(*columns)) == kept
    assert sorted(LeaderboardTally.objects.exclude(members=0).values_list(
        "board", "period", "bucket", "figure", "block", "members")) == tally
