"""The chain 2+1 plan (链动2+1), as ``shared/spec/chain21.md`` defines it.

Worked example (699.00 gift pack, defaults)::

    A joins, buys                     A agent
    A1 (referred by A) buys           A +100.00 direct (agent rate)
    A2 (referred by A) buys           A +100.00 direct; then A is promoted: seeds A1, A2 join A's team
    B  (referred by A) buys           A +300.00 direct: 240.00 available + 60.00 help fund (seeds not partners)
    C  (referred by B) buys           B +100.00 direct; A +200.00 team reward (C is in A's team): 160 + 40
    every order                       5% into the bonus pool, shared at close_day by partners' rewarded sales

Ranks are effective: ``member`` without an unrefunded gift pack, else ``partner`` once promoted, else ``agent``.
A promotion is permanent; a refund takes away only the gift pack behind the rank. Teams are set at join and when a
member becomes an agent (``team = R if R is a partner else team(R)``), and move only when a member is promoted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..config_types import Rate01, Yuan
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, register_event
from ..i18n import gettext_noop, translate
from ..ledger import Account
from ..module import Module, ModuleConfig, Rule, SimAdapter, Verb
from ..money import apply_rate, format_fen

if TYPE_CHECKING:
    from ..core import Engine, Member, Order

POOL: Account = ("@pool", "bonus")
POOL_FUNDING: Account = ("@platform", "pool_contribution")
PLAN = "chain21"

RULES = (
    Rule("direct_reward", gettext_noop("direct reward"), gettext_noop("your referral"), reward=True),
    Rule("team_reward", gettext_noop("team reward"), gettext_noop("your team"), reward=True),
    Rule("peer_reward", gettext_noop("peer reward"), gettext_noop("your partner's reward"), reward=True),
    Rule("self_rebate", gettext_noop("self-purchase rebate"), reward=True),
    Rule("bonus_share", gettext_noop("bonus pool share"), reward=True),
    Rule("help_fund_release", gettext_noop("help fund released")),
    Rule("pool_contribution", gettext_noop("bonus pool contribution")),
)

#: What releases a member's help fund, as its member read says it (``{names}``: its seeds).
RELEASES_WHEN = gettext_noop("when every seed ({names}) has become a partner, the whole help fund moves to available "
                             "and later rewards are paid whole")

#: The plan's refusal codes (transposition), with the field and the value they name.
CODES = {
    "not_a_partner": gettext_noop("{field} {value} is not a partner"),
    "not_a_seed": gettext_noop("seed {value} is not a seed of {partner}"),
    "seed_already_partner": gettext_noop("seed {value} is already a partner: nothing to replace"),
    "transpose_too_early": gettext_noop("at {value} is less than {days} days after {partner} became a partner "
                                        "({promoted})"),
    # the field is always `with` (the replacement), spelled out: the Chinese names no field
    "not_referred_by": gettext_noop("with {value} was not referred by {partner}"),
    "already_a_seed": gettext_noop("with {value} is already a seed of {partner}"),
}



class RankAmounts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    agent: Yuan = Field(ge=0)
    partner: Yuan = Field(ge=0)


class Chain21Config(ModuleConfig):
    promote_after: int = Field(2, ge=1, le=100)
    seed_count: int = Field(2, ge=0, le=100)
    # defaults are fen and exact fractions (a config file writes "100.00" and "0.10")
    self_rebate: RankAmounts = RankAmounts.model_construct(agent=10000, partner=30000)
    direct_reward: RankAmounts = RankAmounts.model_construct(agent=10000, partner=30000)
    team_reward: Yuan = Field(20000, ge=0)
    peer_rate: Rate01 = Fraction(1, 10)
    bonus_pool_rate: Rate01 = Fraction(5, 100)
    help_fund_rate: Rate01 = Fraction(20, 100)
    transpose_after_days: int = Field(30, ge=0)
    reward_repeat_purchases: bool = False
    settle_after_days: int = Field(0, ge=0, le=365)
    min_withdrawal: Yuan = Field(1000, ge=1)
    plan: str | None = None  # allowed so a plan file can say `plan: chain21`

    @field_validator("seed_count")
    @classmethod
    def _seeds_fit(cls, seed_count: int, info: ValidationInfo) -> int:
        """Seeds are among the direct agents that promote: an error on ``seed_count`` names that key."""
        promote_after = info.data.get("promote_after")
        if promote_after is not None and seed_count > promote_after:
            raise ValueError(f"seed_count {seed_count} is more than promote_after {promote_after}")
        return seed_count


@register_event
class Transpose(Event):
    """换位: replace a stalled seed S of partner R with Z, a partner R referred directly."""

    verb: ClassVar[str] = "transpose"
    primary: ClassVar[str] = "partner"
    partner: MemberId
    seed: MemberId
    with_: MemberId = Field(alias="with")


@dataclass(slots=True)
class OrderFacts:
    """What an order did in the plan, kept for its refund: its pool contribution, the partners whose bonus-pool
    weight it raised, and whether it was a gift pack counted toward a rank."""

    pool: int = 0
    weighted: list[str] = field(default_factory=list)
    gift: bool = False


@dataclass(slots=True)
class Standing:
    """A member's place in the plan."""

    gift_orders: int = 0  # unrefunded gift-pack orders
    agent_since: int = 0  # event seq of the purchase that (last) made it an agent
    promoted_at: dt.datetime | None = None
    seeds: list[str] = field(default_factory=list)
    team: str | None = None
    direct_agents: int = 0  # referrals who now hold agent or partner rank
    released: bool = False  # help fund released (all seeds promoted)
    promoted_referrals: list[str] = field(default_factory=list)  # its referrals promoted, in promotion order

    @property
    def rank(self) -> str:
        if self.gift_orders == 0:
            return "member"
        return "partner" if self.promoted_at is not None else "agent"


class Chain21Adapter(SimAdapter):
    """The simulator's reading: ranks member < agent < partner; the bonus pool and the partners' help funds as
    series; ``bonus_share`` is paid from the pool, weighted by rewarded gift-pack sales of others, so the audit
    counts it as team-based pay triggered by recruits' entry purchases."""

    ranks: ClassVar[tuple[str, ...]] = ("member", "agent", "partner")
    pooled_rules: ClassVar[dict[str, tuple[bool, bool]]] = {"bonus_share": (True, True)}
    series_names: ClassVar[tuple[str, ...]] = ("bonus_pool", "help_fund")

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.help_funds: list[tuple[str, str]] = []  # help funds live only with promoted members

    def rank_of(self, engine: Engine, member: str) -> str | None:
        module = engine.modules[self.plan_kind]
        assert isinstance(module, Chain21)
        return module.standing[member].rank

    def observe(self, engine: Engine, fact: dict[str, Any]) -> None:
        if fact["fact"] == "promoted":
            self.help_funds.append((fact["member"], "help_fund"))

    def series(self, engine: Engine) -> dict[str, int]:
        balances = engine.ledger.balances
        frozen = sum(balances.get(account, 0) for account in self.help_funds)
        return {"bonus_pool": balances.get(POOL, 0), "help_fund": frozen}

    def committed(self, engine: Engine) -> int:
        return engine.ledger.balances.get(POOL, 0)


class Chain21(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = Chain21Config
    config: Chain21Config
    rules = RULES
    codes = CODES
    accounts = (POOL, POOL_FUNDING)
    provides = {"team_leader": "team_leader_of", "team_size": "team_size_of"}
    sim_adapter = Chain21Adapter

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.standing: dict[str, Standing] = {}
        self.weights: dict[str, int] = {}  # bonus-pool weight since the last close, by partner
        self.orders: dict[str, OrderFacts] = {}  # every order the plan saw
        # seeds re-parented away from the partner whose seeds they are: seed -> those partners (its promotion
        # must still release their help funds, as its referrer's)
        self.seed_elsewhere: dict[str, list[str]] = {}
        self.team_sizes: dict[str, int] = {}  # members whose team is each leader (promoted or not now)

    # --- ranks and teams ---------------------------------------------------------------------------------------
    def rank(self, member: str) -> str:
        return self.standing[member].rank

    def team_leader_of(self, engine: Engine, member: str) -> str | None:
        """The ``team_leader`` capability: the partner whose team the member is in, while it is a partner."""
        leader = self.standing[member].team
        return leader if leader is not None and self.rank(leader) == "partner" else None

    def _team_from(self, referrer: str | None) -> str | None:
        if referrer is None:
            return None
        r = self.standing[referrer]
        return referrer if r.rank == "partner" else r.team

    def team_size_of(self, engine: Engine, member: str) -> int:
        """The ``team_size`` capability: how many members have ``member`` as their team (its ``team`` column)."""
        return self.team_sizes.get(member, 0)

    def _set_team(self, engine: Engine, s: Standing, leader: str | None) -> None:
        """Every change of a member's team goes through here: it keeps the team sizes (and tells the engine whose
        counts changed, ``Engine.recounted``)."""
        old = s.team
        if old == leader:
            return
        sizes, recounted = self.team_sizes, engine.recounted
        if old is not None:
            sizes[old] -= 1
            if recounted is not None:
                recounted.add(old)
        if leader is not None:
            sizes[leader] = sizes.get(leader, 0) + 1
            if recounted is not None:
                recounted.add(leader)
        s.team = leader

    def on_join(self, engine: Engine, member: Member) -> None:
        s = self.standing[member.id] = Standing()
        self._set_team(engine, s, self._team_from(member.referrer))

    def on_reparent(self, engine: Engine, member: Member, previous: str | None) -> None:
        """``reparent_member`` moved ``member`` under a new referrer (docs/reparenting.md): its rank counts as a
        direct agent of the new referrer instead of the old one (and a promoted member among the new referrer's
        promoted referrals); members of the moved subtree who were in a team led from outside it take the team a
        member joining there would get (top-down: the parent if it is a partner, else the parent's team); teams
        led from inside the subtree stay; seeds, help funds, weights and earned rewards stay. Then the new referrer
        is promoted if it now has ``promote_after`` direct agents."""
        standing = self.standing
        moved = standing[member.id]
        new = member.referrer
        assert new is not None
        if moved.rank != "member":
            if previous is not None:
                standing[previous].direct_agents -= 1
            standing[new].direct_agents += 1
        if previous is not None and member.id in standing[previous].seeds:
            self.seed_elsewhere.setdefault(member.id, []).append(previous)
        if moved.promoted_at is not None:
            if previous is not None and member.id in standing[previous].promoted_referrals:
                standing[previous].promoted_referrals.remove(member.id)
            standing[new].promoted_referrals.append(member.id)
        inside: set[str] = set()
        order: list[str] = []
        stack = [member.id]
        while stack:  # the subtree, each member after its referrer
            current = stack.pop()
            inside.add(current)
            order.append(current)
            stack.extend(engine.members[current].children)
        for d in order:
            ds = standing[d]
            if ds.promoted_at is not None or (ds.team is not None and ds.team in inside):
                continue
            self._set_team(engine, ds, self._team_from(engine.members[d].referrer))
        self._check_promotion(engine, new)

    def _freezes(self, s: Standing) -> bool:
        return s.promoted_at is not None and not s.released

    def help_fund_open(self, engine: Engine, member: str) -> bool:
        return self._freezes(self.standing[member])

    # --- rewards -----------------------------------------------------------------------------------------------
    def _reward(self, engine: Engine, member: str, amount: int, rule: str, order: Order | None,
                source: str | None, from_account: Account | None = None) -> None:
        s = self.standing[member]
        frozen = apply_rate(amount, self.config.help_fund_rate) if self._freezes(s) else 0
        if from_account is None:
            engine.credit_reward(member, amount, rule, PLAN, order=order, source=source, frozen=frozen,
                                 settle_after_days=self.config.settle_after_days)
        else:
            engine.credit_reward(member, amount, rule, PLAN, source=source, frozen=frozen,
                                 from_account=from_account)

    def _referral_reward(self, engine: Engine, member: str, amount: int, rule: str, order: Order) -> None:
        """A direct or team reward: counts toward the bonus-pool weight and pays the peer reward above."""
        if amount <= 0:
            return
        self._reward(engine, member, amount, rule, order, order.member)
        if self.standing[member].rank != "partner":
            return
        self.weights[member] = self.weights.get(member, 0) + order.amount
        self.orders[order.id].weighted.append(member)
        above = engine.members[member].referrer
        if above is not None and self.standing[above].rank == "partner":
            self._reward(engine, above, apply_rate(amount, self.config.peer_rate), "peer_reward", order,
                         order.member)

    def on_pay(self, engine: Engine, order: Order) -> None:
        cfg = self.config
        facts = self.orders[order.id] = OrderFacts()
        contribution = apply_rate(order.amount, cfg.bonus_pool_rate)
        if contribution:
            engine.transfer("pool_contribution", POOL_FUNDING, POOL, contribution, plan=PLAN, order=order.id,
                            source=order.member)
            facts.pool = contribution
        if not order.gift_pack:
            return
        buyer = order.member
        x = self.standing[buyer]
        first = x.rank == "member"
        if not first:
            rebate = cfg.self_rebate.partner if x.rank == "partner" else cfg.self_rebate.agent
            self._reward(engine, buyer, rebate, "self_rebate", order, buyer)
        x.gift_orders += 1
        facts.gift = True
        referrer = engine.members[buyer].referrer
        if first:
            x.agent_since = engine.seq
            if x.promoted_at is None:
                self._set_team(engine, x, self._team_from(referrer))
            if referrer is not None:
                self.standing[referrer].direct_agents += 1
            engine.fact("rank_gained", member=buyer, rank=x.rank, order=order.id)
        if first or cfg.reward_repeat_purchases:
            if referrer is not None:
                r_rank = self.standing[referrer].rank
                if r_rank != "member":
                    amount = cfg.direct_reward.partner if r_rank == "partner" else cfg.direct_reward.agent
                    self._referral_reward(engine, referrer, amount, "direct_reward", order)
            leader = x.team
            if leader is not None and leader != referrer and self.standing[leader].rank == "partner":
                self._referral_reward(engine, leader, cfg.team_reward, "team_reward", order)
        if first:
            if referrer is not None:
                self._check_promotion(engine, referrer)
            self._check_promotion(engine, buyer)

    # --- promotion, seeds and the help fund ---------------------------------------------------------------------
    def _check_promotion(self, engine: Engine, member: str) -> None:
        s = self.standing[member]
        if s.promoted_at is None and s.rank == "agent" and s.direct_agents >= self.config.promote_after:
            self._promote(engine, member)

    def _promote(self, engine: Engine, member: str) -> None:
        s = self.standing[member]
        s.promoted_at = engine.clock
        standing = self.standing
        agents = [c for c in engine.members[member].children if standing[c].rank != "member"]
        agents.sort(key=lambda c: (standing[c].agent_since, engine.members[c].index))
        s.seeds = agents[: self.config.seed_count]
        if s.team is not None:
            self._set_team(engine, s, None)  # it leads its own team now; its seeds stay in the team above
        else:
            stack = list(engine.members[member].children)
            while stack:  # no team above: the teamless, unpromoted part of its subtree joins its team
                d = stack.pop()
                ds = standing[d]
                if ds.team is None and ds.promoted_at is None:
                    self._set_team(engine, ds, member)
                stack.extend(engine.members[d].children)
        engine.fact("promoted", member=member, seeds=list(s.seeds))
        self._check_release(engine, member)
        above = engine.members[member].referrer
        if above is not None:
            standing[above].promoted_referrals.append(member)
            if member in standing[above].seeds:
                self._check_release(engine, above)
        for holder in self.seed_elsewhere.get(member, ()):  # a seed re-parented away still releases its partner
            if holder != above and member in standing[holder].seeds:
                self._check_release(engine, holder)

    def _check_release(self, engine: Engine, member: str) -> None:
        s = self.standing[member]
        if s.promoted_at is None or s.released:
            return
        if all(self.standing[seed].promoted_at is not None for seed in s.seeds):
            s.released = True
            held = engine.balance(member, "help_fund")
            if held > 0:
                engine.transfer("help_fund_release", (member, "help_fund"), (member, "available"), held,
                                plan=PLAN, ref=member)
            engine.fact("help_fund_released", member=member, amount=format_fen(max(held, 0)))

    # --- refunds and the day's close ----------------------------------------------------------------------------
    def on_refund(self, engine: Engine, order: Order) -> None:
        facts = self.orders.get(order.id)
        if facts is None:
            return
        same_day = engine.closes == order.closes_before
        contribution = facts.pool
        if contribution and same_day:  # after the close the platform bears it
            engine.transfer("pool_contribution", POOL, POOL_FUNDING, contribution, plan=PLAN, order=order.id,
                            source=order.member)
        if same_day:
            for partner in facts.weighted:
                self.weights[partner] -= order.amount
        if facts.gift:
            x = self.standing[order.member]
            x.gift_orders -= 1
            if x.gift_orders == 0:
                referrer = engine.members[order.member].referrer
                if referrer is not None:
                    self.standing[referrer].direct_agents -= 1
                engine.fact("rank_lost", member=order.member)

    def on_close_day(self, engine: Engine, day: dt.date) -> None:
        pool = engine.ledger.balances.get(POOL, 0)
        sharing = [
            (engine.members[p].index, p, w)
            for p, w in self.weights.items()
            if w > 0 and self.standing[p].rank == "partner"
        ]
        total = sum(w for _i, _p, w in sharing)
        if pool > 0 and total > 0:
            for _index, partner, weight in sorted(sharing):
                share = pool * weight // total
                if share:
                    self._reward(engine, partner, share, "bonus_share", None, None, from_account=POOL)
        self.weights.clear()

    def min_withdrawal_fen(self) -> int:
        return self.config.min_withdrawal

    def rewards_above_price(self, config: ModuleConfig, sku: str, price: int, gift_pack: bool) -> list[tuple[str, int]]:
        """Each fixed reward a sale of gift pack ``sku`` can pay, against its price: with a 0.01 gift pack,
        ``direct_reward.agent`` 100.00 is more than 0.01 (so is every other key at its default). Only gift packs the
        plan covers pay these; the whole first-sale payout (direct + team + peer + pool, up to 569.95 on the demo's
        399.00 tea pack) is the audit's to grade (docs/chain21-decisions.md)."""
        assert isinstance(config, Chain21Config)
        if not gift_pack or (config.skus is not None and sku not in config.skus):
            return []
        amounts = [("direct_reward.agent", config.direct_reward.agent),
                   ("direct_reward.partner", config.direct_reward.partner), ("team_reward", config.team_reward),
                   ("self_rebate.agent", config.self_rebate.agent), ("self_rebate.partner", config.self_rebate.partner)]
        return [(key, amount) for key, amount in amounts if amount > price]

    # --- reading -----------------------------------------------------------------------------------------------
    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        s = self.standing[member]
        return {"rank": s.rank, "team": s.team, "seeds": list(s.seeds)}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"pools": {"bonus": format_fen(engine.ledger.balances.get(POOL, 0))}}

    def progress(self, engine: Engine, member: str) -> dict[str, Any]:
        """What a member's page shows: rank, direct agents toward partner, seeds and what releases the fund."""
        s = self.standing[member]
        return {
            "rank": s.rank,
            "direct_agents": s.direct_agents,
            "promote_after": self.config.promote_after,
            "promoted_at": s.promoted_at.isoformat() if s.promoted_at else None,
            "team": s.team,
            "seeds": [{"member": seed, "rank": self.standing[seed].rank,
                       "promoted": self.standing[seed].promoted_at is not None,
                       "direct_agents": self.standing[seed].direct_agents} for seed in s.seeds],
            "help_fund": format_fen(engine.balance(member, "help_fund")),
            "help_fund_released": s.released,
        }

    def member_read(self, engine: Engine, member: str) -> dict[str, Any]:
        """What a member's pages show: its rank and exactly what is left to the next one, what each rank earns, its
        seeds and how far each is from partner, its help fund and what releases it."""
        read = self.progress(engine, member)
        s = self.standing[member]
        needed = self.config.promote_after
        read["agents_to_partner"] = 0 if s.promoted_at is not None else max(needed - s.direct_agents, 0)
        waiting = [seed for seed in s.seeds if self.standing[seed].promoted_at is None]
        names = ", ".join(s.seeds) or "none yet"
        read["help_fund_waiting_for"] = waiting
        read["help_fund_releases_when"] = RELEASES_WHEN.format(names=names)
        read["help_fund_releases_when_zh"] = translate(RELEASES_WHEN, "zh-hans").format(names=names)
        read["earns"] = self.earnings_table()
        # a rank taken away by a refund: it held a gift pack and holds none now (its promotion, if any, stays)
        read["gift_packs"] = s.gift_orders
        read["rank_refunded"] = s.gift_orders == 0 and s.agent_since > 0
        # transposition (an operator's event): from when, which seeds it may replace, with whom
        read["transpose_after_days"] = self.config.transpose_after_days
        read["transpose_from"] = ((s.promoted_at + dt.timedelta(days=self.config.transpose_after_days)).isoformat()
                                  if s.promoted_at is not None else None)
        read["transpose_with"] = [z for z in s.promoted_referrals if z not in s.seeds]
        return read

    def earnings_table(self) -> dict[str, dict[str, str]]:
        """What each rank earns under the current config (published on the member's page)."""
        cfg = self.config
        from ..money import format_rate

        return {
            "member": {},
            "agent": {"direct_reward": format_fen(cfg.direct_reward.agent),
                      "self_rebate": format_fen(cfg.self_rebate.agent)},
            "partner": {"direct_reward": format_fen(cfg.direct_reward.partner),
                        "self_rebate": format_fen(cfg.self_rebate.partner),
                        "team_reward": format_fen(cfg.team_reward), "peer_rate": format_rate(cfg.peer_rate),
                        "help_fund_rate": format_rate(cfg.help_fund_rate),
                        "bonus_pool_rate": format_rate(cfg.bonus_pool_rate)},
        }

    def shop_read(self, engine: Engine) -> dict[str, Any]:
        return {"bonus_pool": format_fen(engine.ledger.balances.get(POOL, 0)), "earns": self.earnings_table(),
                "promote_after": self.config.promote_after}

    def team_members(self, leader: str) -> list[str]:
        return [m for m, s in self.standing.items() if s.team == leader]

    def check_invariants(self, engine: Engine) -> list[str]:
        problems: list[str] = []
        members = engine.members
        for m, s in self.standing.items():
            if s.team is not None:
                if self.standing[s.team].promoted_at is None:
                    problems.append(f"{m}'s team leader {s.team} was never promoted")
                ancestor = members[m].referrer
                while ancestor is not None and ancestor != s.team:
                    ancestor = members[ancestor].referrer
                if ancestor is None:
                    problems.append(f"{m}'s team leader {s.team} is not its ancestor")
                if s.promoted_at is not None:
                    problems.append(f"partner {m} is in team {s.team}")
            released = s.promoted_at is not None and all(self.standing[x].promoted_at for x in s.seeds)
            if released and engine.balance(m, "help_fund") != 0:
                    problems.append(f"{m}'s seeds are all partners but its help fund holds "
                                    f"{format_fen(engine.balance(m, 'help_fund'))}")
            agents = sum(1 for c in members[m].children if self.standing[c].rank != "member")
            if agents != s.direct_agents:
                problems.append(f"{m} counts {s.direct_agents} direct agents but has {agents}")
        if engine.ledger.balances.get(POOL, 0) < 0:
            problems.append("the bonus pool is below zero")
        counted: dict[str, int] = {}
        for s in self.standing.values():
            if s.team is not None:
                counted[s.team] = counted.get(s.team, 0) + 1
        if counted != {k: v for k, v in self.team_sizes.items() if v}:
            problems.append("the team sizes kept are not the members' teams counted")
        return problems


# --- the plan's own event -------------------------------------------------------------------------------------


def check_transpose(engine: Engine, event: Transpose) -> Refusal | None:
    plan = engine.modules[PLAN]
    assert isinstance(plan, Chain21)
    st = plan.standing
    if event.partner not in st:
        return refuse(Code.MEMBER_UNKNOWN, "transpose", event.partner)
    r = st[event.partner]
    if r.promoted_at is None:
        return refuse("not_a_partner", "transpose", event.partner)
    if event.seed not in r.seeds:
        return refuse("not_a_seed", "seed", event.seed, partner=event.partner)
    if st[event.seed].promoted_at is not None:
        return refuse("seed_already_partner", "seed", event.seed)
    days = plan.config.transpose_after_days
    if event.at < r.promoted_at + dt.timedelta(days=days):
        return refuse("transpose_too_early", "at", event.at.isoformat(), days=days, partner=event.partner,
                      promoted=r.promoted_at.isoformat())
    z = event.with_
    if z not in st:
        return refuse(Code.MEMBER_UNKNOWN, "with", z)
    if engine.members[z].referrer != event.partner:
        return refuse("not_referred_by", "with", z, partner=event.partner)
    if st[z].promoted_at is None:
        return refuse("not_a_partner", "with", z)
    if z in r.seeds:
        return refuse("already_a_seed", "with", z, partner=event.partner)
    return None


def apply_transpose(engine: Engine, event: Transpose) -> None:
    plan = engine.modules[PLAN]
    assert isinstance(plan, Chain21)
    r = plan.standing[event.partner]
    r.seeds[r.seeds.index(event.seed)] = event.with_
    engine.fact("transposed", partner=event.partner, seed=event.seed, with_=event.with_)
    plan._check_release(engine, event.partner)


Chain21.verbs = (
    # the partner asks for it from 我的团队 (the seed and the partner by invite code), or the operator does it; the
    # same rule decides either way, and refuses with its reason
    Verb(Transpose, check_transpose, apply_transpose, senders=("operator", "member"), member_field="partner",
         member_refs=("seed", "with"), permission="configure_plan",
         example={"partner": "m3kq7", "seed": "m8hx2", "with": "m5pd9"}),
)
