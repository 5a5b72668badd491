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
the plan's products) or ``approved`` (the operator's ``approve_promoter``). Under ``approved`` a member may ask
first (``apply_promoter``): the application waits until the operator approves it or rejects it with a reason the
member reads (``reject_promoter``); after a rejection the member may apply again. The operator may also approve a
member who never applied. A link of a member who is not a promoter
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
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from ..config_types import Rate01, Yuan
from ..errors import Code, Refusal, refuse
from ..events import Event, MemberId, register_event
from ..i18n import gettext_noop
from ..module import Module, ModuleConfig, Rule, SimAdapter, Verb
from ..money import format_fen, format_rate

if TYPE_CHECKING:
    from ..core import Engine, Member, Order, RewardRecord

PLAN = "distribution"
LEVELS_MAX = 3
#: The longest reason an operator gives for rejecting a promoter application.
REASON_MAX = 200

#: The plan's own refusal codes (English msgids; their Chinese is in the catalogue).
CODES = {
    "promoter_application_not_needed": gettext_noop(
        "{field} {value}: eligibility is {eligibility}, so there is no application to make"),
    "promoter_already_approved": gettext_noop("{field} {value} is already approved as a promoter"),
    "promoter_application_pending": gettext_noop("{field} {value}: an application is already waiting for the "
                                                 "operator's decision"),
    "promoter_no_application": gettext_noop("{field} {value}: no promoter application is waiting for a decision"),
    "promoter_not_approved": gettext_noop("{field} {value} is not an approved promoter: there is no approval to "
                                          "revoke"),
}
#: A rejection's reason as the operator writes it: 1–200 characters, no control characters but line breaks.
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX, pattern=r"^[^\x00-\x09\x0b-\x1f\x7f\s]"
                                                                         r"[^\x00-\x09\x0b-\x1f\x7f]*$")]


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
    rule: str  # distribution_commission_l2: "distribution commission (level 2, 5%)" with its ref
    ref: str  # the rate, e.g. "5%"

    @classmethod
    def of(cls, level: int, rate: Fraction) -> Tier:
        return cls(level, rate.numerator, rate.denominator, f"distribution_commission_l{level}", format_percent(rate))


#: One rule per level, declared once; the rate of each commission is in its transaction's ref ("5%").
RULES = tuple(Rule(f"distribution_commission_l{level}", gettext_noop("distribution commission"),
                   gettext_noop("level {level}, {ref}"), reward=True, note_params=(("level", str(level)),))
              for level in range(1, LEVELS_MAX + 1))


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
    channel: Literal["link", "poster"] = "link"


@register_event
class ApprovePromoter(Event):
    """The operator approves a member as a promoter (counts when ``eligibility`` is ``approved``)."""

    verb: ClassVar[str] = "approve_promoter"
    primary: ClassVar[str] = "member"
    member: MemberId


@register_event
class ApplyPromoter(Event):
    """A member asks to become a promoter (when ``eligibility`` is ``approved``); the operator approves
    (``approve_promoter``) or rejects it with a reason (``reject_promoter``)."""

    verb: ClassVar[str] = "apply_promoter"
    primary: ClassVar[str] = "member"
    member: MemberId


@register_event
class RejectPromoter(Event):
    """The operator rejects a member's waiting promoter application, with the reason the member will read; the
    member may apply again."""

    verb: ClassVar[str] = "reject_promoter"
    primary: ClassVar[str] = "member"
    member: MemberId
    reason: Reason


@register_event
class RevokePromoter(Event):
    """The operator takes a promoter's approval back, with the reason the member reads. From then on the member is
    not a promoter (under ``eligibility: approved``): it earns nothing on later orders and its links bind nobody;
    the buyers bound to it stay bound (the levels above still count through it), commissions already credited stay
    (pending ones settle as usual). It may apply again (docs/events-distribution.md)."""

    verb: ClassVar[str] = "revoke_promoter"
    primary: ClassVar[str] = "member"
    member: MemberId
    reason: Reason


@dataclass(slots=True)
class Application:
    """A member's latest promoter application: ``pending`` until the operator approves or rejects it."""

    status: Literal["pending", "approved", "rejected"]
    applied_at: dt.datetime
    decided_at: dt.datetime | None = None
    reason: str | None = None  # the operator's, on a rejection

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "applied_at": self.applied_at.isoformat(),
                "decided_at": self.decided_at.isoformat() if self.decided_at else None, "reason": self.reason}


@dataclass(slots=True)
class Binding:
    promoter: str
    since: dt.datetime  # the visit (or join) that made or last renewed it
    via: str  # the channel: "link" or "poster" (a visit), or "join" (joined through the promoter's invite)
    first: dt.datetime | None = None  # when this promoter first bound the member (renewals keep it)


class DistributionAdapter(SimAdapter):
    """Promoters earn on their bound buyers' orders (binding follows the invitation at join in the simulator)."""

    ranks: ClassVar[tuple[str, ...]] = ("customer", "promoter")

    def rank_of(self, engine: Engine, member: str) -> str | None:
        module = engine.modules[self.plan_kind]
        assert isinstance(module, Distribution)
        return "promoter" if module.is_promoter(member) else "customer"


class Distribution(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = DistributionConfig
    config: DistributionConfig
    rules = RULES
    codes = CODES
    sim_adapter = DistributionAdapter

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.bindings: dict[str, Binding] = {}
        self.approved: set[str] = set()
        self.applications: dict[str, Application] = {}  # each member's latest promoter application
        self.revocations: dict[str, tuple[dt.datetime, str]] = {}  # approvals taken back: when, why (latest)
        self.purchases: dict[str, int] = {}  # unrefunded orders of the plan's products, by member
        self.commission_by_level: list[int] = [0] * LEVELS_MAX  # fen credited less reversed
        self.earned: dict[str, int] = {}  # fen credited less reversed, by promoter
        self.entry_buyers: set[str] = set()  # members who bought an entry package (gift pack) under this plan
        self.entry_package_commissions = 0  # commissions paid on a buyer's first entry package (audit flag)
        self.rule_levels = {rule.name: level for level, rule in enumerate(RULES, start=1)}
        self.pending_by_member: dict[str, list[int]] = {}  # fen per level still in the settlement window
        self.settled_by_member: dict[str, list[int]] = {}  # fen per level settled (credited less reversed)
        self.held_by_member: dict[str, list[int]] = {}  # fen per level held for review (the fraud holds)
        self.reversed_by_member: dict[str, list[int]] = {}  # fen per level taken back (refunded or hold rejected)
        self.held_txns: set[int] = set()  # the commissions held for review now (their transaction ids)
        self.rejected_txns: set[int] = set()  # held commissions rejected (reversed already: a refund skips them)
        self.bound_count: dict[str, int] = {}  # buyers bound to each promoter now (bindings that have not moved)
        self.flagged: dict[str, int] = {}  # order -> commissions it paid on a first entry package
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

    # --- promoters and bindings ------------------------------------------------------------------------------------
    def is_promoter(self, member: str) -> bool:
        eligibility = self.config.eligibility
        if eligibility == "anyone":
            return True
        if eligibility == "after_purchase":
            return self.purchases.get(member, 0) > 0
        return member in self.approved

    def can_apply(self, member: str) -> bool:
        """Whether ``apply_promoter`` would be accepted for ``member`` now (``check_apply_promoter``)."""
        application = self.applications.get(member)
        return (self.config.eligibility == "approved" and member not in self.approved
                and (application is None or application.status != "pending"))

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
        previous = self.bindings.get(member)
        first = previous.first if previous is not None and previous.promoter == promoter else engine.clock
        self.bindings[member] = Binding(promoter, engine.clock, via, first)
        if previous is None or previous.promoter != promoter:
            self.bound_count[promoter] = self.bound_count.get(promoter, 0) + 1
            if previous is not None:
                self.bound_count[previous.promoter] -= 1
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
            record = engine.credit_reward(member, amount, tier.rule, PLAN, order=order, source=buyer,
                                          settle_after_days=settle_after_days, ref=tier.ref)
            pending = record is not None and record.due_day is not None
            held = record is not None and record.held
            book = self.held_by_member if held else self.pending_by_member if pending else self.settled_by_member
            if held and record is not None:
                self.held_txns.add(record.txn)
            book.setdefault(member, [0] * LEVELS_MAX)[tier.level - 1] += amount
            self.commission_by_level[tier.level - 1] += amount
            self.earned[member] = self.earned.get(member, 0) + amount
            paid += 1
        flagged = 0  # commissions on the buyer's first entry package (the audit report lists them)
        if order.gift_pack:
            if buyer not in self.entry_buyers:
                flagged = paid
                self.entry_package_commissions += paid
            self.entry_buyers.add(buyer)
        self.flagged[order.id] = flagged
        self.purchases[buyer] = self.purchases.get(buyer, 0) + 1

    def on_refund(self, engine: Engine, order: Order) -> None:
        """The core takes the commissions back (from pending inside the window); this keeps the counts right."""
        flagged = self.flagged.get(order.id)
        if flagged is None:
            return
        for record in order.rewards:
            if record.plan == PLAN and record.txn not in self.rejected_txns:
                level = self.rule_levels[record.rule]
                self.commission_by_level[level - 1] -= record.amount
                self.earned[record.member] -= record.amount
                # the core reversed it already: from held while held, from pending while its window ran
                if record.txn in self.held_txns:
                    self.held_txns.discard(record.txn)
                    book = self.held_by_member
                else:
                    book = self.pending_by_member if record.due_day is not None else self.settled_by_member
                book[record.member][level - 1] -= record.amount
                self.reversed_by_member.setdefault(record.member, [0] * LEVELS_MAX)[level - 1] += record.amount
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

    def on_settled(self, engine: Engine, record: RewardRecord) -> None:
        """A commission left its settlement window: it counts as settled now."""
        level = self.rule_levels[record.rule]
        self.pending_by_member[record.member][level - 1] -= record.amount
        self.settled_by_member.setdefault(record.member, [0] * LEVELS_MAX)[level - 1] += record.amount

    def on_hold_decided(self, engine: Engine, record: RewardRecord, released: bool) -> None:
        """A held commission was released (it counts as settled now) or rejected (it counts as reversed)."""
        if record.txn not in self.held_txns:
            return
        self.held_txns.discard(record.txn)
        level = self.rule_levels[record.rule]
        self.held_by_member[record.member][level - 1] -= record.amount
        if released:
            self.settled_by_member.setdefault(record.member, [0] * LEVELS_MAX)[level - 1] += record.amount
            return
        self.rejected_txns.add(record.txn)
        self.commission_by_level[level - 1] -= record.amount
        self.earned[record.member] -= record.amount
        self.reversed_by_member.setdefault(record.member, [0] * LEVELS_MAX)[level - 1] += record.amount

    def member_read(self, engine: Engine, member: str) -> dict[str, Any]:
        """What a member's distribution centre shows: whether it is a promoter (and why not), its own binding (to
        whom, since when, through which channel, until when), its bound buyers, and its commissions by level:
        pending, settled, held for review (the fraud holds) and reversed (refunded or a hold rejected)."""
        levels = self.config.levels
        zero = [0] * LEVELS_MAX
        pending = self.pending_by_member.get(member, zero)
        settled = self.settled_by_member.get(member, zero)
        held = self.held_by_member.get(member, zero)
        reversed_ = self.reversed_by_member.get(member, zero)
        binding = self.bindings.get(member)
        application = self.applications.get(member)
        bound_to = None
        if binding is not None:
            days = self.config.binding_days
            until = binding.since + dt.timedelta(days=days) if days else None
            bound_to = {"promoter": binding.promoter, "since": (binding.first or binding.since).isoformat(),
                        "renewed": binding.since.isoformat(), "channel": binding.via,
                        "until": until.isoformat() if until else None,
                        "active": self.bound_promoter(member, engine.clock) == binding.promoter}
        return {
            "promoter": self.is_promoter(member), "eligibility": self.config.eligibility,
            "why_not_promoter": None if self.is_promoter(member) else self.why_not_promoter(member),
            "bound_to": bound_to, "bound_buyers": self.bound_count.get(member, 0),
            "binding": self.config.binding, "binding_days": self.config.binding_days,
            "settle_after_days": self.config.settle_after_days,
            "rates": [format_rate(rate) for rate in self.config.rates],
            "commissions": [{"level": n, "pending": format_fen(pending[n - 1]), "settled": format_fen(settled[n - 1]),
                             "held": format_fen(held[n - 1]), "reversed": format_fen(reversed_[n - 1])}
                            for n in range(1, levels + 1)],
            "commission_totals": {"pending": format_fen(sum(pending[:levels])),
                                  "settled": format_fen(sum(settled[:levels])),
                                  "held": format_fen(sum(held[:levels])),
                                  "reversed": format_fen(sum(reversed_[:levels]))},
            "application": application.to_json() if application is not None else None,
            "can_apply": self.can_apply(member),
            "revoked": self._revoked_json(member),
        }

    def _revoked_json(self, member: str) -> dict[str, str] | None:
        """The latest revocation of the member's approval (when, the operator's reason), while not approved again."""
        revoked = self.revocations.get(member)
        return {"at": revoked[0].isoformat(), "reason": revoked[1]} if revoked is not None else None

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
    _plan(engine).bind(engine, event.member, event.promoter, event.channel)


def check_approve_promoter(engine: Engine, event: ApprovePromoter) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "approve_promoter", event.member)
    if event.member in _plan(engine).approved:
        return refuse(Code.NOT_ALLOWED, "approve_promoter", event.member, why="already approved as a promoter")
    return None


def apply_approve_promoter(engine: Engine, event: ApprovePromoter) -> None:
    plan = _plan(engine)
    plan.approved.add(event.member)
    plan.revocations.pop(event.member, None)
    application = plan.applications.get(event.member)
    if application is not None and application.status == "pending":
        application.status, application.decided_at = "approved", engine.clock
    engine.fact("promoter_approved", member=event.member)


def check_apply_promoter(engine: Engine, event: ApplyPromoter) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "apply_promoter", event.member)
    plan = _plan(engine)
    eligibility = plan.config.eligibility
    if eligibility != "approved":
        return refuse("promoter_application_not_needed", "apply_promoter", event.member, eligibility=eligibility)
    if event.member in plan.approved:
        return refuse("promoter_already_approved", "apply_promoter", event.member)
    application = plan.applications.get(event.member)
    if application is not None and application.status == "pending":
        return refuse("promoter_application_pending", "apply_promoter", event.member)
    return None


def apply_apply_promoter(engine: Engine, event: ApplyPromoter) -> None:
    _plan(engine).applications[event.member] = Application("pending", engine.clock)
    engine.fact("promoter_applied", member=event.member)


def check_reject_promoter(engine: Engine, event: RejectPromoter) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "reject_promoter", event.member)
    application = _plan(engine).applications.get(event.member)
    if application is None or application.status != "pending":
        return refuse("promoter_no_application", "reject_promoter", event.member)
    return None


def apply_reject_promoter(engine: Engine, event: RejectPromoter) -> None:
    application = _plan(engine).applications[event.member]
    application.status, application.decided_at, application.reason = "rejected", engine.clock, event.reason
    engine.fact("promoter_rejected", member=event.member, reason=event.reason)


def check_revoke_promoter(engine: Engine, event: RevokePromoter) -> Refusal | None:
    if event.member not in engine.members:
        return refuse(Code.MEMBER_UNKNOWN, "revoke_promoter", event.member)
    if event.member not in _plan(engine).approved:
        return refuse("promoter_not_approved", "revoke_promoter", event.member)
    return None


def apply_revoke_promoter(engine: Engine, event: RevokePromoter) -> None:
    plan = _plan(engine)
    plan.approved.discard(event.member)
    plan.revocations[event.member] = (engine.clock, event.reason)
    engine.fact("promoter_revoked", member=event.member, reason=event.reason)


Distribution.verbs = (
    Verb(Visit, check_visit, apply_visit, senders=("member",), member_field="member", member_refs=("promoter",),
         example={"promoter": "K7QM2XPA", "channel": "poster"}),
    Verb(ApprovePromoter, check_approve_promoter, apply_approve_promoter, senders=("operator",),
         permission="manage_promoters", example={"member": "m3kq7"}),
    Verb(ApplyPromoter, check_apply_promoter, apply_apply_promoter, senders=("member",), member_field="member",
         example={}),
    Verb(RejectPromoter, check_reject_promoter, apply_reject_promoter, senders=("operator",),
         permission="manage_promoters", example={"member": "m3kq7", "reason": "no shop photos yet"}),
    Verb(RevokePromoter, check_revoke_promoter, apply_revoke_promoter, senders=("operator",),
         permission="manage_promoters", example={"member": "m3kq7", "reason": "posted misleading health claims"}),
)
