"""Income notices: which ledger transactions tell a member "money arrived", as rows the worker commits.

A transaction makes one notice for each member whose **money** books (unit fen; points and coupons are not money)
it credits on balance, or whose help fund it releases:

- **arrived**: the member's entries on its money books sum above zero: money came from outside the member (a
  reward or commission into pending, a rebate, points cashed at the day's NAV, a red-envelope share, a returned
  group-buy payment). The notice's amount is that sum and its book the book credited most;
- **released**: the sum is zero but the transaction takes money out of the member's help fund (a core member book,
  frozen) into another of its books: the amount released.

A move between the member's own books that frees nothing (pending -> available at settlement, available ->
withdrawing, a rejected withdrawal's return) and every debit (a refund's reversal, a withdrawal's fee) make none.
Example: B's gift pack pays A (an agent) a 100.00 direct reward into pending, then the day's close settles it::

    transaction 7  direct_reward   @platform/reward_expense -100.00  A/pending +100.00   -> notice A +100.00
    transaction 9  settlement      A/pending -100.00                  A/available +100.00 -> none

Keyed on (transaction id, member): the engine numbers transactions in log order, so a replay makes the same keys,
and the database's unique constraint refuses a second notice for the same credit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..engine.ledger import NON_CASH_UNITS, Transaction, is_member_account

#: The member book whose money is frozen until the plan releases it (``core.MEMBER_BOOKS``): leaving it for another
#: of the member's books is a release.
FROZEN_BOOKS = frozenset({"help_fund"})

#: The columns of ``store_membernotice`` the worker writes (``read_at`` starts empty).
COLUMNS = ("transaction_id", "member", "kind", "plan", "amount", "book", "order", "source", "ref", "created_at")


def notices_of(txn: Transaction, at: dt.datetime) -> list[tuple[Any, ...]]:
    """The notice rows (in ``COLUMNS`` order) one transaction makes, members in the order of their entries."""
    credits: dict[str, dict[str, int]] = {}
    for (owner, book), amount in txn.entries:
        if book in NON_CASH_UNITS or not is_member_account((owner, book)):
            continue
        books = credits.setdefault(owner, {})
        books[book] = books.get(book, 0) + amount
    rows = []
    for member, books in credits.items():
        total = sum(books.values())
        if total > 0:
            amount = total
        else:
            frozen_out = -sum(v for b, v in books.items() if b in FROZEN_BOOKS and v < 0)
            amount = min(frozen_out, sum(v for b, v in books.items() if b not in FROZEN_BOOKS and v > 0))
        if amount <= 0:
            continue
        book = max(books, key=lambda b: books[b])
        rows.append((txn.id, member, txn.rule, txn.plan or "", amount, book, txn.order or "", txn.source or "",
                     txn.ref or "", at))
    return rows


def notice_rows(transactions: Iterable[tuple[Transaction, dt.datetime]]) -> list[tuple[Any, ...]]:
    """Every notice of ``transactions`` (each with its instant), in transaction order."""
    return [row for txn, at in transactions for row in notices_of(txn, at)]

