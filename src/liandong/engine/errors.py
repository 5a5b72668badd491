"""Refusals: the expected reasons an event is not applied, one code each, in order of precedence per event.

A refusal names the field and the value that caused it and carries its message in English and Chinese: each code
declares an English message (a msgid marked with ``gettext_noop``), and its Chinese is in the catalogue
(``engine/i18n.py``). The core's codes are here (``Code``); a module declares its own in ``Module.codes`` and the
registry adds them to ``MESSAGES`` (a code declared by two modules is an error at start).
It changes nothing: the engine checks every condition before it posts anything (``check_*`` before ``apply_*``).
Bugs are not refusals: they are assertions (``LedgerError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any

from .i18n import gettext_noop, translate


class Code(StrEnum):
    # the clock
    AT_BEFORE_CLOCK = "at_before_clock"
    DAY_BEFORE_CLOCK = "day_before_clock"
    # members
    MEMBER_EXISTS = "member_exists"
    MEMBER_UNKNOWN = "member_unknown"
    REFERRER_UNKNOWN = "referrer_unknown"
    MEMBER_ID_INVALID = "member_id_invalid"
    # orders
    PRODUCT_UNKNOWN = "product_unknown"
    ORDER_EXISTS = "order_exists"
    ORDER_UNKNOWN = "order_unknown"
    ORDER_REFUNDED = "order_refunded"
    ORDER_NOT_REFUNDABLE = "order_not_refundable"
    QUANTITY_INVALID = "quantity_invalid"
    # withdrawals
    WITHDRAWAL_EXISTS = "withdrawal_exists"
    WITHDRAWAL_UNKNOWN = "withdrawal_unknown"
    WITHDRAWAL_BELOW_MINIMUM = "withdrawal_below_minimum"
    WITHDRAWAL_ABOVE_AVAILABLE = "withdrawal_above_available"
    WITHDRAWAL_DECIDED = "withdrawal_decided"
    # plans
    PLAN_NOT_RUNNING = "plan_not_running"
    # generic, for plan and campaign modules
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    EXISTS = "exists"
    CLOSED = "closed"
    FROZEN = "frozen"
    NOT_ALLOWED = "not_allowed"
    INSUFFICIENT = "insufficient"
    PAID_MISMATCH = "paid_mismatch"
    SECRET_MISSING = "secret_missing"
    # added later (kept at the end: codes are never renumbered or reordered)
    WITHDRAWAL_MEMBER_OWES = "withdrawal_member_owes"
    REWARD_ABOVE_PRICE = "reward_above_price"
    WITHDRAWAL_REASON_INVALID = "withdrawal_reason_invalid"
    REPARENT_SAME_REFERRER = "reparent_same_referrer"
    REPARENT_CYCLE = "reparent_cycle"
    REPARENT_REASON_INVALID = "reparent_reason_invalid"


#: The English messages (msgids of the catalogue, ``engine/i18n.py``); ``{field}`` and ``{value}`` and any extra
#: parameter are filled in after the translation.
MESSAGES: dict[str, str] = {
    Code.AT_BEFORE_CLOCK: gettext_noop("at {value} is before the clock {clock}"),
    Code.DAY_BEFORE_CLOCK: gettext_noop("day {value} is before the clock's day {clock}"),
    Code.MEMBER_EXISTS: gettext_noop("member {value} already exists"),
    Code.MEMBER_UNKNOWN: gettext_noop("{field} {value} is not a member"),
    Code.REFERRER_UNKNOWN: gettext_noop("referrer {value} is not a member"),
    # xgettext:python-brace-format
    Code.MEMBER_ID_INVALID: gettext_noop("member id {value!r} is not allowed (1–64 characters, not starting with @)"),
    Code.PRODUCT_UNKNOWN: gettext_noop("sku {value} is not a product of this shop"),
    Code.ORDER_EXISTS: gettext_noop("order {value} already exists"),
    Code.ORDER_UNKNOWN: gettext_noop("order {value} does not exist"),
    Code.ORDER_REFUNDED: gettext_noop("order {value} is already refunded"),
    Code.ORDER_NOT_REFUNDABLE: gettext_noop("order {value} cannot be refunded: {why}"),
    Code.QUANTITY_INVALID: gettext_noop("quantity {value} must be at least 1"),
    Code.WITHDRAWAL_EXISTS: gettext_noop("withdrawal {value} already exists"),
    Code.WITHDRAWAL_UNKNOWN: gettext_noop("withdrawal {value} does not exist"),
    Code.WITHDRAWAL_BELOW_MINIMUM: gettext_noop("amount {value} is below the minimum withdrawal {minimum}"),
    Code.WITHDRAWAL_ABOVE_AVAILABLE: gettext_noop("amount {value} is more than the available balance {available}"),
    Code.WITHDRAWAL_DECIDED: gettext_noop("withdrawal {value} is already {status}"),
    Code.PLAN_NOT_RUNNING: gettext_noop("plan {value} does not run on this shop"),
    Code.INVALID: gettext_noop("{field} {value}: {why}"),
    Code.NOT_FOUND: gettext_noop("{field} {value} does not exist"),
    Code.EXISTS: gettext_noop("{field} {value} already exists"),
    Code.CLOSED: gettext_noop("{field} {value} is closed"),
    Code.FROZEN: gettext_noop("{field} {value} is frozen: {why}"),
    Code.NOT_ALLOWED: gettext_noop("{field} {value}: {why}"),
    Code.INSUFFICIENT: gettext_noop("{field} {value}: {why}"),
    Code.PAID_MISMATCH: gettext_noop("paid {value} is not the price {price}"),
    Code.SECRET_MISSING: gettext_noop(
        "{field} is missing: {verb} creates a draw, and a draw's secret (64 hex) comes with the event"
    ),
    Code.WITHDRAWAL_MEMBER_OWES: gettext_noop(
        "withdrawal {value} cannot be approved: {member} owes {owes} (available {available})"
    ),
    Code.REWARD_ABOVE_PRICE: gettext_noop(
        "{field} {value}: {rewards} is more than the price {price} of gift pack {sku}"
    ),
    Code.WITHDRAWAL_REASON_INVALID: gettext_noop(
        "{field} “{value}”: rejecting withdrawal {withdrawal} needs a reason the member can read, "
        "1–200 characters without control characters"
    ),
    Code.REPARENT_SAME_REFERRER: gettext_noop("{field} {value} is already the referrer of {member}"),
    Code.REPARENT_CYCLE: gettext_noop(
        "{field} {value} is {member} itself or in {member}'s referral tree: the tree would become a loop"
    ),
    Code.REPARENT_REASON_INVALID: gettext_noop(
        "{field} “{value}”: re-parenting {member} needs a reason, 1–200 characters without control characters"
    ),
}


_CODE_OWNERS: dict[str, str] = {str(code): "core" for code in Code}


def declare_codes(codes: dict[str, str], owner: str) -> None:
    """Add a module's refusal codes (code -> English message); a code another module (or the core) declared is an
    error."""
    for code, message in codes.items():
        held = _CODE_OWNERS.setdefault(code, owner)
        if held != owner:
            raise ValueError(f"refusal code {code!r} is declared by both {held} and {owner}")
        MESSAGES[code] = message


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    field: str
    value: Any
    params: dict[str, Any] = dc_field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` (``en``, ``zh-hans``; see ``i18n.locale_of``), its placeholders filled in."""
        return translate(MESSAGES[self.code], lang).format(field=self.field, value=self.value, **self.params)

    @property
    def reason(self) -> str:
        return self.message("en")

    def to_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "field": self.field,
            "value": self.value if isinstance(self.value, (str, int, type(None))) else str(self.value),
            "reason": self.message("en"),
            "reason_zh": self.message("zh-hans"),
        }


def refuse(code: str, field: str, value: Any, **params: Any) -> Refusal:
    return Refusal(code, field, value, params)
