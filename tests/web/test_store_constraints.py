"""The database itself backs the ledger (migration 0002), on SQLite and on PostgreSQL: the log, outcomes,
transactions and entries refuse UPDATE and DELETE; entries of a transaction that do not sum to zero per unit are
refused (with the transaction row on SQLite, with the entries' statement on PostgreSQL); an entry cannot join a
transaction already written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction

from liandong.service.store.guard import erasing_allowed
from liandong.service.store.models import EventOutcome, LedgerEntry, LedgerTransaction, LoggedEvent
from liandong.service.worker import drain

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


def refused(statement: Callable[[], object]) -> str:
    """Run ``statement`` in a savepoint; the database's refusal message (the test fails if it was accepted)."""
    try:
        with transaction.atomic():
            statement()
    except IntegrityError as exc:
        return str(exc)
    raise AssertionError("the database accepted it")


def raw(sql: str) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    return run


def write_transaction(tid: int, event: int, entries: list[tuple[str, str, str, int]]) -> None:
    """Entries first (in one statement), then the transaction row, as the worker writes them."""
    LedgerEntry.objects.bulk_create([
        LedgerEntry(transaction_id=tid, owner=owner, book=book, unit=unit, amount=amount, balance_after=0)
        for owner, book, unit, amount in entries])
    LedgerTransaction.objects.create(id=tid, event_id=event, rule="test", at=AT)


@pytest.mark.parametrize("table", ["store_loggedevent", "store_eventoutcome", "store_ledgertransaction",
                                   "store_ledgerentry"])
def test_append_only_tables_refuse_update_and_delete(shop: dt.datetime, chain21_tree: Callable[[], None],
                                                     table: str) -> None:
    chain21_tree()
    drain()
    column = {"store_loggedevent": "actor", "store_eventoutcome": "config_version",
              "store_ledgertransaction": "rule", "store_ledgerentry": "amount"}[table]
    value = "0" if column in ("config_version", "amount") else "'x'"
    assert "append-only" in refused(raw(f"UPDATE {table} SET {column} = {value}"))
    assert "append-only" in refused(raw(f"DELETE FROM {table}"))


def test_orm_delete_of_a_pending_logged_event_is_refused(shop: dt.datetime,
                                                          log_event: Callable[..., LoggedEvent]) -> None:
    event = log_event("join", member="A")  # pending: no outcome protects it, only the trigger
    assert "append-only" in refused(lambda: LoggedEvent.objects.filter(position=event.position).delete())
    assert LoggedEvent.objects.filter(position=event.position).exists()


def test_truncate_is_refused_on_postgresql(shop: dt.datetime) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    assert "append-only" in refused(raw("TRUNCATE store_ledgerentry CASCADE"))


def test_a_transaction_whose_entries_do_not_sum_to_zero_is_refused(shop: dt.datetime) -> None:
    event = LoggedEvent.objects.first()
    assert event is not None
    message = refused(lambda: write_transaction(9001, event.position, [
        ("A", "available", "fen", 10000), ("@platform", "reward_expense", "fen", -9999)]))
    assert "sum to zero" in message
    assert not LedgerTransaction.objects.filter(id=9001).exists()
    assert not LedgerEntry.objects.filter(transaction_id=9001).exists()


def test_each_unit_must_balance_on_its_own(shop: dt.datetime) -> None:
    event = LoggedEvent.objects.first()
    assert event is not None
    # 100 fen and one coupon against 101 fen: the sum over all entries is zero, but neither unit balances.
    message = refused(lambda: write_transaction(9002, event.position, [
        ("A", "available", "fen", 100), ("A", "coupons", "coupon", 1), ("@platform", "sales", "fen", -101)]))
    assert "sum to zero" in message
    write_transaction(9003, event.position, [
        ("A", "available", "fen", 100), ("@platform", "sales", "fen", -100),
        ("A", "coupons", "coupon", 1), ("@platform", "coupons_issued", "coupon", -1)])
    assert LedgerTransaction.objects.filter(id=9003).exists()


def test_an_entry_for_a_transaction_already_written_is_refused(shop: dt.datetime,
                                                               chain21_tree: Callable[[], None]) -> None:
    chain21_tree()
    drain()
    txn = LedgerTransaction.objects.order_by("id").first()
    assert txn is not None
    message = refused(lambda: LedgerEntry.objects.create(transaction_id=txn.id, owner="A", book="available",
                                                         unit="fen", amount=0, balance_after=0))
    assert "already written" in message


def test_erasing_is_allowed_only_inside_the_guard(shop: dt.datetime) -> None:
    before = EventOutcome.objects.count()
    assert before > 0
    assert "append-only" in refused(raw("DELETE FROM store_eventoutcome"))
    with erasing_allowed(), transaction.atomic():
        raw("DELETE FROM store_eventoutcome")()
    assert EventOutcome.objects.count() == 0
    assert "append-only" in refused(raw("DELETE FROM store_loggedevent"))
