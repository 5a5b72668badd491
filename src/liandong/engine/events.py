"""Typed events: what happened, applied in order. Commands are imperative verbs (``pay``, ``refund``).

Every event carries ``at``, the instant it happened (time comes in the event, never from the machine's clock),
so replaying the same events gives the same ledger. Money fields are integer fen inside; at the edges they are
two-decimal strings, which the ``Money`` annotation parses (an int given to it is already fen).

The core events are here; plan and campaign modules define their own with ``register_event`` (e.g. chain21's
``transpose``). ``EVENT_TYPES`` maps each verb to its class: the one table of what the engine understands.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .money import parse_yuan


def _money(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_yuan(value)


#: An amount: "12.30" at the edge, 1230 inside.
Money = Annotated[int, BeforeValidator(_money)]
MemberId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^@\s][^\s]*$")]
ObjectId = Annotated[str, Field(min_length=1, max_length=64)]
#: Where a withdrawal's payout goes, as the member names it ("alipay:138xxxx0000", "ICBC 6222 0000 0000 0000"):
#: 1–100 characters, no control characters (a tab or line break would split a payout file's row).
PayeeAccount = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$")]


class Event(BaseModel):
    """Base of every event. ``verb`` is its name in scenario files and the API; ``primary`` the field the verb's
    value fills (``{pay: B}`` sets ``member``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    verb: ClassVar[str] = ""
    primary: ClassVar[str] = ""
    #: Fields that default to a counted id in scenario files: (field, prefix), e.g. ("order", "o").
    counted_id: ClassVar[tuple[str, str] | None] = None
    #: Fields holding money (parsed from two-decimal strings at the edges).
    money_fields: ClassVar[tuple[str, ...]] = ()
    #: True when the event creates a draw (a campaign, a box set). Its draw's secret (64 hex) is an input, in
    #: ``params.secret``: the engine makes no secret and refuses such an event without one (``secret_missing``);
    #: the service logs one with the event, ``liandong replay`` makes one when a scenario file gives none.
    creates_draw: ClassVar[bool] = False

    at: dt.datetime

    def describe(self) -> dict[str, Any]:
        """The event as it reads in a scenario file (money as yuan strings)."""
        from .money import format_fen

        out: dict[str, Any] = {}
        for name, fieldinfo in type(self).model_fields.items():
            if name == "at":
                continue
            value = getattr(self, name)
            # a flag at its default is left out (so ``paid_out: false``, whose default is true, is kept)
            at_default = isinstance(value, bool) and value == fieldinfo.default
            if value is None or (at_default and name != type(self).primary):
                continue
            if name in type(self).money_fields and isinstance(value, int):
                value = format_fen(value)
            elif isinstance(value, (dt.date, dt.datetime)):
                value = value.isoformat()
            out[fieldinfo.alias or name] = value
        key = type(self).primary
        head = {type(self).verb: out.pop(key, None)}
        head.update(out)
        head["at"] = self.at.isoformat()
        return head


class PaidEvent(Event):
    """An event a member pays for through the payment provider (a seat in a group, a pre-sale entry, a blind box).
    ``paid`` is what the provider confirmed (the service fills it from the payment); the engine refuses the event
    when it is not the event's price, so the ledger never books money the provider did not take. Scenario files
    and operators' imports leave it out."""

    money_fields: ClassVar[tuple[str, ...]] = ("paid",)
    paid: Money | None = Field(None, ge=0)


EVENT_TYPES: dict[str, type[Event]] = {}


def draw_secret_given(event: Event) -> bool:
    """Whether an event that creates a draw carries its secret (``params.secret``); True for every other event."""
    if not type(event).creates_draw:
        return True
    params = getattr(event, "params", None)
    return isinstance(params, dict) and bool(params.get("secret"))


def register_event(cls: type[Event]) -> type[Event]:
    """Class decorator: make ``cls`` known by its verb. A verb is registered once."""
    assert cls.verb and cls.verb not in EVENT_TYPES, f"verb {cls.verb!r} registered twice"
    EVENT_TYPES[cls.verb] = cls
    return cls


# --- the shop ------------------------------------------------------------------------------------------------


@register_event
class Join(Event):
    """A member joins, with or without a referrer (the member who invited them)."""

    verb: ClassVar[str] = "join"
    primary: ClassVar[str] = "member"
    member: MemberId
    referrer: MemberId | None = None
    birth_date: dt.date | None = None
    guardian_consent: bool = False


@register_event
class SetProduct(Event):
    """The operator creates or changes a product; it applies to orders paid after it."""

    verb: ClassVar[str] = "product"
    primary: ClassVar[str] = "sku"
    money_fields: ClassVar[tuple[str, ...]] = ("price", "red_envelope", "cost")
    sku: ObjectId
    price: Money = Field(ge=0)
    gift_pack: bool = False
    red_envelope: Money | None = None
    name: str | None = None
    active: bool = True
    cost: Money | None = Field(default=None, ge=0)  # unit cost of the goods; absent: not known


@register_event
class Pay(Event):
    """An order is paid (the payment provider confirmed it). ``amount`` is what the order was created for (the price
    at that time; by default the product's price now × quantity); ``points`` pays part of it with points."""

    verb: ClassVar[str] = "pay"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("order", "o")
    money_fields: ClassVar[tuple[str, ...]] = ("points", "amount", "points_value")
    member: MemberId
    sku: ObjectId
    order: ObjectId
    quantity: int = 1
    amount: Money | None = Field(None, ge=0)
    points: Money | None = None
    #: what the points were quoted at when the order was made (the member paid the rest): the engine takes it
    #: when the points are worth at least that now, and refuses the payment otherwise
    points_value: Money | None = Field(None, ge=0)


@register_event
class Refund(Event):
    """The operator refunds a paid order: every posting it caused is reversed."""

    verb: ClassVar[str] = "refund"
    primary: ClassVar[str] = "order"
    order: ObjectId


@register_event
class CloseDay(Event):
    """The business day ends: pools are shared, pending rewards settle, points release, contests stand."""

    verb: ClassVar[str] = "close_day"
    primary: ClassVar[str] = "day"
    day: dt.date


@register_event
class Tick(Event):
    """Only moves the clock (deadlines pass: unfilled groups dissolve). The service sends one each minute."""

    verb: ClassVar[str] = "tick"
    primary: ClassVar[str] = "note"
    note: str | None = None


@register_event
class Withdraw(Event):
    """A member asks to withdraw part of the available balance, to ``payee`` (the account the payout goes to;
    the API requires it, scenario files may leave it out)."""

    verb: ClassVar[str] = "withdraw"
    primary: ClassVar[str] = "member"
    counted_id: ClassVar[tuple[str, str] | None] = ("withdrawal", "w")
    money_fields: ClassVar[tuple[str, ...]] = ("amount",)
    member: MemberId
    amount: Money
    withdrawal: ObjectId
    payee: PayeeAccount | None = None


@register_event
class ApproveWithdrawal(Event):
    """An operator approves a requested withdrawal. ``paid_out`` (default true, the rulebook's meaning): the payout
    was sent with the approval, so the amount moves out to ``withdrawn`` now. ``paid_out: false`` (the service's
    approval): the amount stays in ``withdrawing`` until ``mark_withdrawal_paid`` says the payout left."""

    verb: ClassVar[str] = "approve_withdrawal"
    primary: ClassVar[str] = "withdrawal"
    withdrawal: ObjectId
    paid_out: bool = True


#: The longest reason an operator gives for rejecting a withdrawal (characters, after trimming).
WITHDRAWAL_REASON_MAX = 200


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


@register_event
class RejectWithdrawal(Event):
    """An operator rejects a requested withdrawal, saying why in ``reason`` (trimmed, 1–200 characters, no control
    characters but line breaks: the member reads it on the withdrawal page, e.g. "the payee account name does not
    match your real name"). The amount returns to available. The API requires the reason; an event without one
    (logged before reasons existed, or a scenario file that gives none) is still applied, with an empty reason;
    a reason given empty or too long is refused (``withdrawal_reason_invalid``)."""

    verb: ClassVar[str] = "reject_withdrawal"
    primary: ClassVar[str] = "withdrawal"
    withdrawal: ObjectId
    reason: Annotated[str, BeforeValidator(_trimmed)] | None = None


@register_event
class MarkWithdrawalPaid(Event):
    """The payout of an approved withdrawal was sent (bank or wallet reference). An approval with ``paid_out: false``
    left the amount in ``withdrawing``: it moves to ``withdrawn`` now (less the fee); otherwise no money moves."""

    verb: ClassVar[str] = "mark_withdrawal_paid"
    primary: ClassVar[str] = "withdrawal"
    withdrawal: ObjectId
    reference: str | None = None


#: The longest reason an operator gives for re-parenting a member (characters, after trimming).
REPARENT_REASON_MAX = 200


@register_event
class ReparentMember(Event):
    """An operator moves a member (and the referral subtree under it) to another referrer, saying why in ``reason``
    (trimmed, 1–200 characters, required). Rewards already earned stay where they are; only later events see the
    new referrer (docs/reparenting.md)."""

    verb: ClassVar[str] = "reparent_member"
    primary: ClassVar[str] = "member"
    member: MemberId
    referrer: MemberId
    reason: Annotated[str, BeforeValidator(_trimmed)]


@register_event
class FailPayout(Event):
    """The payout of an approved withdrawal failed at the provider (a transfer refused, a bank batch line returned,
    a WeChat Pay transfer the member never confirmed). Only while its amount is still in ``withdrawing`` (approved
    with ``paid_out: false``, not yet marked paid): the amount returns to available, and the withdrawal ends
    ``payout_failed`` with ``reason`` (trimmed, 1–200 characters, as a rejection's), which the member reads."""

    verb: ClassVar[str] = "fail_payout"
    primary: ClassVar[str] = "withdrawal"
    withdrawal: ObjectId
    reason: Annotated[str, BeforeValidator(_trimmed)]


@register_event
class ConfigurePlan(Event):
    """The operator changes a plan's config; it applies to events after this one. Refused when invalid."""

    verb: ClassVar[str] = "configure_plan"
    primary: ClassVar[str] = "plan"
    plan: ObjectId
    config: dict[str, Any]
