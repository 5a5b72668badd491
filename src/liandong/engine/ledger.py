"""The double-entry ledger: append-only transactions whose entries sum to zero, in integer fen.

An account is a pair ``(owner, book)``. Members own their accounts under their own id; the shop's accounts are
owned by names that start with ``@`` (members may not use ``@``)::

    ("B", "available")            what B may withdraw now (may go below zero: a debt later income repays)
    ("B", "pending")              rewards inside the settlement window
    ("B", "help_fund")            the frozen part of a partner's rewards (chain21 help fund)
    ("B", "withdrawing")          requested withdrawals awaiting review
    ("B", "withdrawn")            withdrawals paid out
    ("@platform", "sales")        paid order amounts less refunds
    ("@platform", "reward_expense")  rewards the platform pays (direct, team, peer, rebate, …)
    ("@pool", "bonus")            the chain21 bonus pool
    ("@external", "payments")     money from outside (buyers paying)

A paid 699.00 gift pack whose buyer's referrer is an agent posts, as separate transactions naming their rule::

    sale              @external/payments -699.00   @platform/sales +699.00
    pool_contribution @platform/pool_contribution -34.95   @pool/bonus +34.95
    direct_reward     @platform/reward_expense -100.00   A/available +100.00

Books that are not money (blind-box coupons, points) carry their own unit and balance separately: a transaction
sums to zero in each unit. Entries are never changed; a refund posts a reversal that names what it reverses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

Account = tuple[str, str]
Entry = tuple[Account, int]

#: Books whose unit is not the fen; every other book is money. Filled from the modules' declared books (``Book.unit``)
#: when the registry registers them.
NON_CASH_UNITS: dict[str, str] = {}

#: Rules whose member-side credits are rewards (reported as ``platform.rewards``): the modules' ``Rule(reward=True)``.
REWARD_RULES: set[str] = set()


def is_member_account(account: Account) -> bool:
    return not account[0].startswith("@")


class LedgerError(AssertionError):
    """A bug: an unbalanced transaction or a broken invariant. Never an expected refusal."""


@dataclass(slots=True)
class Transaction:
    """One balanced movement. ``event`` is the 1-based position of the event that caused it."""

    id: int
    event: int
    rule: str
    entries: tuple[Entry, ...]
    plan: str = ""
    order: str | None = None
    source: str | None = None  # for rewards: the member whose purchase caused it
    reverses: int | None = None  # id of the transaction this one reverses
    ref: str | None = None  # another object it concerns: a withdrawal, a campaign, a group, a day
    at: dt.datetime | None = None  # the instant of the event

    def amount_for(self, owner: str) -> int:
        return sum(a for (o, book), a in self.entries if o == owner and book not in NON_CASH_UNITS)


def account_weight(account: Account) -> int:
    """The weight of an account in the ledger's fingerprint: its hash (per process, which is all the check needs)."""
    return hash(account)


@dataclass(slots=True)
class Ledger:
    """Balances are a projection of the entries; ``check_invariants`` checks them against the entries.

    Besides the balances, every posting adds its entries to two running sums kept apart from them, so the check works
    when the transactions are not kept (the simulator) or were drained (the worker): ``posted_by_book``, the sum of
    the entries per book, and ``posted_fingerprint``, the sum of ``amount × account_weight(account)``. E.g. a sale of
    699.00 adds -69900 to book ``payments`` and +69900 to ``sales``; a balance changed outside a transaction, or moved
    from one account to another without entries, no longer matches them.
    """

    keep_transactions: bool = True
    balances: dict[Account, int] = field(default_factory=dict)
    transactions: list[Transaction] = field(default_factory=list)
    count: int = 0
    member_credits_by_rule: dict[str, int] = field(default_factory=dict)
    posted_by_book: dict[str, int] = field(default_factory=dict)
    posted_fingerprint: int = 0
    drained: int = 0  # transactions handed over by ``drain``

    def post(
        self,
        event: int,
        rule: str,
        entries: Iterable[Entry],
        *,
        plan: str = "",
        order: str | None = None,
        source: str | None = None,
        reverses: int | None = None,
        ref: str | None = None,
        at: dt.datetime | None = None,
    ) -> Transaction:
        entries = tuple(entries)
        total = 0
        member_side = 0
        noncash: dict[str, int] | None = None
        units = NON_CASH_UNITS
        for account, amount in entries:
            unit = units.get(account[1])
            if unit is None:
                total += amount
                if account[0][0] != "@":
                    member_side += amount
            else:
                if noncash is None:
                    noncash = {}
                noncash[unit] = noncash.get(unit, 0) + amount
        if total != 0 or (noncash and any(noncash.values())):
            raise LedgerError(f"unbalanced {rule} transaction: {entries}")
        balances = self.balances
        for account, amount in entries:
            balances[account] = balances.get(account, 0) + amount
        self.count += 1
        txn = Transaction(self.count, event, rule, entries, plan, order, source, reverses, ref, at)
        self._add_to_running_sums(txn.entries)
        if self.keep_transactions:
            self.transactions.append(txn)
        if member_side:
            credits = self.member_credits_by_rule
            credits[rule] = credits.get(rule, 0) + member_side
        return txn

    def transfer(
        self,
        event: int,
        rule: str,
        src: Account,
        dst: Account,
        amount: int,
        *,
        plan: str = "",
        order: str | None = None,
        source: str | None = None,
        reverses: int | None = None,
        ref: str | None = None,
        at: dt.datetime | None = None,
    ) -> Transaction | None:
        """Move ``amount`` from ``src`` to ``dst`` (the common two-entry case, kept fast); nothing for zero."""
        if amount == 0:
            return None
        units = NON_CASH_UNITS
        if units.get(src[1]) != units.get(dst[1]):
            raise LedgerError(f"{rule}: {src} and {dst} hold different units")
        balances = self.balances
        balances[src] = balances.get(src, 0) - amount
        balances[dst] = balances.get(dst, 0) + amount
        self.count += 1
        txn = Transaction(self.count, event, rule, ((src, -amount), (dst, amount)), plan, order, source, reverses,
                          ref, at)
        self._add_to_running_sums(txn.entries)
        if self.keep_transactions:
            self.transactions.append(txn)
        member_side = (amount if dst[0][0] != "@" else 0) - (amount if src[0][0] != "@" else 0)
        if member_side and src[1] not in units:
            credits = self.member_credits_by_rule
            credits[rule] = credits.get(rule, 0) + member_side
        return txn

    def drain(self) -> list[Transaction]:
        """Hand over the transactions posted since the last drain (the worker persists them, then forgets them)."""
        drained, self.transactions = self.transactions, []
        self.drained += len(drained)
        return drained

    def _add_to_running_sums(self, entries: tuple[Entry, ...]) -> None:
        """Add a transaction's entries, as recorded, to the sums ``check_invariants`` holds the balances to."""
        by_book = self.posted_by_book
        fingerprint = self.posted_fingerprint
        for account, amount in entries:
            book = account[1]
            by_book[book] = by_book.get(book, 0) + amount
            fingerprint += amount * hash(account)  # account_weight, inlined: this runs for every entry
        self.posted_fingerprint = fingerprint

    def balance(self, account: Account) -> int:
        return self.balances.get(account, 0)

    def rewards_fen(self) -> int:
        c = self.member_credits_by_rule
        return sum(c.get(r, 0) for r in REWARD_RULES)

    def for_owner(self, owner: str) -> Iterator[Transaction]:
        for txn in self.transactions:
            for (o, _book), _a in txn.entries:
                if o == owner:
                    yield txn
                    break

    def check_invariants(self) -> list[str]:
        """The entries posted sum to zero per unit, and the balances equal what the entries put in them.

        With every transaction still kept: each transaction sums to zero per unit and each balance is the sum of
        its account's entries (naming the account). Then, and always when transactions are not kept or were
        drained, against the running sums: per unit, the entries ever posted sum to zero; per book, the balances
        sum to what the entries posted to that book; and the balances' fingerprint is the entries' (a balance
        changed, or moved between two accounts, outside a transaction).
        """
        if not self.keep_transactions or self.drained:
            return self._check_running_sums()
        problems: list[str] = []
        recomputed: dict[Account, int] = {}
        for txn in self.transactions:
            sums: dict[str, int] = {}
            for account, amount in txn.entries:
                unit = NON_CASH_UNITS.get(account[1], "fen")
                sums[unit] = sums.get(unit, 0) + amount
                recomputed[account] = recomputed.get(account, 0) + amount
            if any(sums.values()):
                problems.append(f"transaction {txn.id} ({txn.rule}) does not sum to zero: {sums}")
        for account in set(recomputed) | set(self.balances):
            if recomputed.get(account, 0) != self.balances.get(account, 0):
                problems.append(
                    f"balance of {account[0]}/{account[1]} is {self.balances.get(account, 0)} "
                    f"but its entries sum to {recomputed.get(account, 0)}"
                )
        return problems or self._check_running_sums()

    def _check_running_sums(self) -> list[str]:
        problems: list[str] = []
        by_unit: dict[str, int] = {}
        for book, total in sorted(self.posted_by_book.items()):
            unit = NON_CASH_UNITS.get(book, "fen")
            by_unit[unit] = by_unit.get(unit, 0) + total
        problems += [f"the entries posted in {unit} sum to {total}, not zero"
                     for unit, total in sorted(by_unit.items()) if total]
        held: dict[str, int] = {}
        fingerprint = 0
        for account, amount in self.balances.items():
            held[account[1]] = held.get(account[1], 0) + amount
            fingerprint += amount * account_weight(account)
        for book in sorted(set(held) | set(self.posted_by_book)):
            if held.get(book, 0) != self.posted_by_book.get(book, 0):
                problems.append(f"balances in book {book} sum to {held.get(book, 0)} "
                                f"but the entries posted to it sum to {self.posted_by_book.get(book, 0)}")
        if fingerprint != self.posted_fingerprint and not problems:
            problems.append("the balances are not what the entries posted put in them "
                            "(a balance was changed or moved outside a transaction)")
        return problems
