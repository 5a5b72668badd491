"""The worker applies the log in order and commits each batch whole: outcomes (with the config version or the
refusal), entries with balances after them, balances, projections and its position."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone

from liandong.service import worker as worker_module
from liandong.service.store.models import (
    Balance,
    EventOutcome,
    LedgerEntry,
    LedgerTransaction,
    LoggedEvent,
    MemberState,
    OrderState,
    ShopSetup,
    WithdrawalState,
    WorkerPosition,
)
from liandong.service.verify import verify
from liandong.service.worker import Worker, drain

LogEvent = Callable[..., LoggedEvent]


def balance(owner: str, book: str = "available") -> int:
    row = Balance.objects.filter(owner=owner, book=book).first()
    return row.amount if row is not None else 0


def assert_verified() -> None:
    report = verify()
    assert report.differences == []


@pytest.mark.django_db
def test_drain_applies_the_pending_events_and_commits_rewards_and_projections(
        shop: dt.datetime, chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    assert drain() == 6
    # B's and C's gift packs pay A 100.00 each (A is an agent until C's purchase promotes it).
    assert balance("A") == 20000
    assert balance("@pool", "bonus") == 3 * 3495
    a = MemberState.objects.get(member="A")
    assert (a.rank, a.view["seeds"], a.view["available"]) == ("partner", ["B", "C"], "200.00")
    assert a.reads["chain21"]["direct_agents"] == 2
    assert MemberState.objects.get(member="B").team == "A"
    assert OrderState.objects.get(order="o2").amount == 69900
    last = LoggedEvent.objects.order_by("-position").first()
    assert last is not None
    assert WorkerPosition.objects.get().position == last.position
    assert drain() == 0
    assert_verified()


@pytest.mark.django_db
def test_each_entry_carries_the_balance_of_its_account_after_it(shop: dt.datetime, log_event: LogEvent,
                                                                 chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    log_event("join", member="D", referrer="B")
    log_event("pay", member="D", sku="GIFT", order="o4")  # B +100.00 direct, A +200.00 team, 40.00 of it frozen
    drain()
    a_available = list(LedgerEntry.objects.filter(owner="A", book="available").order_by("id")
                       .values_list("amount", "balance_after"))
    assert a_available == [(10000, 10000), (10000, 20000), (16000, 36000)]
    assert balance("A", "help_fund") == 4000


@pytest.mark.django_db
def test_a_refused_event_is_recorded_with_its_reason_and_changes_nothing(
        shop: dt.datetime, log_event: LogEvent, chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    drain()
    entries = LedgerEntry.objects.count()
    logged = log_event("withdraw", member="A", amount="500.00", withdrawal="w1")
    assert drain() == 1
    outcome = EventOutcome.objects.get(event_id=logged.position)
    assert outcome.applied is False
    assert outcome.refusal is not None
    assert (outcome.refusal["code"], outcome.refusal["field"], outcome.refusal["value"]) == (
        "withdrawal_above_available", "amount", "500.00")
    assert outcome.refusal["reason"] == "amount 500.00 is more than the available balance 200.00"
    assert LedgerEntry.objects.count() == entries
    assert not WithdrawalState.objects.exists()
    assert balance("A") == 20000


@pytest.mark.django_db
def test_a_payload_the_event_class_refuses_is_a_refusal_naming_the_field(shop: dt.datetime) -> None:
    # Logged past validation (an older version, a module since removed): the worker refuses it, it does not stop.
    bad = LoggedEvent.objects.create(key="bad", verb="pay", payload={"member": "A", "sku": "GIFT", "order": "o1",
                                                                     "quantity": "many"}, request_hash="x")
    unknown = LoggedEvent.objects.create(key="gone", verb="spin_the_wheel", payload={}, request_hash="y")
    assert drain() == 2
    refused_bad = EventOutcome.objects.get(event=bad).refusal
    refused_unknown = EventOutcome.objects.get(event=unknown).refusal
    assert refused_bad is not None and refused_unknown is not None
    assert (refused_bad["code"], refused_bad["field"], refused_bad["value"]) == ("invalid", "quantity", "many")
    assert (refused_unknown["field"], refused_unknown["value"]) == ("verb", "spin_the_wheel")
    assert_verified()


@pytest.mark.django_db
def test_every_outcome_records_the_config_version_it_used(shop: dt.datetime, log_event: LogEvent,
                                                          chain21_tree: Callable[[], None]) -> None:
    log_event("join", member="A")
    before = log_event("pay", member="A", sku="GIFT", order="o1")
    change = log_event("configure_plan", plan="chain21", config={"direct_reward": {"agent": "150.00",
                                                                                   "partner": "300.00"}})
    log_event("join", member="B", referrer="A")
    after = log_event("pay", member="B", sku="GIFT", order="o2")
    drain()
    versions = dict(EventOutcome.objects.filter(event_id__in=[before.pk, change.pk, after.pk])
                    .values_list("event_id", "config_version"))
    assert versions == {before.pk: 1, change.pk: 2, after.pk: 2}
    assert balance("A") == 15000  # the new direct reward for an agent
    assert_verified()


@pytest.mark.django_db
def test_a_batch_commits_whole_or_not_at_all(shop: dt.datetime, chain21_tree: Callable[[], None],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    chain21_tree()
    position = WorkerPosition.objects.get().position
    outcomes, entries = EventOutcome.objects.count(), LedgerEntry.objects.count()

    def fail_after_the_ledger(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away after the ledger rows were written")

    monkeypatch.setattr(worker_module, "write_rows", fail_after_the_ledger)
    with pytest.raises(RuntimeError):
        drain()
    assert (EventOutcome.objects.count(), LedgerEntry.objects.count()) == (outcomes, entries)
    assert WorkerPosition.objects.get().position == position
    assert not Balance.objects.filter(owner="A").exists()
    monkeypatch.undo()
    assert drain() == 6  # the worker rebuilt its engine from the database and applied the batch once
    assert balance("A") == 20000
    assert LedgerTransaction.objects.filter(order="o2", rule="direct_reward").count() == 1
    assert_verified()


@pytest.mark.django_db
def test_a_restarted_worker_replays_to_its_position_and_continues_after_it(
        shop: dt.datetime, log_event: LogEvent, chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    first = Worker()
    with first.locked():
        first.refresh()
        assert first.drain() == 6
    log_event("join", member="D", referrer="B")
    log_event("pay", member="D", sku="GIFT", order="o4")
    second = Worker()  # a new process: no engine in memory
    with second.locked():
        engine = second.load()
        assert engine.ledger.count == LedgerTransaction.objects.count()
        assert second.drain() == 2
    assert LedgerTransaction.objects.filter(order="o2", rule="direct_reward").count() == 1
    assert LedgerTransaction.objects.filter(order="o4", rule="team_reward").count() == 1
    assert balance("B") == 10000
    assert_verified()


@pytest.mark.django_db
def test_batches_are_bounded_and_each_commits_its_position(shop: dt.datetime, log_event: LogEvent) -> None:
    for n in range(7):
        log_event("join", member=f"M{n}")
    w = Worker(batch_size=3)
    with w.locked():
        w.refresh()
        start = w.position
        assert w.step() == 3
        assert WorkerPosition.objects.get().position == start + 3
        assert w.drain() == 4
    assert MemberState.objects.count() == 7


@pytest.mark.django_db
def test_drain_respects_max_events(shop: dt.datetime, log_event: LogEvent) -> None:
    for n in range(5):
        log_event("join", member=f"M{n}")
    assert drain(max_events=2) == 2
    assert MemberState.objects.count() == 2
    assert drain() == 3


@pytest.mark.django_db
def test_a_promotion_shows_the_new_team_on_the_whole_subtree(shop: dt.datetime, log_event: LogEvent) -> None:
    # A has no partner above: when A is promoted, its whole teamless subtree joins A's team, grandchildren too.
    log_event("join", member="A")
    log_event("join", member="B", referrer="A")
    log_event("join", member="C", referrer="A")
    log_event("join", member="D", referrer="B")
    log_event("join", member="E", referrer="D")
    drain()
    assert MemberState.objects.get(member="E").team == ""
    for n, member in enumerate("ABC", start=1):
        log_event("pay", member=member, sku="GIFT", order=f"o{n}")
    drain()
    assert dict(MemberState.objects.values_list("member", "team")) == {"A": "", "B": "A", "C": "A", "D": "A",
                                                                       "E": "A"}
    assert_verified()


@pytest.mark.django_db
def test_withdrawals_project_their_status(shop: dt.datetime, log_event: LogEvent,
                                          chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    log_event("withdraw", member="A", amount="50.00", withdrawal="w1")
    log_event("approve_withdrawal", withdrawal="w1")
    log_event("mark_withdrawal_paid", withdrawal="w1", reference="BANK-1")
    drain()
    w = WithdrawalState.objects.get(withdrawal="w1")
    assert (w.status, w.amount, w.reference, w.member) == ("paid", 5000, "BANK-1", "A")
    assert balance("A") == 15000 and balance("A", "withdrawn") == 5000
    assert_verified()


@pytest.mark.django_db
def test_an_auto_closing_shop_holds_late_events_at_the_day_end_until_the_worker_closes_the_day(
        log_event: LogEvent, shop_maker: Callable[..., dt.datetime]) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    yesterday = timezone.now().astimezone(tz).date() - dt.timedelta(days=1)
    shop_maker(start=dt.datetime.combine(yesterday, dt.time(10, 0), tzinfo=tz), auto_close_days=True)
    log_event("join", member="A")  # logged today, while yesterday is not closed yet
    drain()
    end_of_yesterday = dt.datetime.combine(yesterday, dt.time(23, 59, 59), tzinfo=tz)
    assert MemberState.objects.get(member="A").joined_at == end_of_yesterday
    w = Worker(tick_seconds=0)
    with w.locked():
        w.refresh()
        w.log_clock_events(timezone.now())
        w.log_clock_events(timezone.now())  # idempotent: one close per day
        assert w.drain() == 1
        w.log_clock_events(timezone.now())  # today has not ended
        assert w.drain() == 0
    close = LoggedEvent.objects.get(verb="close_day")
    assert (close.key, close.payload, close.actor) == (f"system:close_day:{yesterday}",
                                                       {"day": yesterday.isoformat()}, "system")
    assert EventOutcome.objects.get(event=close).applied
    log_event("join", member="B")
    drain()
    assert MemberState.objects.get(member="B").joined_at > end_of_yesterday
    assert_verified()


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_waits_for_the_lock(committed_shop: dt.datetime, log_event: LogEvent,
                                            chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    holder = Worker()
    applied: list[int] = []

    def second() -> None:
        try:
            applied.append(drain())
        finally:
            connections.close_all()

    with holder.locked():
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and applied == []  # waiting, not writing
        assert not EventOutcome.objects.filter(event__verb="pay").exists()
    thread.join(timeout=20)
    assert applied == [6]
    assert EventOutcome.objects.filter(event__verb="pay").count() == 3
    assert_verified()


@pytest.mark.django_db
def test_a_worker_that_lost_its_place_cannot_commit(shop: dt.datetime, log_event: LogEvent) -> None:
    stale = Worker()
    with stale.locked():
        stale.refresh()
    log_event("join", member="A")
    drain()  # another writer moved the position
    log_event("join", member="B")
    with pytest.raises(worker_module.FenceError):
        stale.step()
    assert MemberState.objects.filter(member="B").count() == 0
    assert drain() == 1


@pytest.mark.django_db
def test_the_shop_is_made_from_the_shop_file_on_first_start(db: None, tmp_path: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    shop_file = tmp_path / "shop.yaml"
    shop_file.write_text('timezone: Asia/Shanghai\nplans:\n  chain21: {help_fund_rate: "0.30"}\n'
                         'products:\n  - {sku: BOX, price: "699.00", gift_pack: true}\n', encoding="utf-8")
    monkeypatch.setenv("LIANDONG_SHOP_FILE", str(shop_file))
    assert drain() == 1
    setup = ShopSetup.objects.get()
    assert setup.plans == {"chain21": {"help_fund_rate": "0.30"}}
    assert LoggedEvent.objects.get().key == "setup:product:BOX"
    assert timezone.now() - setup.start < dt.timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_run_forever_applies_events_as_they_come_and_stops_when_asked(
        committed_shop: dt.datetime, log_event: LogEvent, chain21_tree: Callable[[], None]) -> None:
    stop = threading.Event()
    worker = Worker(batch_size=2)  # several batches: the pipeline commits one while the engine applies the next

    def run() -> None:
        try:
            worker.run_forever(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        chain21_tree()
        last = log_event("withdraw", member="A", amount="50.00", withdrawal="w1")
        deadline = time.monotonic() + 20
        while not EventOutcome.objects.filter(event=last).exists():
            assert time.monotonic() < deadline, "the worker did not apply the events"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert WorkerPosition.objects.get().position == last.position
    assert balance("A") == 15000 and balance("A", "withdrawing") == 5000
    assert_verified()


@pytest.mark.django_db
def test_a_tick_shorter_than_a_minute_ticks_that_often_and_once_per_period(shop: dt.datetime) -> None:
    """The clock's ``tick`` is keyed by its minute, or by its second when ``tick_seconds`` is under a minute: a
    worker told to tick each second does (a group's deadline passes within a second), and twice in the same second
    is one event."""
    w = Worker(tick_seconds=1)
    with w.locked():
        w.refresh()
        assert w.engine is not None
        first = w.engine.clock + dt.timedelta(seconds=2)
        w.log_clock_events(first)
        w.log_clock_events(first)  # the same second: the same event
        assert w.drain() == 1
        w.log_clock_events(max(w.engine.clock, first) + dt.timedelta(seconds=2))
        assert w.drain() == 1
    keys = list(LoggedEvent.objects.filter(verb="tick").order_by("position").values_list("key", flat=True))
    assert len(keys) == 2 and all(re.fullmatch(r"system:tick:\d{8}T\d{6}", k) for k in keys), keys
    minute = Worker(tick_seconds=60)
    with minute.locked():
        minute.refresh()
        assert minute.engine is not None
        minute.log_clock_events(minute.engine.clock + dt.timedelta(minutes=2))
        assert minute.drain() == 1
    last = LoggedEvent.objects.filter(verb="tick").order_by("-position").values_list("key", flat=True).first()
    assert last is not None and re.fullmatch(r"system:tick:\d{8}T\d{4}", last), last
