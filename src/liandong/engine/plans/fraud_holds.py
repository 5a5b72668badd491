"""Fraud holds (issue 20): rewards that look like self-dealing wait in the member's ``held`` book for an operator.

**Signals.** The web layer collects what it sees of a member at a join, an order or a withdrawal (the first-party
device cookie, the client address, the user agent, the phone and the email, the payout account hashed) and logs an
``observe_signals`` event for the member right before the event they came with. The engine keeps every value seen
per member; it normalises contacts again (``normalise_email``: lower case, ``+tag`` dropped, dots dropped in
Gmail-style addresses; ``normalise_phone``: digits only, a leading ``86`` country code dropped), so a scenario file
may give them raw. It never sees a payout account in clear: ``payout`` is the hash the web layer made.

**Rules** (this plan's config; a rule is on when its key is given, off when left out or set to ``null``):

- ``self_referral: {levels: 3, signals: [device, payout, email, phone]}``: the buyer whose purchase causes a reward
  shares one of ``signals`` (a device, a payout account, a normalised contact; the client address only when named:
  many honest members share one behind a carrier's NAT) with the member rewarded, or with a member between them in
  the referral line up to ``levels`` above the buyer;
- ``duplicate_payout: {}``: the member rewarded shares a payout account with any other member;
- ``join_velocity: {max_joins: 5, hours: 24}``: more than ``max_joins`` members joined under the member rewarded
  (as their referrer) in the last ``hours`` hours;
- ``refund_rate: {at_least: "0.30", min_orders: 5}``: of the orders paid by the members the rewarded member
  referred (at least ``min_orders`` of them), the refunded share is at least ``at_least``.

**Holds.** ``Engine.credit_reward`` is the one place every plan and campaign credits a reward; it asks this module
(the ``hold_reward`` capability) first. A flagged reward is credited, under its own rule, to the member's ``held``
book instead of ``pending`` or ``available``, and a hold ``h<transaction>`` records the rule, the evidence (which
signal, shared with whom; never the value) and the review date (the day plus ``review_days``). The member sees it
on the earnings page with the reason and the date. An operator (permission ``decide_withdrawal``) decides:

- ``release_hold``: held -> available (its frozen part to the help fund, as a settlement would), rule
  ``hold_released``; the settlement window is not run again (a review lasts longer than any window);
- ``reject_hold`` with a reason: held -> back where the reward came from (the platform's reward expense, or the
  plan's pool), rule ``hold_rejected``; the reward counts as reversed, so a later refund takes nothing back twice;
- ``ban_member`` with a reason: every open hold of the member is rejected with that reason, and every later reward
  to the member is held (rule ``banned``) until an operator releases it; the member keeps its account, its
  available balance and its place in the tree (a ban takes back no money already released).

A refund of the order takes a held reward back from ``held`` (the hold closes as ``refunded``). Nothing is ever
released by time: a hold past its review date stays held and shows as overdue.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..config_types import Rate01
from ..errors import Refusal, refuse
from ..events import Event, MemberId, ObjectId, register_event
from ..i18n import gettext_noop
from ..module import Book, Module, ModuleConfig, Rule, Verb
from ..money import format_fen, format_rate

if TYPE_CHECKING:
    from ..core import Engine, Order, RewardRecord

PLAN = "fraud_holds"
PERMISSION = "decide_withdrawal"
REASON_MAX = 200
#: the signals a rule matches members on; ``user_agent`` is kept as evidence only (many members share one)
MATCHED = ("device", "address", "payout", "email", "phone")
SIGNALS = (*MATCHED, "user_agent")

#: what each rule's hold tells the member and the operator (English msgids; ``{signal}``, ``{other}`` … filled in)
REASONS = {
    "self_referral": gettext_noop("the buyer shares a {signal} with {other}"),
    "duplicate_payout": gettext_noop("your payout account is also used by {other}"),
    "join_velocity": gettext_noop("{joins} members joined under you within {hours} hours"),
    "refund_rate": gettext_noop("{refunded} of the {orders} orders of members you referred were refunded"),
    "banned": gettext_noop("your account is banned from earning"),
}
SIGNAL_LABELS = {
    "device": gettext_noop("device"), "address": gettext_noop("network address"),
    "payout": gettext_noop("payout account"), "email": gettext_noop("email address"),
    "phone": gettext_noop("phone number"),
}

CODES = {
    "hold_unknown": gettext_noop("hold {value} is not a hold of this shop"),
    "hold_decided": gettext_noop("hold {value} is already {status}"),
    "hold_reason_invalid": gettext_noop("the reason {value} must be 1 to 200 characters without control characters"),
    "member_banned": gettext_noop("member {value} is already banned"),
}

_GMAIL = {"gmail.com", "googlemail.com"}


def normalise_email(value: str) -> str:
    """``A.B+promo@GoogleMail.com`` -> ``ab@gmail.com``; ``x+y@qq.com`` -> ``x@qq.com``; other text lower-cased."""
    text = value.strip().lower()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def normalise_phone(value: str) -> str:
    """``+86 138-0013-8000`` -> ``13800138000``: digits only, a leading 86 before eleven digits dropped."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Signal = Annotated[str, BeforeValidator(_stripped), Field(min_length=1, max_length=200)]
Reason = Annotated[str, BeforeValidator(_stripped)]


SignalName = Literal["device", "address", "payout", "email", "phone"]


class SelfReferralRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    levels: int = Field(3, ge=1, le=20)  # how far up the buyer's referral line the rewarded member may be
    #: the signals that count as shared; the client address is left out unless named (many members share one
    #: behind a carrier's NAT or an office's proxy)
    signals: tuple[SignalName, ...] = Field(("device", "payout", "email", "phone"), min_length=1)


class DuplicatePayoutRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JoinVelocityRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_joins: int = Field(ge=1, le=100000)
    hours: int = Field(24, ge=1, le=24 * 365)


class RefundRateRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: Rate01
    min_orders: int = Field(5, ge=1, le=100000)


class FraudHoldsConfig(ModuleConfig):
    self_referral: SelfReferralRule | None = None
    duplicate_payout: DuplicatePayoutRule | None = None
    join_velocity: JoinVelocityRule | None = None
    refund_rate: RefundRateRule | None = None
    review_days: int = Field(7, ge=1, le=365)


@register_event
class ObserveSignals(Event):
    """What the web layer saw of a member with the event logged right after this one (a join, an order, a
    withdrawal): each signal optional; ``payout`` is the payout account's hash, never the account."""

    verb: ClassVar[str] = "observe_signals"
    primary: ClassVar[str] = "member"
    member: MemberId
    device: Signal | None = None
    address: Signal | None = None
    user_agent: Annotated[str, Field(max_length=500)] | None = None
    email: Signal | None = None
    phone: Signal | None = None
    payout: Signal | None = None


@register_event
class ReleaseHold(Event):
    """An operator releases a held reward to the member's available balance."""

    verb: ClassVar[str] = "release_hold"
    primary: ClassVar[str] = "hold"
    hold: ObjectId


@register_event
class RejectHold(Event):
    """An operator rejects a held reward, saying why: it goes back where it came from."""

    verb: ClassVar[str] = "reject_hold"
    primary: ClassVar[str] = "hold"
    hold: ObjectId
    reason: Reason


@register_event
class BanMember(Event):
    """An operator bans a member from earning: open holds rejected, later rewards held (``banned``)."""

    verb: ClassVar[str] = "ban_member"
    primary: ClassVar[str] = "member"
    member: MemberId
    reason: Reason


@dataclass(slots=True)
class Hold:
    id: str
    member: str
    amount: int
    rule: str  # the fraud rule that flagged it
    evidence: dict[str, str]
    reward_rule: str
    plan: str
    order: str | None
    source: str | None
    held_on: dt.date
    review_by: dt.date
    record: RewardRecord
    status: str = "held"  # held, released, rejected, refunded
    reason: str = ""
    decided_at: dt.datetime | None = None

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "hold": self.id, "member": self.member, "amount": format_fen(self.amount), "rule": self.rule,
            "reason": REASONS[self.rule], "evidence": dict(self.evidence), "reward_rule": self.reward_rule,
            "plan": self.plan, "order": self.order, "source": self.source, "held_on": self.held_on.isoformat(),
            "review_by": self.review_by.isoformat(), "status": self.status,
            "overdue": self.status == "held" and today > self.review_by, "decision_reason": self.reason,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


@dataclass(slots=True)
class _Referred:
    orders: int = 0
    refunded: int = 0


@dataclass(slots=True)
class _Flag:
    rule: str
    evidence: dict[str, str] = field(default_factory=dict)


class FraudHolds(Module):
    """Holds flagged rewards for review. The capability ``hold_reward`` is what the core asks."""

    kind: ClassVar[str] = PLAN
    Config = FraudHoldsConfig
    codes = CODES
    rules = (
        Rule("hold_released", gettext_noop("held reward released"), gettext_noop("hold {ref}")),
        # reward=True: a rejected reward leaves ``platform.rewards`` (its member-side amount is negative)
        Rule("hold_rejected", gettext_noop("held reward rejected"), gettext_noop("hold {ref}"), reward=True),
    )
    books = (Book("held", gettext_noop("held for review")),)
    provides = {"hold_reward": "flag", "reward_held": "held"}

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        self.signals: dict[str, dict[str, set[str]]] = {}  # member -> signal -> values
        self.by_value: dict[tuple[str, str], set[str]] = {}  # (signal, value) -> members
        self.holds: dict[str, Hold] = {}
        self.of_member: dict[str, list[str]] = {}
        self.banned: dict[str, str] = {}  # member -> reason
        self.referred: dict[str, _Referred] = {}  # referrer -> its referrals' orders

    @property
    def cfg(self) -> FraudHoldsConfig:
        assert isinstance(self.config, FraudHoldsConfig)
        return self.config

    # --- signals ---
    def observe(self, member: str, signals: dict[str, str | None]) -> None:
        kept = self.signals.setdefault(member, {})
        for name, raw in signals.items():
            if raw is None:
                continue
            value = (normalise_email(raw) if name == "email" else normalise_phone(raw) if name == "phone"
                     else raw.strip())
            if not value:
                continue
            kept.setdefault(name, set()).add(value)
            if name in MATCHED:
                self.by_value.setdefault((name, value), set()).add(member)

    def shared(self, a: str, b: str, names: tuple[str, ...] = MATCHED) -> str | None:
        """The first signal (in ``names`` order) that members ``a`` and ``b`` share, or None."""
        sa, sb = self.signals.get(a), self.signals.get(b)
        if not sa or not sb:
            return None
        for name in names:
            if sa.get(name, set()) & sb.get(name, set()):
                return name
        return None

    # --- the rules ---
    def flag(self, engine: Engine, member: str, amount: int, rule: str, order: Order | None,
             source: str | None) -> _Flag | None:
        """Why the reward of ``amount`` to ``member`` should be held, or None (the ``hold_reward`` capability)."""
        if member in self.banned:
            return _Flag("banned", {"reason": self.banned[member]})
        cfg = self.cfg
        buyer = source if source is not None else (order.member if order is not None else None)
        if cfg.self_referral is not None and buyer is not None and buyer != member:
            found = self._self_referral(engine, buyer, member, cfg.self_referral.levels,
                                        tuple(n for n in MATCHED if n in cfg.self_referral.signals))
            if found is not None:
                return found
        if cfg.duplicate_payout is not None:
            for value in sorted(self.signals.get(member, {}).get("payout", set())):
                others = sorted(self.by_value.get(("payout", value), set()) - {member})
                if others:
                    return _Flag("duplicate_payout", {"signal": "payout", "other": others[0]})
        if cfg.join_velocity is not None:
            rule_v = cfg.join_velocity
            since = engine.clock - dt.timedelta(hours=rule_v.hours)
            joins = sum(1 for c in engine.members[member].children if engine.members[c].joined_at > since) \
                if member in engine.members else 0
            if joins > rule_v.max_joins:
                return _Flag("join_velocity", {"joins": str(joins), "hours": str(rule_v.hours)})
        if cfg.refund_rate is not None:
            seen = self.referred.get(member)
            rr = cfg.refund_rate
            if seen is not None and seen.orders >= rr.min_orders and seen.refunded >= rr.at_least * seen.orders:
                return _Flag("refund_rate", {"refunded": str(seen.refunded), "orders": str(seen.orders),
                                             "at_least": format_rate(rr.at_least)})
        return None

    def _self_referral(self, engine: Engine, buyer: str, member: str, levels: int,
                       names: tuple[str, ...] = MATCHED) -> _Flag | None:
        """The buyer shares a signal with the rewarded member, or with a member of its line up to the rewarded one
        (at most ``levels`` above the buyer)."""
        candidates = [member]
        up = engine.members[buyer].referrer if buyer in engine.members else None
        line: list[str] = []
        while up is not None and len(line) < levels:
            line.append(up)
            if up == member:
                break
            up = engine.members[up].referrer
        if member in line:
            candidates += [m for m in line if m != member]
        for other in candidates:
            signal = self.shared(buyer, other, names)
            if signal is not None:
                return _Flag("self_referral", {"signal": signal, "other": other, "buyer": buyer})
        return None

    def held(self, engine: Engine, record: RewardRecord, flag: _Flag) -> None:
        """A reward went to the held book: record its hold (the ``reward_held`` capability)."""
        hold_id = f"h{record.txn}"
        today = engine.today
        self.holds[hold_id] = Hold(hold_id, record.member, record.amount, flag.rule, flag.evidence, record.rule,
                                   record.plan, record.order, record.source, today,
                                   today + dt.timedelta(days=self.cfg.review_days), record)
        self.of_member.setdefault(record.member, []).append(hold_id)
        engine.fact("reward_held", hold=hold_id, member=record.member, amount=format_fen(record.amount),
                    rule=flag.rule)

    # --- the orders of referred members (the refund rate) ---
    def on_pay(self, engine: Engine, order: Order) -> None:
        referrer = engine.members[order.member].referrer
        if referrer is not None:
            self.referred.setdefault(referrer, _Referred()).orders += 1

    def on_refund(self, engine: Engine, order: Order) -> None:
        referrer = engine.members[order.member].referrer
        if referrer is not None and order.campaign is None:
            self.referred.setdefault(referrer, _Referred()).refunded += 1
        for record in order.rewards:
            if record.held and record.reversed:
                hold = self.holds.get(f"h{record.txn}")
                if hold is not None and hold.status == "held":
                    hold.status, hold.decided_at = "refunded", engine.clock
                    record.held = False

    # --- decisions ---
    def release(self, engine: Engine, hold: Hold) -> None:
        record = hold.record
        entries = [((hold.member, "held"), -hold.amount), ((hold.member, "available"), hold.amount - record.frozen)]
        if record.frozen:
            entries.append(((hold.member, "help_fund"), record.frozen))
        engine.post("hold_released", entries, plan=record.plan, order=record.order, source=record.source,
                    ref=hold.id)
        record.held = False
        hold.status, hold.decided_at = "released", engine.clock
        self._tell_plan(engine, record, released=True)
        engine.fact("hold_released", hold=hold.id, member=hold.member, amount=format_fen(hold.amount))

    def reject(self, engine: Engine, hold: Hold, reason: str) -> None:
        record = hold.record
        engine.transfer("hold_rejected", (hold.member, "held"), record.from_account, hold.amount, plan=record.plan,
                        order=record.order, source=record.source, reverses=record.txn, ref=hold.id)
        record.held, record.reversed = False, True
        hold.status, hold.reason, hold.decided_at = "rejected", reason, engine.clock
        self._tell_plan(engine, record, released=False)
        engine.fact("hold_rejected", hold=hold.id, member=hold.member, amount=format_fen(hold.amount), reason=reason)

    @staticmethod
    def _tell_plan(engine: Engine, record: RewardRecord, *, released: bool) -> None:
        """The plan that credited the reward keeps its own counts (the distribution plan's held commissions)."""
        plan = engine.modules.get(record.plan)
        if plan is not None:
            plan.on_hold_decided(engine, record, released)

    # --- what pages read ---
    def holds_of(self, engine: Engine, member: str) -> list[dict[str, Any]]:
        today = engine.today
        return [self.holds[h].to_json(today) for h in self.of_member.get(member, ())]

    def open_holds(self, engine: Engine) -> list[dict[str, Any]]:
        today = engine.today
        return [h.to_json(today) for h in self.holds.values() if h.status == "held"]

    def member_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        holds = self.holds_of(engine, member)
        if not holds and member not in self.banned:
            return None
        open_fen = sum(self.holds[h].amount for h in self.of_member.get(member, ()) if self.holds[h].status == "held")
        return {"held": format_fen(open_fen), "holds": holds, "banned": member in self.banned}

    def operator_read(self, engine: Engine, member: str) -> dict[str, Any] | None:
        read = self.member_read(engine, member)
        if read is None:
            return None
        read["ban_reason"] = self.banned.get(member, "")
        read["signals"] = {name: len(values) for name, values in sorted(self.signals.get(member, {}).items())}
        return read

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"held": format_fen(engine.balance(member, "held"))} if member in self.of_member else {}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        today = engine.today
        return {"holds": [h.to_json(today) for h in self.holds.values()], "banned": dict(sorted(self.banned.items()))}

    def shop_read(self, engine: Engine) -> dict[str, Any] | None:
        return None

    def check_invariants(self, engine: Engine) -> list[str]:
        """Each member's held book is the sum of its open holds."""
        open_by: dict[str, int] = {}
        for hold in self.holds.values():
            if hold.status == "held":
                open_by[hold.member] = open_by.get(hold.member, 0) + hold.amount
        problems = []
        for member in set(open_by) | set(self.of_member):
            if engine.balance(member, "held") != open_by.get(member, 0):
                problems.append(f"{member}'s held book is {format_fen(engine.balance(member, 'held'))} but its "
                                f"open holds sum to {format_fen(open_by.get(member, 0))}")
        return problems


def _module(engine: Engine) -> FraudHolds:
    module = engine.modules[PLAN]
    assert isinstance(module, FraudHolds)
    return module


def _reason_refusal(reason: str) -> Refusal | None:
    if not 1 <= len(reason) <= REASON_MAX or any((ord(c) < 32 and c != "\n") or ord(c) == 127 for c in reason):
        shown = reason if len(reason) <= 40 else reason[:40] + "…"
        return refuse("hold_reason_invalid", "reason", shown)
    return None


def check_observe(engine: Engine, event: ObserveSignals) -> Refusal | None:
    return None  # signals may come before the join they go with (the member is not known yet)


def apply_observe(engine: Engine, event: ObserveSignals) -> None:
    _module(engine).observe(event.member, {name: getattr(event, name) for name in SIGNALS})


def _open_hold(engine: Engine, hold_id: str) -> tuple[Hold | None, Refusal | None]:
    hold = _module(engine).holds.get(hold_id)
    if hold is None:
        return None, refuse("hold_unknown", "hold", hold_id)
    if hold.status != "held":
        return hold, refuse("hold_decided", "hold", hold_id, status=hold.status)
    return hold, None


def check_release(engine: Engine, event: ReleaseHold) -> Refusal | None:
    return _open_hold(engine, event.hold)[1]


def apply_release(engine: Engine, event: ReleaseHold) -> None:
    module = _module(engine)
    module.release(engine, module.holds[event.hold])


def check_reject(engine: Engine, event: RejectHold) -> Refusal | None:
    return _open_hold(engine, event.hold)[1] or _reason_refusal(event.reason)


def apply_reject(engine: Engine, event: RejectHold) -> None:
    module = _module(engine)
    module.reject(engine, module.holds[event.hold], event.reason)


def check_ban(engine: Engine, event: BanMember) -> Refusal | None:
    if event.member not in engine.members:
        return refuse("member_unknown", "member", event.member)
    if event.member in _module(engine).banned:
        return refuse("member_banned", "member", event.member)
    return _reason_refusal(event.reason)


def apply_ban(engine: Engine, event: BanMember) -> None:
    module = _module(engine)
    module.banned[event.member] = event.reason
    for hold_id in module.of_member.get(event.member, ()):
        hold = module.holds[hold_id]
        if hold.status == "held":
            module.reject(engine, hold, event.reason)
    engine.fact("member_banned", member=event.member, reason=event.reason)


FraudHolds.verbs = (
    Verb(ObserveSignals, check_observe, apply_observe, senders=("system",)),
    Verb(ReleaseHold, check_release, apply_release, senders=("operator",), permission=PERMISSION,
         example={"hold": "h42"}),
    Verb(RejectHold, check_reject, apply_reject, senders=("operator",), permission=PERMISSION, required=("reason",),
         example={"hold": "h42", "reason": "the buyer is the member's own second account"}),
    Verb(BanMember, check_ban, apply_ban, senders=("operator",), permission=PERMISSION, required=("reason",),
         example={"member": "m7", "reason": "runs a ring of fake accounts"}),
)
