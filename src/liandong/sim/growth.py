"""The growth model: who joins, under whom, who buys what and when, who stops. Decides; never touches the engine.

One day of a shop with M = market size, N = members who ever joined (``preset.py`` states the model):

1. founders (day 0 only) join with no referrer;
2. innovators ~ Binomial(M − N, p) join with no referrer; imitators ~ Binomial(open slots, q × (M − N) / M) join,
   each under the owner of a uniformly random open slot (the slot is used up); joins stop at ``members`` or from
   ``stall_day`` on;
3. each new member draws, once: whether it ever recruits (1 − ``never_share``) and how many slots it opens
   (``recruits``); whether it makes the first purchase (``first_share``) and after how many days (geometric with
   mean ``first_delay_days``, 0 = the same day);
4. the day's purchases: due first purchases, then Binomial draws of repeat buyers among members who made it
   (``repeat_daily``, ``first_again_daily``) and of retail buyers among those who did not (``customer_daily``);
5. after the day closes, Binomial(active, ``churn.daily``) members stop for good: they buy and recruit no more.

Worked example (the closed-form test): 1 founder, q = 1, a market too large to saturate, every member opens exactly
2 slots on its first purchase on the day it joins. Day 0: A. Day 1: A's 2 slots fill (B, C). Day 2: 4 slots fill.
Day 3: 8. After day 3 the shop is a full binary tree of 15 members, whatever the seed.

Randomness: one numpy generator (batches, binomials) and one ``random.Random`` (single picks, as
``int(random() * n)``: its bias is below 2^-40 for any shop that fits in memory), both seeded from ``preset.seed``
and drawn in a fixed order: the same preset gives the same shop, member for member.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from .preset import Preset


class IndexedSet:
    """Member indices with O(1) add, remove and uniform pick: a list, and each member's position in it (-1 when
    absent) in a list indexed by member, which is faster than a dict for dense indices."""

    __slots__ = ("items", "pos")

    def __init__(self) -> None:
        self.items: list[int] = []
        self.pos: list[int] = []

    def add(self, item: int) -> None:
        pos = self.pos
        if item >= len(pos):
            pos.extend([-1] * max(item + 1 - len(pos), len(pos)))
        if pos[item] < 0:
            pos[item] = len(self.items)
            self.items.append(item)

    def discard(self, item: int) -> bool:
        pos = self.pos
        if item >= len(pos) or pos[item] < 0:
            return False
        where = pos[item]
        pos[item] = -1
        items = self.items
        last = items.pop()
        if last != item:
            items[where] = last
            pos[last] = where
        return True

    def __contains__(self, item: int) -> bool:
        return item < len(self.pos) and self.pos[item] >= 0

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class DayPlan:
    """What the growth model decided for one day, in the order the runner applies it."""

    joins: list[tuple[int, int]] = field(default_factory=list)  # (member, referrer or -1)
    first_buys: list[int] = field(default_factory=list)
    repeat_buys: list[int] = field(default_factory=list)
    first_again_buys: list[int] = field(default_factory=list)
    customer_buys: list[int] = field(default_factory=list)


class Population:
    """The synthetic members: their invitation graph, their intentions and who is still active."""

    def __init__(self, preset: Preset) -> None:
        self.preset = preset
        self.np_rng = np.random.default_rng(preset.seed)
        self.rng = random.Random(preset.seed)
        self.referrer: list[int] = []
        self.depth: list[int] = []
        self.join_day: list[int] = []
        self.slots_to_open: list[int] = []  # drawn at join; opened when the member starts recruiting
        self.slots_open: list[int] = []  # open slots each member still has
        self.slots: list[int] = []  # one entry per open slot (entries of stopped members are skipped lazily)
        self.live_slots = 0
        self.participants = IndexedSet()  # active, made the first purchase
        self.customers = IndexedSet()  # active, did not
        self.made_first: list[bool] = []
        self.joined_on: list[list[int]] = []  # day -> members who joined that day
        self.first_due: dict[int, list[int]] = {}

    @property
    def size(self) -> int:
        return len(self.referrer)

    @property
    def active(self) -> int:
        return len(self.participants) + len(self.customers)

    # --- joining ------------------------------------------------------------------------------------------------
    def plan_day(self, day: int) -> DayPlan:
        plan = DayPlan()
        p = self.preset
        founders = p.market.founders if day == 0 else 0
        innovators, imitators = self._join_counts(day, founders)
        referrers = [-1] * (founders + innovators)
        for _ in range(imitators):
            referrer = self._take_slot()
            if referrer < 0:
                break
            referrers.append(referrer)
        members = self._add_members(day, referrers)
        plan.joins = list(zip(members, referrers, strict=True))
        self._draw_intentions(day, members)
        plan.first_buys = self.first_due.pop(day, [])
        plan.repeat_buys = self._picks(self.participants, p.purchases.repeat_daily)
        plan.first_again_buys = self._picks(self.participants, p.purchases.first_again_daily)
        plan.customer_buys = self._picks(self.customers, p.purchases.customer_daily)
        return plan

    def _join_counts(self, day: int, founders: int) -> tuple[int, int]:
        p = self.preset
        if p.stall_day is not None and day >= p.stall_day:
            return 0, 0
        room = p.members - self.size - founders
        remaining = p.market.size - self.size - founders
        if room <= 0 or remaining <= 0:
            return 0, 0
        innovators = int(self.np_rng.binomial(remaining, p.market.innovation))
        chance = p.market.imitation * remaining / p.market.size
        imitators = int(self.np_rng.binomial(self.live_slots, chance)) if self.live_slots else 0
        imitators = min(imitators, room)
        return min(innovators, room - imitators), imitators

    def _add_members(self, day: int, referrers: list[int]) -> list[int]:
        """New members with these referrers (-1: none), in join order. Referrers are earlier members: a slot opens
        only after the day's joins."""
        start, n = len(self.referrer), len(referrers)
        members = list(range(start, start + n))
        depth = self.depth
        depth.extend([depth[r] + 1 if r >= 0 else 0 for r in referrers])
        self.referrer.extend(referrers)
        self.join_day.extend([day] * n)
        self.slots_to_open.extend([0] * n)
        self.slots_open.extend([0] * n)
        self.made_first.extend([False] * n)
        for m in members:
            self.customers.add(m)
        self.joined_on.append(members)
        return members

    def _take_slot(self) -> int:
        """The owner of a uniformly random open slot (the slot is used up), or -1 when none is left."""
        slots, random_ = self.slots, self.rng.random
        while slots:
            i = int(random_() * len(slots))
            owner = slots[i]
            slots[i] = slots[-1]
            slots.pop()
            if self.slots_open[owner] > 0:
                self.slots_open[owner] -= 1
                self.live_slots -= 1
                return owner
        return -1

    def _draw_intentions(self, day: int, members: list[int]) -> None:
        if not members:
            return
        p = self.preset
        n = len(members)
        rng = self.np_rng
        recruits = rng.random(n) >= p.recruiting.never_share
        slots = self._slot_counts(n)
        buys = rng.random(n) < p.purchases.first_share
        delays = rng.geometric(1.0 / (1.0 + p.purchases.first_delay_days), n) - 1
        anyone = p.recruiting.recruiters == "anyone"
        for m, rec, k, buy, delay in zip(members, recruits.tolist(), slots.tolist(), buys.tolist(), delays.tolist(),
                                         strict=True):
            self.slots_to_open[m] = k if rec else 0
            if anyone:
                self.open_slots(m)
            if buy:
                self.first_due.setdefault(day + delay, []).append(m)

    def _slot_counts(self, n: int) -> np.ndarray:
        r = self.preset.recruiting
        if r.distribution == "fixed":
            return np.full(n, round(r.mean), dtype=np.int64)
        if r.distribution == "poisson":
            return 1 + self.np_rng.poisson(r.mean - 1.0, n)
        return self.np_rng.geometric(1.0 / r.mean, n)

    def open_slots(self, member: int) -> None:
        k = self.slots_to_open[member]
        if k and self.is_active(member):
            self.slots_to_open[member] = 0
            self.slots_open[member] += k
            self.live_slots += k
            self.slots.extend([member] * k)

    # --- purchases and stopping -----------------------------------------------------------------------------------
    def first_purchase_made(self, member: int) -> None:
        """The member's first purchase went through: it now buys again at the participants' rate (and recruits)."""
        if self.made_first[member]:
            return
        self.made_first[member] = True
        if self.customers.discard(member):
            self.participants.add(member)
        if self.preset.recruiting.recruiters == "buyers":
            self.open_slots(member)

    def is_active(self, member: int) -> bool:
        return member in self.participants or member in self.customers

    def _picks(self, pool: IndexedSet, chance: float) -> list[int]:
        if not pool or chance <= 0:
            return []
        k = int(self.np_rng.binomial(len(pool), chance))
        items, random_, n = pool.items, self.rng.random, len(pool.items)
        return [items[int(random_() * n)] for _ in range(k)]

    def churn(self) -> list[int]:
        """Members who stop today (after the day's close)."""
        active = self.active
        if not active or self.preset.churn.daily <= 0:
            return []
        k = int(self.np_rng.binomial(active, self.preset.churn.daily))
        stopped = []
        random_ = self.rng.random
        for _ in range(k):
            i = int(random_() * self.active)
            n_part = len(self.participants)
            member = self.participants.items[i] if i < n_part else self.customers.items[i - n_part]
            if not self.participants.discard(member):
                self.customers.discard(member)
            self.live_slots -= self.slots_open[member]
            self.slots_open[member] = 0
            self.slots_to_open[member] = 0
            stopped.append(member)
        return stopped

    def refund_day(self, day: int) -> int | None:
        """Whether an order paid today will be refunded, and on which day."""
        p = self.preset.purchases
        if p.refund_share <= 0 or self.rng.random() >= p.refund_share:
            return None
        return day + int(self.rng.random() * (p.refund_within_days + 1))
