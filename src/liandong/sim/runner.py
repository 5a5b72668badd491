"""The runner: turns the growth model's decisions into engine events, applies them, and measures each day.

One simulated day, in this order (every event goes through ``Engine.apply``, exactly as ``liandong replay``
would apply it; ``--events FILE`` writes the same events out as a scenario):

    join ×N   first purchases   repeat purchases   refunds due   withdrawals (every k days)   close_day   churn

Times: day d's events are at 00:00:01, 00:00:02, … of that day (they share the last second on a day with more
than 86,398 events); ``close_day`` is at 23:59:59. Member ids are ``m<n>`` (join order), orders ``o<n>``,
withdrawals ``w<n>``. A refused event is counted by its code (a healthy run refuses nothing).

Several runs (``run_many``) spread over processes, or over a Dask cluster; each run is a pure function of the plan,
the preset and the seed, so a run's figures are the same wherever it runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from itertools import repeat
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ..engine import events as ev
from ..engine.core import MEMBER_BOOKS, withdrawal_policy
from ..engine.registry import new_engine
from .growth import Population
from .metrics import Collector
from .planfile import PlanSpec, shop_for
from .plans import SimAdapter, adapter_for
from .preset import Preset

DayCallback = Callable[[int, int], None]
LAST_SECOND = 86_398
_SECONDS = [dt.timedelta(seconds=s) for s in range(LAST_SECOND + 1)]  # built once: constructing one costs more


class EventSink(Protocol):
    """Where applied events go besides the engine (``export.ScenarioWriter`` writes them to a scenario file)."""

    def write(self, event: ev.Event) -> None: ...


class Simulation:
    """One run: an engine, a population and a collector. ``run()`` returns the metrics."""

    def __init__(self, plan: PlanSpec, preset: Preset, *, sink: EventSink | None = None,
                 check_invariants: bool = False) -> None:
        self.plan, self.preset, self.sink = plan, preset, sink
        self.check_every_event = check_invariants
        self.engine = new_engine(shop_for(plan.plans, preset))
        self.adapters: list[SimAdapter] = [adapter_for(kind) for kind in plan.plans]
        self.population = Population(preset)
        self.tz = ZoneInfo(preset.timezone)
        self.products = {p.sku: p for p in preset.products}
        self.entry_skus = preset.entry_skus()
        # per sku: (price, cost + shipping, is an entry package), read on every order
        self.sku_terms = {p.sku: (p.price, p.cost + p.shipping, p.sku in self.entry_skus) for p in preset.products}
        self.referrer = self.population.referrer  # the same list the population extends
        # what the simulator knows that the ledger does not say per member
        self.ids: list[str] = []
        self.spend: list[int] = []
        self.own_sales: list[int] = []  # orders of the member's direct referrals
        self.fees: list[int] = []
        self.entry_order: list[str | None] = []
        self.entry_orders: set[str] = set()
        self.earners: set[str] = set()  # members ever paid (on an order, or at a close) ...
        self.earner_accounts: list[tuple[str, str]] = []  # ... and their available accounts, in the order first paid
        # plan series (a walk over partners' help funds, …) every day up to 200,000 members, weekly above
        self.series_every = 1 if preset.members <= 200_000 else 7
        self.ranked = [a for a in self.adapters if a.ranks]
        self.rank_of: dict[str, list[str | None]] = {a.plan_kind: [] for a in self.ranked}
        self.rank_counts: dict[str, Counter[str]] = {a.plan_kind: Counter() for a in self.ranked}
        self.touched: set[str] = set()
        self.refund_due: dict[int, list[str]] = {}
        self.costs = self.withdrawn = self.fees_total = 0
        self.events = self.orders_paid = self.refunds = self.withdrawals = self.refused_count = 0
        self.refused_codes: Counter[str] = Counter()
        self._day_start = self.engine.clock
        self._tick = 0
        self.collector = Collector(self)

    # --- events --------------------------------------------------------------------------------------------------
    def _at(self) -> dt.datetime:
        tick = self._tick = self._tick + 1
        return self._day_start + _SECONDS[tick if tick < LAST_SECOND else LAST_SECOND]

    def apply(self, event: ev.Event) -> bool:
        outcome = self.engine.apply(event)
        self.events += 1
        if self.sink is not None:
            self.sink.write(event)
        if self.check_every_event:
            problems = self.engine.check_invariants()
            assert not problems, f"after event {self.events} ({event.describe()}): {problems}"
        if outcome.refusal is not None:
            self.refused_count += 1
            self.refused_codes[str(outcome.refusal.code)] += 1
            return False
        for fact in outcome.facts:
            for adapter in self.adapters:
                adapter.observe(self.engine, fact)
                member = adapter.touched_by(fact)
                if member is not None:
                    self.touched.add(member)
        return True

    def index_of(self, member: str) -> int:
        return int(member[1:])

    def rewards_of(self, member: int) -> int:
        """Everything credited to the member less reversals: the sum of its books plus the fees it paid. A member
        never paid (not an earner) has no balance at all."""
        mid = self.ids[member]
        if mid not in self.earners:
            return 0
        get = self.engine.ledger.balances.get
        available, pending, help_fund, withdrawing, withdrawn = MEMBER_BOOKS
        return (get((mid, available), 0) + get((mid, pending), 0) + get((mid, help_fund), 0)
                + get((mid, withdrawing), 0) + get((mid, withdrawn), 0) + self.fees[member])

    # --- a day ---------------------------------------------------------------------------------------------------
    def run(self, on_day: DayCallback | None = None) -> dict[str, Any]:
        for day in range(self.preset.days):
            self.run_day(day)
            if on_day is not None:
                on_day(day, self.preset.days)
        return self.collector.finish()

    def run_day(self, day: int) -> None:
        pop = self.population
        date = self.preset.start + dt.timedelta(days=day)
        self._day_start = dt.datetime.combine(date, dt.time(0, 0, 0), tzinfo=self.tz)
        self._tick = 0
        orders_before = self.orders_paid
        plan = pop.plan_day(day)
        for member, referrer in plan.joins:
            self._join(member, referrer)
        first_sku, repeat_sku = self.preset.purchases.first_sku, self.preset.purchases.repeat_sku
        for member in plan.first_buys:
            if pop.is_active(member) and self._pay(day, member, first_sku):
                pop.first_purchase_made(member)
        for member in plan.repeat_buys:
            self._pay(day, member, repeat_sku)
        for member in plan.first_again_buys:
            self._pay(day, member, first_sku)
        for member in plan.customer_buys:
            self._pay(day, member, repeat_sku)
        for order in self.refund_due.pop(day, []):
            self._refund(order)
        every = self.preset.withdrawals.every_days
        if day % every == every - 1:
            self._withdrawals()
        self.apply(ev.CloseDay(at=self.engine.end_of_day(date), day=date))
        self._paid_at_close()
        self._update_ranks()
        self.collector.close_day(day, len(plan.joins), self.orders_paid - orders_before)
        pop.churn()

    def _join(self, member: int, referrer: int) -> None:
        mid = f"m{member}"
        assert len(self.ids) == member, "members join in index order"
        self.ids.append(mid)
        self.spend.append(0)
        self.own_sales.append(0)
        self.fees.append(0)
        self.entry_order.append(None)
        self.apply(ev.Join(at=self._at(), member=mid, referrer=self.ids[referrer] if referrer >= 0 else None))
        for adapter in self.ranked:
            rank = adapter.rank_of(self.engine, mid)
            self.rank_of[adapter.plan_kind].append(rank)
            self.rank_counts[adapter.plan_kind][rank or ""] += 1

    def _pay(self, day: int, member: int, sku: str) -> bool:
        self.orders_paid += 1
        order = f"o{self.orders_paid}"
        mid = self.ids[member]
        if not self.apply(ev.Pay(at=self._at(), member=mid, sku=sku, order=order)):
            return False
        price, cost, entry = self.sku_terms[sku]
        self.spend[member] += price
        referrer = self.referrer[member]
        if referrer >= 0:
            self.own_sales[referrer] += price
        self.costs += cost
        if entry and self.entry_order[member] is None:
            self.entry_order[member] = order
            self.entry_orders.add(order)
        earners = self.earners
        for record in self.engine.orders[order].rewards:
            if record.member not in earners:
                self.add_earner(record.member)
        self.touched.add(mid)
        refund_day = self.population.refund_day(day)
        if refund_day is not None:
            self.refund_due.setdefault(refund_day, []).append(order)
        return True

    def add_earner(self, mid: str) -> None:
        self.earners.add(mid)
        self.earner_accounts.append((mid, "available"))

    def _paid_at_close(self) -> None:
        """Members a plan pays at the close without an order (points holders) become earners too."""
        for adapter in self.adapters:
            for mid in adapter.paid_at_close(self.engine):
                if mid not in self.earners:
                    self.add_earner(mid)

    def _refund(self, order_id: str) -> None:
        order = self.engine.orders[order_id]
        if order.refunded or not self.apply(ev.Refund(at=self._at(), order=order_id)):
            return
        self.refunds += 1
        member = self.index_of(order.member)
        self.spend[member] -= order.amount
        referrer = self.referrer[member]
        if referrer >= 0:
            self.own_sales[referrer] -= order.amount
        self.costs -= self.products[order.sku].cost * order.quantity
        self.touched.add(order.member)

    def _withdrawals(self) -> None:
        """Every member whose available balance reached the threshold withdraws all of it; approved at once."""
        minimum, _fee = withdrawal_policy(self.engine)
        threshold = max(self.preset.withdrawals.threshold, minimum)
        accounts = self.earner_accounts
        amounts = list(map(self.engine.ledger.balances.get, accounts, repeat(0)))
        for (mid, _book), amount in zip(accounts, amounts, strict=True):
            if amount < threshold:
                continue
            self.withdrawals += 1
            wid = f"w{self.withdrawals}"
            if self.apply(ev.Withdraw(at=self._at(), member=mid, amount=amount, withdrawal=wid)):
                self.apply(ev.ApproveWithdrawal(at=self._at(), withdrawal=wid))
                fee = self.engine.withdrawals[wid].fee
                self.withdrawn += amount - fee
                self.fees[self.index_of(mid)] += fee
                self.fees_total += fee

    def _update_ranks(self) -> None:
        for adapter in self.ranked:
            ranks, counts = self.rank_of[adapter.plan_kind], self.rank_counts[adapter.plan_kind]
            for mid in self.touched:
                i = self.index_of(mid)
                new = adapter.rank_of(self.engine, mid)
                if new != ranks[i]:
                    counts[ranks[i] or ""] -= 1
                    counts[new or ""] += 1
                    ranks[i] = new
        self.touched.clear()
