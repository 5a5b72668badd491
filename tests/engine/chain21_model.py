"""A small, plain model of the chain 2+1 plan, written from the rulebook (/work/shared/spec/chain21.md) and the
decisions in docs/chain21-decisions.md, NOT from the engine's code: the state machine in ``test_stateful.py``
(``Chain21ModelMachine``) runs it beside the engine and compares every member's available, help fund, rank and team
after every step, and the bonus pool.

It covers what a shop with real-time settlement (``settle_after_days: 0``) and no withdrawals does: joins, teams,
gift-pack purchases (agents; promotion after the order's rewards, the referrer first; seeds; detaching and the
"2"), direct, team and peer rewards and the self-purchase rebate (``reward_repeat_purchases`` either way), the help
fund split and its release, transposition, the bonus pool (contribution on every order of the plan's products,
shares at ``close_day`` by rewarded sales of partners), refunds (every reward reversed where it went; the pool
contribution only before the next close; rank lost with the last gift pack), and the refusals of those events.

Amounts are integer fen; rates are exact fractions, floored.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo


def fen(yuan: str) -> int:
    """'300.00' -> 30000 (the rulebook's amounts all have two decimals)."""
    whole, _, cents = yuan.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


@dataclass
class ModelConfig:
    promote_after: int = 2
    seed_count: int = 2
    self_rebate: dict[str, int] = field(default_factory=lambda: {"agent": 10000, "partner": 30000})
    direct_reward: dict[str, int] = field(default_factory=lambda: {"agent": 10000, "partner": 30000})
    team_reward: int = 20000
    peer_rate: Fraction = Fraction(1, 10)
    bonus_pool_rate: Fraction = Fraction(5, 100)
    help_fund_rate: Fraction = Fraction(20, 100)
    transpose_after_days: int = 30
    reward_repeat_purchases: bool = False
    skus: list[str] | None = None  # None: every product

    @classmethod
    def from_plan(cls, config: dict[str, Any]) -> ModelConfig:
        """The plan's config keys (strings for money and rates, as in a shop file)."""
        out = cls()
        for key, value in config.items():
            if key in ("promote_after", "seed_count", "transpose_after_days"):
                setattr(out, key, int(value))
            elif key in ("peer_rate", "bonus_pool_rate", "help_fund_rate"):
                setattr(out, key, Fraction(value))
            elif key == "team_reward":
                out.team_reward = fen(value)
            elif key in ("self_rebate", "direct_reward"):
                setattr(out, key, {rank: fen(v) for rank, v in value.items()})
            elif key == "reward_repeat_purchases":
                out.reward_repeat_purchases = bool(value)
            elif key == "skus":
                out.skus = list(value)
            elif key == "settle_after_days":
                assert int(value) == 0, "the model settles in real time only"
            else:
                raise KeyError(f"the model does not know config key {key}")
        return out


@dataclass
class ModelMember:
    id: str
    referrer: str | None
    joined: int  # join order
    team: str | None = None
    gift_orders: set[str] = field(default_factory=set)  # unrefunded gift-pack orders of the plan
    promoted_at: dt.datetime | None = None
    agent_since: int = 0  # the event number at which it (last) became an agent
    seeds: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    available: int = 0
    help_fund: int = 0

    @property
    def rank(self) -> str:
        """Effective rank: member without an unrefunded gift pack; else partner once promoted, else agent."""
        if not self.gift_orders:
            return "member"
        return "partner" if self.promoted_at is not None else "agent"


@dataclass
class Credit:
    member: str
    available: int
    frozen: int


@dataclass
class ModelOrder:
    id: str
    member: str
    amount: int
    in_plan: bool
    gift: bool
    closes_at_pay: int
    contribution: int = 0
    credits: list[Credit] = field(default_factory=list)
    weight_to: set[str] = field(default_factory=set)  # partners credited a direct or team reward on it
    refunded: bool = False


class Chain21Model:
    """The plan's state and the core's refusals for the events it models. ``apply_*`` return whether accepted."""

    def __init__(self, config: ModelConfig, prices: dict[str, int], gift_packs: set[str], start: dt.datetime,
                 timezone: str = "Asia/Shanghai") -> None:
        self.config = config
        self.prices = prices
        self.gift_packs = gift_packs
        self.clock = start
        self.tz = ZoneInfo(timezone)
        self.members: dict[str, ModelMember] = {}
        self.orders: dict[str, ModelOrder] = {}
        self.pool = 0
        self.closes = 0
        self.events = 0
        self.facts: Counter[str] = Counter()  # how often each rule fired, for the test's statistics

    # --- the clock (every event) -----------------------------------------------------------------------------------
    @property
    def today(self) -> dt.date:
        return self.clock.astimezone(self.tz).date()

    def advance(self, at: dt.datetime, close_day: dt.date | None = None) -> bool:
        """An ``at`` before the clock, or a close of a day before the clock's, is refused and changes nothing; any
        other event moves the clock (to the end of the closed day for a close), even if refused afterwards."""
        self.events += 1
        if at < self.clock or (close_day is not None and close_day < self.today):
            return False
        if close_day is not None:
            at = max(at, dt.datetime.combine(close_day, dt.time(23, 59, 59), tzinfo=self.tz))
        self.clock = max(self.clock, at)
        return True

    # --- small rules -----------------------------------------------------------------------------------------------
    def rank(self, member: str | None) -> str:
        return "member" if member is None else self.members[member].rank

    def direct_agents(self, member: str) -> list[str]:
        """Referrals who now hold agent or partner rank, in the order they (last) became agents."""
        m = self.members[member]
        agents = [c for c in m.children if self.members[c].rank != "member"]
        return sorted(agents, key=lambda c: (self.members[c].agent_since, self.members[c].joined))

    def freezes(self, member: str) -> bool:
        """A promoted member with a seed not yet promoted has part of every reward frozen."""
        m = self.members[member]
        return m.promoted_at is not None and any(self.members[s].promoted_at is None for s in m.seeds)

    def team_from(self, referrer: str | None) -> str | None:
        if referrer is None:
            return None
        return referrer if self.rank(referrer) == "partner" else self.members[referrer].team

    def credit(self, member: str, amount: int, order: ModelOrder | None) -> None:
        if amount <= 0:
            return
        frozen = math.floor(amount * self.config.help_fund_rate) if self.freezes(member) else 0
        m = self.members[member]
        m.help_fund += frozen
        m.available += amount - frozen
        self.facts["reward with a frozen part" if frozen else "reward paid whole"] += 1
        if order is not None:
            order.credits.append(Credit(member, amount - frozen, frozen))

    def referral_reward(self, member: str, amount: int, order: ModelOrder) -> None:
        """A direct or team reward, with the peer reward it causes and the bonus-pool weight."""
        was_partner = self.rank(member) == "partner"
        self.credit(member, amount, order)
        if was_partner:
            order.weight_to.add(member)
            above = self.members[member].referrer
            if above is not None and self.rank(above) == "partner":
                self.credit(above, math.floor(amount * self.config.peer_rate), order)

    def release_where_done(self) -> None:
        """A partner whose seeds are all promoted has its help fund moved to available."""
        for m in self.members.values():
            if m.help_fund and not self.freezes(m.id):
                self.facts["help fund released"] += 1
                m.available += m.help_fund
                m.help_fund = 0

    def subtree(self, member: str) -> list[str]:
        out: list[str] = []
        stack = list(self.members[member].children)
        while stack:
            x = stack.pop()
            out.append(x)
            stack.extend(self.members[x].children)
        return out

    def check_promotion(self, member: str | None) -> None:
        if member is None:
            return
        m = self.members[member]
        if m.rank != "agent" or len(self.direct_agents(member)) < self.config.promote_after:
            return
        m.promoted_at = self.clock
        self.facts["promotion"] += 1
        m.seeds = self.direct_agents(member)[: self.config.seed_count]
        had_team, m.team = m.team, None
        if had_team is None:  # nobody above to hand the seeds to: the teamless, unpromoted subtree joins
            for x in self.subtree(member):
                if self.members[x].team is None and self.members[x].promoted_at is None:
                    self.members[x].team = member
                    self.facts["teamless member joins a new partner's team"] += 1
        self.release_where_done()

    # --- events ----------------------------------------------------------------------------------------------------
    def join(self, at: dt.datetime, member: str, referrer: str | None) -> bool:
        if not self.advance(at) or member in self.members or (referrer is not None and referrer not in self.members):
            return False
        self.members[member] = ModelMember(member, referrer, len(self.members), team=self.team_from(referrer))
        if referrer is not None:
            self.members[referrer].children.append(member)
        return True

    def pay(self, at: dt.datetime, member: str, sku: str, order_id: str) -> bool:
        if not self.advance(at) or member not in self.members or sku not in self.prices or order_id in self.orders:
            return False
        amount = self.prices[sku]
        in_plan = self.config.skus is None or sku in self.config.skus
        order = ModelOrder(order_id, member, amount, in_plan, in_plan and sku in self.gift_packs, self.closes)
        self.orders[order_id] = order
        if not in_plan:
            return True
        order.contribution = math.floor(amount * self.config.bonus_pool_rate)
        self.pool += order.contribution
        if not order.gift:
            return True
        x = self.members[member]
        config = self.config
        referral = True
        if x.rank != "member":  # a repeat purchase
            self.facts["repeat purchase"] += 1
            self.credit(member, config.self_rebate[x.rank], order)
            referral = config.reward_repeat_purchases
            x.gift_orders.add(order_id)
        else:
            x.gift_orders.add(order_id)
            x.agent_since = self.events
            if x.promoted_at is None:
                x.team = self.team_from(x.referrer)
        if referral:
            r, leader = x.referrer, x.team
            if r is not None and self.rank(r) != "member":
                self.referral_reward(r, config.direct_reward[self.rank(r)], order)
            if leader is not None and self.rank(leader) == "partner" and leader != r:
                self.referral_reward(leader, config.team_reward, order)
        self.check_promotion(x.referrer)  # the referrer first (docs/chain21-decisions.md)
        self.check_promotion(member)
        return True

    def refund(self, at: dt.datetime, order_id: str) -> bool:
        order = self.orders.get(order_id)
        if not self.advance(at) or order is None or order.refunded:
            return False
        order.refunded = True
        if order.closes_at_pay == self.closes:
            self.pool -= order.contribution  # after a close the platform bears it
        elif order.contribution:
            self.facts["pool contribution kept after a close"] += 1
        for credit in order.credits:
            m = self.members[credit.member]
            from_fund = min(credit.frozen, m.help_fund)  # a released fund is in available
            m.help_fund -= from_fund
            m.available -= credit.available + credit.frozen - from_fund
            self.facts["reversal of a frozen part from available" if from_fund < credit.frozen
                       else "reversal"] += 1
        if order.gift and order.in_plan and len(self.members[order.member].gift_orders) == 1:
            self.facts["rank lost by a refund"] += 1
        self.members[order.member].gift_orders.discard(order_id)
        return True

    def close_day(self, at: dt.datetime, day: dt.date) -> bool:
        if not self.advance(at, close_day=day):
            return False
        weights: dict[str, int] = {}
        for order in self.orders.values():
            if order.closes_at_pay == self.closes and not order.refunded:
                for member in order.weight_to:
                    weights[member] = weights.get(member, 0) + order.amount
        sharing = sorted((m for m in weights if self.rank(m) == "partner"), key=lambda m: self.members[m].joined)
        total = sum(weights[m] for m in sharing)
        pool = self.pool
        for member in sharing:
            share = pool * weights[member] // total
            self.pool -= share
            self.credit(member, share, None)
            self.facts["bonus share"] += 1
        self.closes += 1
        return True

    def transpose(self, at: dt.datetime, partner: str, seed: str, with_: str) -> bool:
        if not self.advance(at):
            return False
        r = self.members.get(partner)
        s, z = self.members.get(seed), self.members.get(with_)
        if (r is None or r.promoted_at is None or seed not in r.seeds or s is None or s.promoted_at is not None
                or at < r.promoted_at + dt.timedelta(days=self.config.transpose_after_days)
                or z is None or z.referrer != partner or z.promoted_at is None or with_ in r.seeds):
            return False
        r.seeds[r.seeds.index(seed)] = with_
        self.facts["transposition"] += 1
        self.release_where_done()
        return True

    def other(self, at: dt.datetime) -> bool:
        """An event the model does not change anything for (a tick); it moves the clock."""
        return self.advance(at)

    def refused(self, at: dt.datetime) -> bool:
        """An event that is always refused here (a decision on a withdrawal that does not exist)."""
        self.advance(at)
        return False
