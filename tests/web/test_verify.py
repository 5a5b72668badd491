"""``liandong verify`` replays the log in memory and names every difference from the database: a balance, an
entry, a transaction, an outcome or a projection that does not match what the events give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from liandong.cli import app
from liandong.service.store.models import (
    Balance,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    MemberState,
    WorkerPosition,
)
from liandong.service.verify import verify
from liandong.service.worker import drain

pytestmark = pytest.mark.django_db
LogEvent = Callable[..., LoggedEvent]


@pytest.fixture
def applied_tree(shop: dt.datetime, log_event: LogEvent, chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    log_event("withdraw", member="A", amount="500.00", withdrawal="w1")  # refused: above available
    log_event("withdraw", member="A", amount="50.00", withdrawal="w2")
    drain()


def test_a_database_the_worker_wrote_verifies(applied_tree: None) -> None:
    report = verify()
    assert report.differences == []
    assert report.events == LoggedEvent.objects.count()
    assert report.entries == LedgerEntry.objects.count() == 2 * LedgerTransaction.objects.count()
    assert report.summary() == f"{report.events} events, {report.entries} entries verified"


def test_the_command_exits_0_with_the_counts(applied_tree: None) -> None:
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert f"{LoggedEvent.objects.count()} events, {LedgerEntry.objects.count()} entries verified" in result.output


def test_a_tampered_balance_is_named_and_the_command_exits_1(applied_tree: None) -> None:
    Balance.objects.filter(owner="A", book="available").update(amount=99999)
    report = verify()
    assert report.differences == ["balance A/available: expected 150.00, the database has 999.99"]
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 1
    assert "balance A/available: expected 150.00, the database has 999.99" in result.output
    assert "FAIL: 1 differences" in result.output


def test_a_projection_that_differs_is_named(applied_tree: None) -> None:
    MemberState.objects.filter(member="B").update(team="")
    assert verify().differences == ["member B: expected team 'A', the database has ''"]


def test_a_transaction_the_events_do_not_explain_is_named(applied_tree: None) -> None:
    last = LedgerTransaction.objects.order_by("-id").first()
    assert last is not None
    extra = last.id + 1
    LedgerEntry.objects.bulk_create([
        LedgerEntry(transaction_id=extra, owner="A", book="available", amount=100, balance_after=0),
        LedgerEntry(transaction_id=extra, owner="@platform", book="reward_expense", amount=-100, balance_after=0)])
    LedgerTransaction.objects.create(id=extra, event_id=last.event_id, rule="gift", at=last.at)
    differences = verify().differences
    assert f"transaction {extra} (gift, event {last.event_id}) is in the database but not in the replay" in differences
    assert f"1 transactions have ids beyond the replay's last ({last.id})" in differences


def test_an_outcome_for_an_event_not_applied_yet_is_named(applied_tree: None, log_event: LogEvent) -> None:
    pending = log_event("join", member="Z")
    EventOutcome.objects.create(event=pending, applied=True, config_version=1)
    report = verify()
    position = WorkerPosition.objects.get().position
    assert report.differences == [f"1 outcomes are for events after the worker's position {position}"]
    assert report.pending == 1


def test_an_empty_database_verifies(db: None) -> None:
    report = verify()
    assert (report.ok, report.events, report.entries) == (True, 0, 0)


def test_a_referral_count_that_differs_is_named(applied_tree: None) -> None:
    from liandong.service.store.models import ReferralCount

    row = ReferralCount.objects.order_by("-descendants").first()
    assert row is not None
    ReferralCount.objects.filter(id=row.id).update(descendants=row.descendants + 1)
    report = verify()
    assert not report.ok and any(f"referral count of {row.member}: expected {row.referrals} referrals, "
                                 f"{row.descendants} in its tree" in d for d in report.differences)
