"""Multi-level distribution (分销), as the "Distribution plan" of ``shared/spec/distribution.md`` defines it.

A promoter earns a commission on the orders of the buyers bound to it. Level 1 is the buyer's bound promoter,
level 2 that promoter's own bound promoter, and so on up to ``levels`` (1–3). Worked example with
``levels: 2, rates: ["0.10", "0.05"]`` and the default 7-day settlement window::

    P joins; Q joins through P's link (join = opening the link): Q is bound to P
    D opens Q's link ({visit: D, promoter: Q}): D is bound to Q
    D pays 99.00 (order o1)      Q +9.90 → pending   distribution commission · order o1 by D (level 1, 10%)
                                 P +4.95 → pending   distribution commission · order o1 by D (level 2, 5%)
    close_day 7 days later       both settle into available; a refund before that takes them back from pending,
                                 a refund after it from available

Binding. Opening a promoter's link (``visit``) binds the visitor to that promoter; so does joining through a
member's invite link (the referrer, when it is a promoter then). ``binding: first`` keeps the first promoter while
the binding lasts, ``last`` moves the buyer to each new link. ``binding_days`` (0 = forever) is how long a binding
lasts after the visit that made or renewed it (opening the bound promoter's link again renews it); an expired
binding binds nobody, and the next visit binds anew.

Promoters. ``eligibility``: ``anyone`` (every member), ``after_purchase`` (a member with a paid, unrefunded order of
the plan's products) or ``approved`` (the operator's ``approve_promoter``). A link of a member who is not a promoter
binds nobody (the visit is refused, with the reason). A member who is not a promoter when an order is paid earns
nothing for its level; the levels above are still counted through it (no compression). With ``self_commission`` a
promoter's own purchase pays it the level-1 commission and its bound promoter is level 2. A chain that comes back to
a member already in it stops there.

Each commission is ``floor(order amount × rate)`` (a product's rates in ``product_rates`` override ``rates``), credited
with the settlement window; its ledger rule names the level and the rate (``distribution_commission_l1_0.10``), so a
statement line reads ``+9.90 distribution commission · order o1 by D (level 1, 10%)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from ..config_types import Rate01, Yuan
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, register_event
from ..labels import register_rule
from ..ledger import register_reward_rules
from ..module import Module, ModuleConfig
from ..money import format_fen, format_rate

if TYPE_CHECKING:
    from ..core import Engine, Member, Order

PLAN = "distribution"
LEVELS_MAX = 3



def format_percent(rate: Fraction) -> str:
    """Fraction(1, 10) -> '10%'; Fraction(1, 8) -> '12.5%'."""
    text = format_rate(rate * 100)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


@dataclass(frozen=True, slots=True)
class Tier:
    """One level's commission at one rate: the rate as integers, its ledger rule and the reference it carries."""

    level: int
    numerator: int
    denominator: int
    rule: str  # e.g. distribution_commission_l2_0.05, labelled "distribution commission (level 2, 5%)"
    ref: str  # e.g. "level 2 · 5%"

    @classmethod
    def of(cls, level: int, rate: Fraction) -> Tier:
        """Registers the rule's statement label and counts it as a reward (once per rule)."""
        rule = f"distribution_commission_l{level}_{format_rate(rate)}"
        percent = format_percent(rate)
        register_rule(rule, "distribution commission", "分销佣金", f"level {level}, {percent}", f"{level}级, {percent}")
        register_reward_rules(rule)
        return cls(level, rate.numerator, rate.denominator, rule, f"level {level} · {percent}")


class DistributionConfig(ModuleConfig):
    levels: int = Field(1, ge=1, le=LEVELS_MAX)
    rates: list[Rate01] = Field([Fraction(1, 10)], validate_default=True)  # checked against `levels` too
    product_rates: dict[str, list[Rate01]] = {}  # sku -> rates per level, overriding `rates`
    self_commission: bool = False
    binding: Literal["first", "last"] = "first"
    binding_days: int = Field(0, ge=0, le=3650)
    eligibility: Literal["anyone", "after_purchase", "approved"] = "anyone"
    settle_after_days: int = Field(7, ge=0, le=365)
    min_withdrawal: Yuan = Field(1000, ge=1)
    withdrawal_fee_rate: Rate01 = Fraction(0)

    @field_validator("rates")
    @classmethod
    def _rate_per_level(cls, rates: list[Fraction], info: ValidationInfo) -> list[Fraction]:
        _check_rates(rates, info.data.get("levels", 1))
        return rates

    @field_validator("product_rates")
    @classmethod
    def _product_rate_per_level(cls, by_sku: dict[str, list[Fraction]],
                                info: ValidationInfo) -> dict[str, list[Fraction]]:
        for sku, rates in by_sku.items():
            try:
                _check_rates(rates, info.data.get("levels", 1))
            except ValueError as exc:
                raise ValueError(f"{sku}: {exc}") from None
        return by_sku


def _check_rates(rates: list[Fraction], levels: int) -> None:
    if len(rates) != levels:
        raise ValueError(f"{len(rates)} rates for {levels} levels: give one rate per level")
    if sum(rates) > 1:
        raise ValueError(f"the rates add up to {format_rate(sum(rates, Fraction(0)))}, more than 1")


@register_event
class Visit(Event):
    """A member opened a promoter's link (a shared page, a poster's QR code): it binds as ``binding`` says."""

    verb: ClassVar[str] = "visit"
    primary: ClassVar[str] = "member"
    member: MemberId
    promoter: MemberId


@register_event
class ApprovePromoter(Event):
    """The operator approves a member as a promoter (counts when ``eligibility`` is ``approved``)."""

    verb: ClassVar[str] = "approve_promoter"
    primary: ClassVar[str] = "member"
    member: MemberId


@dataclass(slots=True)
class Binding:
    promoter: str
    since: dt.datetime  # the visit (or join) that made or last renewed it
    via: str  # "visit" or "join"


class Distribution(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = DistributionConfig
    config: DistributionConfig

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.bindings: dict[str, Binding] = {}
        self.approved: set[str] = set()
        self.purchases: dict[str, int] = {}  # unrefunded orders of the plan's products, by member
        self.commission_by_level: list[int] = [0] * LEVELS_MAX  # fen credited less reversed
        self.earned: dict[str, int] = {}  # fen credited less reversed, by promoter
        self.entry_buyers: set[str] = set()  # members who bought an entry package (gift pack) under this plan
        self.entry_package_commissions = 0  # commissions paid on a buyer's first entry package (audit flag)
        self.rule_levels: dict[str, int] = {}  # every commission rule used so far -> its level
        self._tiers()

    def reconfigure(self, config: ModuleConfig) -> None:
        super().reconfigure(config)
        self._tiers()

    def _tiers(self) -> None:
        """Each level's commission terms, by product (``product_rates``) and for the rest, once per config."""
        cfg = self.config
        self.tiers = tuple(Tier.of(level, rate) for level, rate in enumerate(cfg.rates, start=1))
        self.product_tiers = {sku: tuple(Tier.of(level, rate) for level, rate in enumerate(rates, start=1))
                              for sku, rates in cfg.product_rates.items()}
        for tiers in (self.tiers, *self.product_tiers.values()):
            self.rule_levels.update((tier.rule, tier.level) for tier in tiers)

    # --- promoters and bindings ------------------------------------------------------------------------------------
    def is_promoter(self, member: str) -> bool:
        eligibility = self.config.eligibility
        if eligibility == "anyone":
            return True
        if eligibility == "after_purchase":
            return self.purchases.get(member, 0) > 0
        return member in self.approved

    def why_not_promoter(self, member: str) -> str:
        if self.config.eligibility == "after_purchase":
            return f"not a promoter: promoters need a paid order (eligibility after_purchase) and {member} has none"
        return f"not a promoter: eligibility is approved and {member} was not approved"

    def bound_promoter(self, member: str, now: dt.datetime) -> str | None:
        """The promoter ``member`` is bound to at ``now``; None when unbound or the binding expired."""
        binding = self.bindings.get(member)
        if binding is None:
            return None
        days = self.config.binding_days
        if days and now >= binding.since + dt.timedelta(days=days):
            return None
        return binding.promoter

    def bind(self, engine: Engine, member: str, promoter: str, via: str) -> None:
        current = self.bound_promoter(member, engine.clock)
        if current is not None and current != promoter and self.config.binding == "first":
            return
        self.bindings[member] = Binding(promoter, engine.clock, via)
        if current != promoter:
            engine.fact("bound", member=member, promoter=promoter, via=via, previous=current)

    def on_join(self, engine: Engine, member: Member) -> None:
        if member.referrer is not None and self.is_promoter(member.referrer):
            self.bind(engine, member.id, member.referrer, "join")

    # --- commissions -----------------------------------------------------------------------------------------------
    def chain(self, buyer: str, now: dt.datetime) -> list[str]:
        """The members at levels 1, 2, … for an order of ``buyer`` at ``now`` (promoters or not)."""
        levels = self.config.levels
        chain = [buyer] if self.config.self_commission and self.is_promoter(buyer) else []
        seen = {buyer}
        current = buyer
        while len(chain) < levels:
            above = self.bound_promoter(current, now)
            if above is None or above in seen:
                break
            seen.add(above)
            chain.append(above)
            current = above
        return chain

    def on_pay(self, engine: Engine, order: Order) -> None:
        buyer = order.member
        tiers = self.product_tiers.get(order.sku, self.tiers) if self.product_tiers else self.tiers
        settle_after_days = self.config.settle_after_days
        paid = 0
        for tier, member in zip(tiers, self.chain(buyer, engine.clock), strict=False):
            if not self.is_promoter(member):
                continue
            amount = order.amount * tier.numerator // tier.denominator
            if amount <= 0:
                continue
            engine.credit_reward(member, amount, tier.rule, PLAN, order=order, source=buyer,
                                 settle_after_days=settle_after_days, ref=tier.ref)
            self.commission_by_level[tier.level - 1] += amount
            self.earned[member] = self.earned.get(member, 0) + amount
            paid += 1
        flagged = 0  # commissions on the buyer's first entry package (the audit report lists them)
        if order.gift_pack:
            if buyer not in self.entry_buyers:
                flagged = paid
                self.entry_package_commissions += paid
            self.entry_buyers.add(buyer)
        order.data[PLAN] = flagged
        self.purchases[buyer] = self.purchases.get(buyer, 0) + 1

    def on_refund(self, engine: Engine, order: Order) -> None:
        """The core takes the commissions back (from pending inside the window); this keeps the counts right."""
        flagged = order.data.get(PLAN)
        if flagged is None:
            return
        for record in order.rewards:
            if record.plan == PLAN:
                self.commission_by_level[self.rule_levels[record.rule] - 1] -= record.amount
                self.earned[record.member] -= record.amount
        self.entry_package_commissions -= flagged
        self.purchases[order.member] -= 1

    def min_withdrawal_fen(self) -> int:
        return self.config.min_withdrawal

    def withdrawal_fee_rate(self) -> Fraction | None:
        return self.config.withdrawal_fee_rate or None

    # --- reading -----------------------------------------------------------------------------------------------
    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {
            "promoter": self.is_promoter(member),
            "bound_to": self.bound_promoter(member, engine.clock),
            "commission": format_fen(self.earned.get(member, 0)),
        }

    def end_state(self, engine: Engine) -> dict[str, Any]:
        levels = self.config.levels
        return {"distribution": {
            "commissions": {f"level {n}": format_fen(self.commission_by_level[n - 1]) for n in range(1, levels + 1)},
            "entry_package_commissions": self.entry_package_commissions,
        }}

    def check_invariants(self, engine: Engine) -> list[str]:
        problems: list[str] = []
        if sum(self.commission_by_level) != sum(self.earned.values()):
            problems.append(f"commissions by level add up to {format_fen(sum(self.commission_by_level))} but by "
                            f"promoter to {format_fen(sum(self.earned.values()))}")
        problems += [f"{m} counts {n} purchases" for m, n in self.purchases.items() if n < 0]
        problems += [f"{m} is bound to itself" for m, b in self.bindings.items() if b.promoter == m]
        return problems


# --- the plan's own events --------------------------------------------------------------------------------------


def _plan(engine: Engine) -> Distribution:
    plan = engine.modules[PLAN]
    assert isinstance(plan, Distribution)
    return plan


def check_visit(engine: Engine, event: Visit) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "visit", event.member)
    if event.promoter not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "promoter", event.promoter)
    if event.promoter == event.member:
        return refuse(Code.INVALID, "promoter", event.promoter, why="a member's own link binds nobody")
    plan = _plan(engine)
    if not plan.is_promoter(event.promoter):
        return refuse(Code.NOT_ALLOWED, "promoter", event.promoter, why=plan.why_not_promoter(event.promoter))
    return None


def apply_visit(engine: Engine, event: Visit) -> None:
    _plan(engine).bind(engine, event.member, event.promoter, "visit")


def check_approve_promoter(engine: Engine, event: ApprovePromoter) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "approve_promoter", event.member)
    if event.member in _plan(engine).approved:
        return refuse(Code.NOT_ALLOWED, "approve_promoter", event.member, why="already approved as a promoter")
    return None


def apply_approve_promoter(engine: Engine, event: ApprovePromoter) -> None:
    _plan(engine).approved.add(event.member)
    engine.fact("promoter_approved", member=event.member)


Distribution.handlers = {
    "visit": (check_visit, apply_visit),
    "approve_promoter": (check_approve_promoter, apply_approve_promoter),
}
