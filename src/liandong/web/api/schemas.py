"""Request and response bodies of the API. Money is a string with two decimals ("699.00") both ways; ids are strings.

Inputs are strict (unknown keys are refused, so a typo is a 400 naming the key, not a silently ignored field).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from ...engine.money import AMOUNT_PATTERN, parse_yuan


def _amount_in(text: str) -> str:
    """An amount as sent, read by the engine's one parser (``parse_yuan``): ASCII digits, at most two decimals,
    not negative, nothing around it. "１０.００" and " 10.00" are refused; the text is kept as sent."""
    if text != text.strip():
        raise ValueError("an amount has no spaces around it")
    parse_yuan(text, negative=False)
    return text


#: An amount sent to the API: "60.00" (or "60", "60.5"); never a float, never "６０.００".
MoneyIn = Annotated[str, AfterValidator(_amount_in),
                    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["60.00"]})]
#: An amount the API returns: always two decimals, may be negative (a debt).
MoneyOut = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["699.00"])]
#: Ids in paths and bodies: what the engine accepts (1–64 characters, no spaces).
IdText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
#: Member ids the engine accepts (they may not start with "@").
MemberIdText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
#: Free text (names, references): no control characters (PostgreSQL stores no NUL; nobody means one).
FreeText = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
#: What an invite code looks like; the register view checks it (``members._referrer``), so that a malformed code
#: and an unknown one get the same answer ("not valid"): the schema documents it and checks nothing.
INVITE_CODE = re.compile(r"[A-Za-z0-9]{1,32}", re.ASCII)
InviteCode = Annotated[str, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 32,
                                            "pattern": "^[A-Za-z0-9]+$"})]


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


# --- errors and events --------------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str
    field: str
    value: str | int | None = None
    message: str
    message_zh: str


class EventRef(Schema):
    position: int
    status: Literal["pending", "applied", "refused"]


class ErrorOut(Schema):
    error: ErrorDetail
    event: EventRef | None = None


class PendingOut(Schema):
    """The event is logged but the worker has not applied it yet: poll ``poll_url``."""

    status: Literal["pending"] = "pending"
    position: int
    poll_url: str


class EventOut(Schema):
    position: int
    verb: str
    status: Literal["pending", "applied", "refused"]
    logged_at: dt.datetime
    refusal: ErrorDetail | None = None
    config_version: int | None = None
    facts: list[dict[str, Any]] = []


class OperatorEventOut(EventOut):
    actor: str
    payload: dict[str, Any]


# --- members ------------------------------------------------------------------------------------------------------


class RegisterIn(StrictIn):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00]+$")
    invite_code: InviteCode | None = Field(None, description="the inviter's code")
    birth_date: dt.date | None = Field(None, description="needed for blind boxes (none under 8; under 18 with consent)")
    guardian_consent: bool = Field(False, description="a guardian's consent, for a member under 18")
    phone: str | None = Field(None, max_length=32, description="optional: a mainland mobile number (digits, "
                              "spaces, dashes, an optional +86); stored as its 11 digits")
    email: str | None = Field(None, max_length=254, description="optional: an e-mail address")


class LoginIn(StrictIn):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[^\x00]+$")
    password: str = Field(min_length=1, max_length=128, pattern=r"^[^\x00]+$")


class TokenOut(Schema):
    token: str = Field(description="send as `Authorization: Bearer <token>`; shown only once")
    expires_at: dt.datetime
    member: str | None


class SessionOut(Schema):
    username: str
    member: str | None
    operator: bool


class ProfileOut(Schema):
    member: str
    username: str
    invite_code: str
    referrer: str | None
    joined: bool = Field(description="false until the worker has applied the join event")
    joined_at: dt.datetime | None
    rank: str | None
    phone: str | None = Field(None, description="the member's own phone (11 digits), if it gave one")
    email: str | None = Field(None, description="the member's own e-mail address, if it gave one")


class RegisterOut(ProfileOut):
    join_event: int


class BalancesOut(Schema):
    member: str
    available: MoneyOut
    pending: MoneyOut
    help_fund: MoneyOut
    withdrawing: MoneyOut
    withdrawn: MoneyOut
    other: dict[str, str] = Field({}, description="any other book the member holds (e.g. points)")


class SeedProgress(Schema):
    member: str
    rank: str
    promoted: bool
    direct_agents: int


class RankOut(Schema):
    member: str
    rank: str | None
    direct_agents: int | None
    promote_after: int | None
    agents_to_partner: int | None = Field(description="direct agents still needed to become a partner")
    promoted_at: str | None
    team: str | None


class TeamMember(Schema):
    member: str
    rank: str
    referrer: str | None
    joined_at: dt.datetime


class HelpFundOut(Schema):
    balance: MoneyOut
    released: bool
    releases_when: str
    releases_when_zh: str
    waiting_for: list[str] = Field(description="seeds that are not partners yet")


class TeamOut(Schema):
    member: str
    leader: bool = Field(description="true when the member is a partner leading a team")
    members: list[TeamMember]
    seeds: list[SeedProgress]
    help_fund: HelpFundOut


class StatementLine(Schema):
    entry: int
    at: dt.datetime
    book: str
    amount: MoneyOut | int = Field(description="money as a string; a non-cash book (coupons, points) as an int")
    balance_after: MoneyOut | int
    rule: str
    label: str
    label_zh: str
    order: str | None
    source: str | None
    ref: str | None
    reverses: int | None
    text: str
    text_zh: str


class StatementOut(Schema):
    member: str
    lines: list[StatementLine]
    next_after: int | None = Field(description="pass as `after` to read the next page")


# --- shop ---------------------------------------------------------------------------------------------------------


class ProductIn(StrictIn):
    sku: IdText
    price: MoneyIn
    gift_pack: bool = False
    name: FreeText | None = None
    active: bool = True
    cost: MoneyIn | None = Field(None, description="unit cost of the goods (operators only); absent: not known")


class ProductUpdateIn(StrictIn):
    price: MoneyIn
    gift_pack: bool = False
    name: FreeText | None = None
    active: bool = True
    cost: MoneyIn | None = Field(None, description="unit cost of the goods (operators only); absent: not known")


class ProductOut(Schema):
    sku: str
    price: MoneyOut
    gift_pack: bool
    name: str
    active: bool


class OperatorProductOut(ProductOut):
    """A product as operators see it: with the unit cost of its goods (null: not known)."""

    cost: MoneyOut | None


class OrderIn(StrictIn):
    sku: IdText
    quantity: int = Field(1, ge=1, le=1000)
    points: MoneyIn | None = Field(None, description="points to pay part of it with (the points plan's terms)")


class OrderOut(Schema):
    order: str
    member: str
    sku: str
    quantity: int
    amount: MoneyOut
    status: Literal["awaiting_payment", "payment_processing", "paid", "refunded", "payment_refused"]
    created_at: dt.datetime
    paid_at: dt.datetime | None = None
    refusal: ErrorDetail | None = None
    verb: str = Field("pay", description="the event the payment logs: pay, or a paid action (join_group_buy, …)")
    action: dict[str, Any] | None = Field(None, description="a paid action's event fields (the ids chosen for it)")
    total: MoneyOut | None = Field(None, description="the order's whole amount (price × quantity), points included")
    cash: MoneyOut | None = Field(None, description="what the payment provider takes: the total less the points' "
                                                    "value (null for an order paid outside the API)")
    points: MoneyOut | None = Field(None, description="the points paying part of it (null when none)")
    points_value: MoneyOut | None = Field(None, description="what those points were quoted at, at the NAV then")


class OrdersPage(Schema):
    orders: list[OrderOut]
    next_after: str | None = Field(description="pass as `after` to read the next page; null on the last page")


class PaymentWebhookIn(StrictIn):
    payment_id: str = Field(min_length=1, max_length=128, pattern=r"^[!-~]+$")
    order: IdText
    amount: MoneyIn
    status: Literal["succeeded"] = "succeeded"


class PaymentReceivedOut(Schema):
    received: bool
    order: str
    payment_id: str
    position: int


# --- withdrawals --------------------------------------------------------------------------------------------------


#: Where a payout goes: "alipay:13800000000", "wechat:wxid_…", "ICBC 6222 0000 0000 0000". 1–100 characters, no
#: control characters (tab, CR, LF), not starting with a space; the engine's ``Withdraw.payee`` checks the same.
PayeeText = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$",
                                 examples=["alipay:13800000000"])]


class WithdrawIn(StrictIn):
    amount: MoneyIn
    payee: PayeeText = Field(description="the account the payout goes to (required)")


class MarkPaidIn(StrictIn):
    reference: FreeText | None = None


#: Why an operator rejects a withdrawal, as the member will read it: trimmed, 1–200 characters, no control characters
#: but line breaks (the engine's ``reject_reason_refusal`` checks the same).
RejectReasonText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                                    pattern=r"^[^\x00-\x09\x0b-\x1f\x7f]*$"),
                             Field(examples=["the payee account name does not match your real name"])]


class RejectWithdrawalIn(StrictIn):
    reason: RejectReasonText = Field(description="why, as the member will read it (required)")


class WithdrawalOut(Schema):
    withdrawal: str
    member: str
    amount: MoneyOut
    fee: MoneyOut
    net: MoneyOut = Field(description="amount less fee: what the payee receives")
    status: Literal["requested", "approved", "rejected", "paid", "payout_failed"]
    payout_pending: bool = Field(description="approved, the payout not recorded yet (the amount is in withdrawing)")
    label: str
    label_zh: str
    payee: str | None = Field(description="the account the payout goes to")
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    reference: str | None
    reason: str | None = Field(description="why the shop rejected it, as the operator wrote it (null: not rejected, "
                                            "or rejected before rejections had reasons)")
    member_available: MoneyOut = Field(description="the member's available balance now (negative: a debt)")
    member_debt: MoneyOut = Field(description="what the member owes now (0.00 unless available is below zero)")


class WithdrawalsPage(Schema):
    withdrawals: list[WithdrawalOut]
    next_after: str | None = Field(description="pass as `after` to read the next page; null on the last page")


# --- plans and operators ------------------------------------------------------------------------------------------


class PlanOut(Schema):
    plan: str
    version: int = Field(description="the config version this config took effect with")
    config: dict[str, Any]


class PlanVersionOut(Schema):
    version: int
    config: dict[str, Any]
    position: int | None = Field(description="the configure_plan event; null for the shop's initial config")
    actor: str | None
    at: dt.datetime | None


class PlanUpdateIn(StrictIn):
    config: dict[str, Any] = Field(description="keys to change; the others keep their current value")


class CloseDayIn(StrictIn):
    day: dt.date


class ClosedDayOut(Schema):
    day: dt.date
    position: int
    status: Literal["applied"]


class SummaryOut(Schema):
    pools: dict[str, str]
    platform: dict[str, str]
    refused: int
    logged: int
    applied_position: int
    members: int
    config_version: int
    ledger: dict[str, Any] = Field(description="balanced: every unit sums to zero; transactions: how many")


class MemberViewOut(Schema):
    member: str
    referrer: str | None
    joined_at: dt.datetime
    rank: str
    team: str | None
    view: dict[str, Any] = Field(description="the member's keys as in `liandong replay --json`")
    reads: dict[str, Any] = Field(description="what the member sees of each module (kind -> read)")
    operator_reads: dict[str, Any] = Field(description="what an operator sees of each module (kind -> read)")


class AuditOut(Schema):
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    event_position: int | None
    at: dt.datetime


class AuditPage(Schema):
    audit: list[AuditOut]
    next_after: int | None = Field(description="pass as `after` to read the next (older) page; null on the last")


class EventsPage(Schema):
    events: list[OperatorEventOut]
    next_after: int | None = Field(description="pass as `after` to read the next page; null on the last page")
