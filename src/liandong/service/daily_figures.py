"""The shop's figures per business day (the shop's time zone): what the back office's dashboard reads instead of
the ledger. The worker adds each batch's figures in the same database transaction as its entries (``add`` in
``write_batch``, an upsert that adds to ``amount`` and ``count``), migration 0011 built them for the events applied
before by replaying the log (``rebuild``), and ``liandong verify`` builds them again from its replay and compares.

One ``DailyFigure`` row per (day, figure, plan, key):

    figure     plan    key         amount (fen)                                     count
    sales      ""      ""          paid into @platform/sales                        sale postings (orders paid)
    refunds    ""      ""          taken back out of @platform/sales (positive)     refund postings
    cost_of_goods ""   ""          quantity × the product's unit cost when paid,    sales with a cost, less
                                   less the refunded ones                           the refunded ones
    sales_without_cost "" ""       the sales of orders whose product had no cost    those orders, less the
                                   when paid, less the refunded ones                refunded ones
    reward     a plan  its rule    what members were credited by a reward rule      rewards credited
                                   (``Rule(reward=True)``), less its reversals
    pools      ""      the book    the change of the @pool accounts (bonus pool, points reserve): money the plans
                                   hold for members
    book       ""      the book    the change of every member's balance in a money book (available, help_fund, …)
    owing      ""      ""          the change of what members owe (available below zero)   members owing (change)
    joined     ""      ""          0                                                members who joined
    rank       a plan  a rank      0                                                members who reached the rank
    rank_lost  a plan  a rank      0                                                members who lost the rank
    rank_held  a plan  a rank      0                    the change of the members holding the rank (above the lowest)

A balance now is the sum of its figure over every day (``book`` help_fund: the help funds frozen; ``owing``: the
debts; ``rank_held``: the agents and partners now). Example: on 2026-03-01 B (referred by agent A) buys the 699.00
gift pack and becomes an agent::

    (2026-03-01, sales,  "",      "",              69900, 1)
    (2026-03-01, reward, chain21, direct_reward,   10000, 1)
    (2026-03-01, pools,  "",      bonus,            3495, 0)
    (2026-03-01, book,   "",      available,       10000, 0)
    (2026-03-01, joined, "",      "",                  0, 1)      (B's join, if it was that day)
    (2026-03-01, rank,   chain21, agent,               0, 1)
    (2026-03-01, rank_held, chain21, agent,            0, 1)

Ranks are read per event right after the engine applied it (``observe``): the members an event names, or that a
fact it recorded names, are compared with the rank this keeps for them (``RankMemory``, built from the engine when
the worker loads). Money figures come from the ledger entries with their balance after (``add_entry``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..engine.core import SALES, Engine
from ..engine.events import Join
from ..engine.ledger import NON_CASH_UNITS, REWARD_RULES, Transaction
from ..engine.module import SimAdapter
from .feed import Applied

#: The columns of ``store_dailyfigure`` the worker writes, its key, and the columns a batch adds to.
COLUMNS = ("day", "figure", "plan", "key", "amount", "count")
KEY = ("day", "figure", "plan", "key")
ADDED = ("amount", "count")

Key = tuple[dt.date, str, str, str]


def ranked_adapters(engine: Engine) -> list[SimAdapter]:
    """The running modules that have ranks (their declared ``sim_adapter``: ranks lowest first, ``rank_of``)."""
    adapters = [type(module).sim_adapter(kind) for kind, module in engine.modules.items()]
    return [adapter for adapter in adapters if adapter.ranks]


class RankMemory:
    """Each ranked plan's members above its lowest rank (plan -> member -> rank): what ``observe`` compares with."""

    def __init__(self, adapters: list[SimAdapter]) -> None:
        self.adapters = adapters
        self.above: dict[str, dict[str, str]] = {a.plan_kind: {} for a in adapters}

    @classmethod
    def of(cls, engine: Engine) -> RankMemory:
        """The ranks the engine holds now (the worker, after replaying up to its position)."""
        memory = cls(ranked_adapters(engine))
        for adapter in memory.adapters:
            lowest, above = adapter.ranks[0], memory.above[adapter.plan_kind]
            for member in engine.members:
                rank = _rank(adapter, engine, member)
                if rank is not None and rank != lowest:
                    above[member] = rank
        return memory


def _rank(adapter: SimAdapter, engine: Engine, member: str) -> str | None:
    try:
        return adapter.rank_of(engine, member)
    except KeyError:  # a member the plan does not know
        return None


class DayFigures:
    """Rows in the making: ``observe`` each applied event right after it is applied and ``add_entry`` every ledger
    entry in order (or ``add_batch``), then ``rows``."""

    def __init__(self, tz: dt.tzinfo, ranks: RankMemory) -> None:
        self.tz = tz
        self.ranks = ranks
        self.totals: dict[Key, list[int]] = {}
        self._last: tuple[dt.datetime | None, dt.date] = (None, dt.date.min)  # the last instant and its day
        self._counted: int | None = None  # the last reward transaction counted

    def day_of(self, at: dt.datetime) -> dt.date:
        """The business day of ``at``; the transactions of one event share their instant (the same object)."""
        last, day = self._last
        if at is not last:
            day = at.astimezone(self.tz).date()
            self._last = (at, day)
        return day

    def add(self, day: dt.date, figure: str, plan: str, key: str, amount: int, count: int) -> None:
        row = self.totals.get((day, figure, plan, key))
        if row is None:
            self.totals[(day, figure, plan, key)] = [amount, count]
        else:
            row[0] += amount
            row[1] += count

    # --- events -----------------------------------------------------------------------------------------------
    def observe(self, engine: Engine, applied: Applied) -> None:
        """An event the engine just applied (its state is the one right after it): joins, the cost of the goods
        sold and rank changes."""
        event = applied.event
        if event is None or not applied.applied:
            return
        if isinstance(event, Join):
            self.add(self.day_of(event.at), "joined", "", "", 0, 1)
        for txn in applied.transactions:
            if txn.rule == "sale" and txn.order is not None:
                self.add_cost_of_goods(engine, txn)
        if not self.ranks.adapters:
            return
        members = engine.members
        # the members the event's fields name (a pydantic model keeps its fields' values in __dict__)
        named = {value for value in event.__dict__.values() if value.__class__ is str and value in members}
        for adapter in self.ranks.adapters:
            candidates = named
            if applied.facts:
                candidates = set(named)
                for fact in applied.facts:
                    member = adapter.touched_by(fact)
                    if member is not None and member in members:
                        candidates.add(member)
            lowest, above, order = adapter.ranks[0], self.ranks.above[adapter.plan_kind], adapter.ranks
            for member in sorted(candidates) if len(candidates) > 1 else candidates:
                new = _rank(adapter, engine, member)
                if new is None:
                    continue
                old = above.get(member, lowest)
                if new == old:
                    continue
                if new == lowest:
                    del above[member]
                else:
                    above[member] = new
                day = self.day_of(event.at)
                if order.index(new) > order.index(old):
                    self.add(day, "rank", adapter.plan_kind, new, 0, 1)
                else:
                    self.add(day, "rank_lost", adapter.plan_kind, old, 0, 1)
                if new != lowest:
                    self.add(day, "rank_held", adapter.plan_kind, new, 0, 1)
                if old != lowest:
                    self.add(day, "rank_held", adapter.plan_kind, old, 0, -1)

    def add_cost_of_goods(self, engine: Engine, txn: Transaction) -> None:
        """A sale posting (or its refund): its order's quantity × the unit cost kept on the order when it was paid,
        or, with no cost known, its amount among the sales without a cost."""
        order = engine.orders.get(txn.order or "")
        sold = sum(amount for account, amount in txn.entries if account == SALES)
        if order is None or not sold:
            return
        sign = 1 if sold > 0 else -1
        from .worker import transaction_instant  # the instant its sale is counted on (``sales``)

        day = self.day_of(transaction_instant(txn, engine.clock))
        if order.unit_cost is None:
            self.add(day, "sales_without_cost", "", "", sold, sign)
        else:
            self.add(day, "cost_of_goods", "", "", sign * order.quantity * order.unit_cost, sign)

    # --- money ------------------------------------------------------------------------------------------------
    def add_entry(self, transaction: int, rule: str, plan: str, reverses: int | None, day: dt.date, owner: str,
                  book: str, amount: int, balance_after: int) -> None:
        """One ledger entry, in entry order, with its account's balance after it (``day``: its transaction's
        business day, ``day_of`` its instant)."""
        if book in NON_CASH_UNITS or not amount:
            return
        if owner[0] == "@":
            if (owner, book) == SALES:
                if amount > 0:
                    self.add(day, "sales", "", "", amount, 1)
                else:
                    self.add(day, "refunds", "", "", -amount, 1)
            elif owner == "@pool":
                self.add(day, "pools", "", book, amount, 0)
            return
        self.add(day, "book", "", book, amount, 0)
        if rule in REWARD_RULES:
            counted = reverses is None and amount > 0 and self._counted != transaction
            self.add(day, "reward", plan, rule, amount, 1 if counted else 0)
            if counted:
                self._counted = transaction
        if book == "available":
            before = balance_after - amount
            owed = max(-balance_after, 0) - max(-before, 0)
            owing = (balance_after < 0) - (before < 0)
            if owed or owing:
                self.add(day, "owing", "", "", owed, owing)

    def add_batch(self, entries: Iterable[tuple[Any, ...]], transactions: Iterable[tuple[Any, ...]]) -> None:
        """A worker batch's rows: ``entries`` as ``(transaction_id, owner, book, unit, amount, balance_after)`` and
        ``transactions`` as ``(id, event, rule, plan, order, source, reverses, ref, at)`` (``worker.ledger_rows``)."""
        day_of = self.day_of
        of = {t[0]: (t[2], t[3], t[6], day_of(t[8])) for t in transactions}
        for transaction, owner, book, _unit, amount, after in entries:
            rule, plan, reverses, day = of[transaction]
            self.add_entry(transaction, rule, plan, reverses, day, owner, book, amount, after)

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows in ``COLUMNS`` order (the day as ISO text, which both databases take for a date), leaving out
        the ones that add nothing."""
        return [(day.isoformat(), figure, plan, key, amount, count)
                for (day, figure, plan, key), (amount, count) in self.totals.items() if amount or count]


def replay(engine: Engine, log: Iterable[tuple[int, str, dict[str, Any], dt.datetime]], auto_close_days: bool,
           figures: DayFigures | None = None) -> DayFigures:
    """The figures of ``log`` (``(position, verb, payload, created_at)`` in position order, from the first event)
    applied to ``engine``, a fresh engine of the shop: what the worker wrote, built again (migration 0011)."""
    from .feed import apply_logged
    from .worker import transaction_instant

    figures = figures or DayFigures(engine.tz, RankMemory(ranked_adapters(engine)))
    running: dict[tuple[str, str], int] = {}
    for position, verb, payload, created in log:
        applied = apply_logged(engine, position, verb, payload, created, auto_close_days)
        figures.observe(engine, applied)
        for txn in applied.transactions:
            day = figures.day_of(transaction_instant(txn, engine.clock))
            for account, amount in txn.entries:
                after = running[account] = running.get(account, 0) + amount
                figures.add_entry(txn.id, txn.rule, txn.plan or "", txn.reverses, day, account[0], account[1],
                                  amount, after)
        engine.ledger.transactions.clear()
    return figures
