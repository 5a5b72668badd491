"""Refusals: the expected reasons an event is not applied, one code each, in order of precedence per event.

A refusal names the field and the value that caused it and carries its message in English and Chinese. The core's
codes are here (``Code``); a module declares its own in ``Module.codes`` and the registry adds them to ``MESSAGES``
(a code declared by two modules is an error at start).
It changes nothing: the engine checks every condition before it posts anything (``check_*`` before ``apply_*``).
Bugs are not refusals: they are assertions (``LedgerError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from typing import Any


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


#: English and Chinese messages; ``{field}`` and ``{value}`` and any extra parameter are filled in.
MESSAGES: dict[str, tuple[str, str]] = {
    Code.AT_BEFORE_CLOCK: ("at {value} is before the clock {clock}", "时间 {value} 早于当前时钟 {clock}"),
    Code.DAY_BEFORE_CLOCK: ("day {value} is before the clock's day {clock}", "日期 {value} 早于当前营业日 {clock}"),
    Code.MEMBER_EXISTS: ("member {value} already exists", "会员 {value} 已存在"),
    Code.MEMBER_UNKNOWN: ("{field} {value} is not a member", "{field} {value} 不是会员"),
    Code.REFERRER_UNKNOWN: ("referrer {value} is not a member", "推荐人 {value} 不是会员"),
    Code.MEMBER_ID_INVALID: (
        "member id {value!r} is not allowed (1–64 characters, not starting with @)",
        "会员编号 {value!r} 不合法（1–64 个字符，不能以 @ 开头）",
    ),
    Code.PRODUCT_UNKNOWN: ("sku {value} is not a product of this shop", "商品 {value} 不存在"),
    Code.ORDER_EXISTS: ("order {value} already exists", "订单 {value} 已存在"),
    Code.ORDER_UNKNOWN: ("order {value} does not exist", "订单 {value} 不存在"),
    Code.ORDER_REFUNDED: ("order {value} is already refunded", "订单 {value} 已退款"),
    Code.ORDER_NOT_REFUNDABLE: ("order {value} cannot be refunded: {why}", "订单 {value} 不能退款：{why}"),
    Code.QUANTITY_INVALID: ("quantity {value} must be at least 1", "数量 {value} 至少为 1"),
    Code.WITHDRAWAL_EXISTS: ("withdrawal {value} already exists", "提现单 {value} 已存在"),
    Code.WITHDRAWAL_UNKNOWN: ("withdrawal {value} does not exist", "提现单 {value} 不存在"),
    Code.WITHDRAWAL_BELOW_MINIMUM: (
        "amount {value} is below the minimum withdrawal {minimum}",
        "提现金额 {value} 低于最低提现额 {minimum}",
    ),
    Code.WITHDRAWAL_ABOVE_AVAILABLE: (
        "amount {value} is more than the available balance {available}",
        "提现金额 {value} 超过可用余额 {available}",
    ),
    Code.WITHDRAWAL_DECIDED: ("withdrawal {value} is already {status}", "提现单 {value} 已{status}"),
    Code.PLAN_NOT_RUNNING: ("plan {value} does not run on this shop", "本店未启用方案 {value}"),
    Code.INVALID: ("{field} {value}: {why}", "{field} {value}：{why}"),
    Code.NOT_FOUND: ("{field} {value} does not exist", "{field} {value} 不存在"),
    Code.EXISTS: ("{field} {value} already exists", "{field} {value} 已存在"),
    Code.CLOSED: ("{field} {value} is closed", "{field} {value} 已结束"),
    Code.FROZEN: ("{field} {value} is frozen: {why}", "{field} {value} 已冻结：{why}"),
    Code.NOT_ALLOWED: ("{field} {value}: {why}", "{field} {value}：{why}"),
    Code.INSUFFICIENT: ("{field} {value}: {why}", "{field} {value}：{why}"),
    Code.PAID_MISMATCH: ("paid {value} is not the price {price}", "实付 {value} 与价格 {price} 不符"),
    Code.SECRET_MISSING: (
        "{field} is missing: {verb} creates a draw, and a draw's secret (64 hex) comes with the event",
        "缺少 {field}：{verb} 会创建抽奖，抽奖密钥（64 位十六进制）须随事件给出",
    ),
    Code.WITHDRAWAL_MEMBER_OWES: (
        "withdrawal {value} cannot be approved: {member} owes {owes} (available {available})",
        "提现单 {value} 不能批准：{member} 欠款 {owes}（可用余额 {available}）",
    ),
    Code.REWARD_ABOVE_PRICE: (
        "{field} {value}: {rewards} is more than the price {price} of gift pack {sku}",
        "{field} {value}：{rewards} 超过礼包 {sku} 的价格 {price}",
    ),
}


_CODE_OWNERS: dict[str, str] = {str(code): "core" for code in Code}


def declare_codes(codes: dict[str, tuple[str, str]], owner: str) -> None:
    """Add a module's refusal codes; a code another module (or the core) declared is an error."""
    for code, messages in codes.items():
        held = _CODE_OWNERS.setdefault(code, owner)
        if held != owner:
            raise ValueError(f"refusal code {code!r} is declared by both {held} and {owner}")
        MESSAGES[code] = messages


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    field: str
    value: Any
    params: dict[str, Any] = dc_field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        en, zh = MESSAGES[self.code]
        template = zh if lang.startswith("zh") else en
        return template.format(field=self.field, value=self.value, **self.params)

    @property
    def reason(self) -> str:
        return self.message("en")

    def to_json(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "field": self.field,
            "value": self.value if isinstance(self.value, (str, int, type(None))) else str(self.value),
            "reason": self.message("en"),
            "reason_zh": self.message("zh"),
        }


def refuse(code: str, field: str, value: Any, **params: Any) -> Refusal:
    return Refusal(code, field, value, params)
