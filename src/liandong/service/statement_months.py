"""Monthly totals of the members' money statements: what the monthly bill reads instead of a month's entries.

For each member, money book (unit fen: points and coupons have their own pages), month (in the shop's time zone)
and ledger rule, one ``StatementMonth`` row holds the sum and the count of those entries and the book's balance
after the latest of them (with its transaction). The worker adds each batch's entries to the rows in the same
database transaction as the entries (``add`` in ``write_batch``), migration 0010 filled them for the entries written
before, and ``liandong verify`` builds them again from its replay and compares.

Example: A's pending book gets +100.00 (transaction 7, 3 March) and +50.00 (transaction 9, 5 March), both
``direct_reward``, then the close of 5 March settles 150.00 into available (transaction 12)::

    (A, pending,   2026-03-01, direct_reward)  amount 15000, entries 2, last_transaction 9,  balance_after 15000
    (A, pending,   2026-03-01, settlement)     amount -15000, entries 1, last_transaction 12, balance_after 0
    (A, available, 2026-03-01, settlement)     amount 15000, entries 1, last_transaction 12, balance_after 15000

A month's opening balance in a book is the ``balance_after`` of the book's row with the highest
``last_transaction`` in an earlier month (0 without one); its closing balance the same over the month and the
earlier ones. A transaction has one instant and one rule, so in one book its entries end in one row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..engine.ledger import NON_CASH_UNITS

#: The columns of ``store_statementmonth`` the worker writes, its key, and the columns a batch adds to.
COLUMNS = ("owner", "book", "month", "rule", "amount", "entries", "last_transaction", "balance_after")
KEY = ("owner", "book", "month", "rule")
ADDED = ("amount", "entries")

Key = tuple[str, str, dt.date, str]


def month_of(at: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The first day of the month ``at`` falls in, in the shop's time zone ``tz``."""
    return at.astimezone(tz).date().replace(day=1)


class MonthTotals:
    """Rows in the making: ``add`` every ledger entry in order (entry id order), then ``rows``."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self.totals: dict[Key, list[int]] = {}  # key -> [amount, entries, last_transaction, balance_after]
        self._months: dict[dt.datetime, dt.date] = {}

    def add(self, transaction: int, rule: str, at: dt.datetime, owner: str, book: str, amount: int,
            balance_after: int) -> None:
        """One entry: only a member's (not an ``@`` account's) money books count."""
        if owner.startswith("@") or book in NON_CASH_UNITS:
            return
        month = self._months.get(at)
        if month is None:
            month = self._months[at] = month_of(at, self.tz)
        key = (owner, book, month, rule)
        row = self.totals.get(key)
        if row is None:
            self.totals[key] = [amount, 1, transaction, balance_after]
        else:
            row[0] += amount
            row[1] += 1
            row[2] = transaction
            row[3] = balance_after

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows in ``COLUMNS`` order (the month as ISO text, which both databases take for a date)."""
        return [(owner, book, month.isoformat(), rule, *values)
                for (owner, book, month, rule), values in self.totals.items()]


def batch_rows(entries: list[tuple[Any, ...]], transactions: list[tuple[Any, ...]],
               tz: dt.tzinfo) -> list[tuple[Any, ...]]:
    """What one worker batch adds: ``entries`` as ``(transaction_id, owner, book, unit, amount, balance_after)``
    and ``transactions`` as ``(id, event, rule, plan, order, source, reverses, ref, at)`` (``worker.ledger_rows``)."""
    of = {t[0]: (t[2], t[8]) for t in transactions}
    totals = MonthTotals(tz)
    for transaction, owner, book, _unit, amount, after in entries:
        rule, at = of[transaction]
        totals.add(transaction, rule, at, owner, book, amount, after)
    return totals.rows()
