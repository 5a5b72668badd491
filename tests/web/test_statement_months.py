"""The monthly totals the worker keeps with the ledger (``StatementMonth``) are the ledger's own sums: for every
member, money book, month (the shop's time zone) and rule, however the events were batched; the monthly bill made
from them equals the bill summed from the entries; migration 0010 fills the same rows for entries written before
it; ``liandong verify`` names a row that differs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Count, Sum

from liandong.service.store.models import LedgerEntry, LoggedEvent, StatementMonth
from liandong.service.verify import verify
from liandong.service.worker import drain
from liandong.web.api.reads import MEMBER_BOOKS, monthly_bill

pytestmark = pytest.mark.django_db
LogEvent = Callable[..., LoggedEvent]
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The shop opens on 20 January 2025; its history crosses two month ends (in Shanghai time, not UTC: 31 January
#: 20:00 UTC is already February there).
OPENS = dt.datetime(2025, 1, 20, 9, 0, tzinfo=SHANGHAI)


def months_from_entries() -> dict[tuple[str, str, dt.date, str], tuple[int, int]]:
    """(owner, book, month, rule) -> (sum, count), summed from the ledger's money entries of members."""
    out: dict[tuple[str, str, dt.date, str], list[int]] = {}
    for owner, book, amount, rule, at in (LedgerEntry.objects.filter(unit="fen").exclude(owner__startswith="@")
                                          .values_list("owner", "book", "amount", "transaction__rule",
                                                       "transaction__at")):
        key = (owner, book, at.astimezone(SHANGHAI).date().replace(day=1), rule)
        row = out.setdefault(key, [0, 0])
        row[0] += amount
        row[1] += 1
    return {key: (total, count) for key, (total, count) in out.items()}


def bill_from_entries(member: str, month: dt.date) -> list[dict[str, Any]]:
    """The bill as the entries give it (the way the page summed it before the monthly totals)."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=SHANGHAI)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    end = dt.datetime(following.year, following.month, 1, tzinfo=SHANGHAI)
    books = []
    for book in MEMBER_BOOKS:
        entries = LedgerEntry.objects.filter(owner=member, book=book, unit="fen")
        opening = (entries.filter(transaction__at__lt=start).order_by("-id")
                   .values_list("balance_after", flat=True).first()) or 0
        closing = (entries.filter(transaction__at__lt=end).order_by("-id")
                   .values_list("balance_after", flat=True).first()) or 0
        totals = [{"rule": rule, "amount": int(total), "entries": int(count)} for rule, total, count in
                  entries.filter(transaction__at__gte=start, transaction__at__lt=end)
                  .values("transaction__rule").annotate(total=Sum("amount"), count=Count("id"))
                  .order_by("transaction__rule").values_list("transaction__rule", "total", "count")]
        if opening or closing or totals:
            books.append({"book": book, "opening": opening, "totals": totals, "closing": closing})
    return books


@pytest.fixture
def three_months(shop_maker: Callable[..., dt.datetime], log_event: LogEvent) -> None:
    """A, B, C, D join and buy over January to March 2025 (rewards settle two days after, at a day's close: some
    across a month's end), every third day closed, A withdraws in February and March; applied one or two events
    per batch, so rows are added to across batches."""
    shop_maker(plans={"chain21": {"settle_after_days": 2}}, start=OPENS)
    drain()

    def at(day: dt.datetime) -> str:
        return day.isoformat()

    days = [OPENS + dt.timedelta(days=n) for n in range(0, 60, 3)]
    log_event("join", member="A", at=at(days[0]))
    log_event("join", member="B", referrer="A", at=at(days[0] + dt.timedelta(hours=1)))
    log_event("pay", member="A", sku="GIFT", order="o-a", at=at(days[0] + dt.timedelta(hours=2)))
    log_event("pay", member="B", sku="GIFT", order="o-b", at=at(days[0] + dt.timedelta(hours=3)))
    late_january = dt.datetime(2025, 1, 31, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC: January in both
    early_february = dt.datetime(2025, 2, 1, 0, 30, tzinfo=SHANGHAI)  # 31 January 16:30 UTC: February here
    for n, day in enumerate(days):
        end_of_day = day.replace(hour=23, minute=59, second=59)
        if end_of_day > early_february:
            log_event("pay", member="B", sku="TEA", order=f"o-tea-{n}", at=at(day.replace(hour=12)))
            if n % 4 == 0:
                log_event("withdraw", member="A", amount="10.00", withdrawal=f"w{n}", at=at(day.replace(hour=13)))
        log_event("close_day", day=day.date().isoformat(), at=at(end_of_day))
        if day < late_january <= end_of_day + dt.timedelta(days=3):
            log_event("join", member="C", referrer="A", at=at(late_january))
            log_event("pay", member="C", sku="GIFT", order="o-c", at=at(late_january + dt.timedelta(minutes=1)))
            log_event("join", member="D", referrer="B", at=at(early_february))
            log_event("pay", member="D", sku="GIFT", order="o-d", at=at(early_february + dt.timedelta(minutes=1)))
        drain(max_events=1 + n % 2)
    drain()


def test_the_monthly_totals_are_the_ledgers_sums(three_months: None) -> None:
    rows = {(r.owner, r.book, r.month, r.rule): (r.amount, r.entries) for r in StatementMonth.objects.all()}
    expected = months_from_entries()
    assert rows == expected
    assert {month for _o, _b, month, _r in rows} >= {dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)}
    assert any(key[0] == "A" and key[3] == "withdrawal" for key in rows)  # A's withdrawals moved money too


def test_each_months_bill_is_the_bill_the_entries_give(three_months: None) -> None:
    for member in "ABCD":
        for month in (dt.date(2024, 12, 1), dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1),
                      dt.date(2025, 4, 1)):
            bill = monthly_bill(member, month)["books"]
            assert bill == bill_from_entries(member, month), (member, month)
    january = {b["book"]: b for b in monthly_bill("A", dt.date(2025, 1, 1))["books"]}
    assert january["pending"]["totals"] and january["available"]["closing"] > 0


def test_the_bill_reads_a_few_rows_whatever_the_months_entries(three_months: None) -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        monthly_bill("A", dt.date(2025, 2, 1))
    assert len(captured.captured_queries) == 3
    assert not any("store_ledgerentry" in q["sql"] for q in captured.captured_queries)


def test_the_migration_fills_the_rows_the_worker_writes(three_months: None) -> None:
    fill = __import__("liandong.service.store.migrations.0010_statement_months",
                      fromlist=["fill_statement_months"]).fill_statement_months
    written = sorted(StatementMonth.objects.values_list("owner", "book", "month", "rule", "amount", "entries",
                                                        "last_transaction", "balance_after"))
    StatementMonth.objects.all().delete()
    fill(apps, SimpleNamespace(connection=connection))  # what the migration's RunPython hands it
    assert sorted(StatementMonth.objects.values_list("owner", "book", "month", "rule", "amount", "entries",
                                                     "last_transaction", "balance_after")) == written
    assert verify().differences == []


def test_verify_names_a_monthly_total_that_differs(three_months: None) -> None:
    assert verify().differences == []
    row = StatementMonth.objects.filter(owner="A", month=dt.date(2025, 2, 1)).order_by("book", "rule").first()
    assert row is not None
    StatementMonth.objects.filter(id=row.id).update(amount=row.amount + 1)
    assert verify().differences == [
        f"statement month A/{row.book} 2025-02 {row.rule}: expected amount {row.amount}, "
        f"the database has {row.amount + 1}"]
    StatementMonth.objects.filter(id=row.id).delete()
    assert verify().differences == [
        f"statement month A/{row.book} 2025-02 {row.rule} is in the replay but not in the database"]


