"""Every API error is one JSON shape that names the field and the value that caused it::

    HTTP 422
    {"error": {"code": "withdrawal_above_available", "field": "amount", "value": "500.00",
               "message": "amount 500.00 is more than the available balance 40.00",
               "message_zh": "提现金额 500.00 超过可用余额 40.00"}}

Two sources: the engine's refusals (``Refusal.to_json()``: an event was logged and the engine refused it; its
codes are the engine's, see ``engine/errors.py``) and the API's own checks below (the request never became an
event: a malformed body, a missing header, a wrong signature, somebody else's order). Status codes:
400 malformed, 401 who are you, 403 not allowed, 404 no such thing (or not yours), 409 conflict (idempotency),
413 the body is over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 422 the engine refused the event, 429 too many tries
(logins, registrations, invite codes), 500 a fault of ours (no details, even with DEBUG: they are in the log).

An error never echoes more than ``SHOWN_MAX`` (64) characters of what was sent, in ``value``, ``field`` or the
messages: a 1 MB value comes back as its first 64 characters and "…".
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from django.http import HttpResponse

SHOWN_MAX = 64
#: A reason (``why``) may quote a short prefix of the value and some words around it.
WHY_MAX = 240


class ApiCode(StrEnum):
    INVALID = "invalid"
    MISSING = "missing"
    PASSWORD_REJECTED = "password_rejected"
    UNAUTHORIZED = "unauthorized"
    LOGIN_FAILED = "login_failed"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    NOT_A_MEMBER = "not_a_member"
    NOT_FOUND = "not_found"
    EXISTS = "exists"
    IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    SIGNATURE_INVALID = "signature_invalid"
    SIGNATURE_EXPIRED = "signature_expired"
    AMOUNT_MISMATCH = "amount_mismatch"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    PAYMENT_CONFLICT = "payment_conflict"
    INVITE_INVALID = "invite_invalid"
    TOO_LARGE = "too_large"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL = "internal"


#: English and Chinese messages; ``{field}``, ``{value}`` and any extra parameter are filled in.
MESSAGES: dict[ApiCode, tuple[str, str]] = {
    ApiCode.INVALID: ("{field} {value}: {why}", "{field} {value}：{why}"),
    ApiCode.MISSING: ("{field} is required", "缺少 {field}"),
    ApiCode.PASSWORD_REJECTED: ("{field} is not allowed: {why}", "{field} 不符合要求：{why}"),
    ApiCode.UNAUTHORIZED: ("log in first (a session or an Authorization: Bearer token)",
                           "请先登录（会话或 Authorization: Bearer 令牌）"),
    ApiCode.LOGIN_FAILED: ("username {value} and this password do not match", "用户名 {value} 与密码不匹配"),
    ApiCode.RATE_LIMITED: ("too many {what} for {field} {value}; try again in {retry_after} seconds",
                           "{field} {value} 的{what_zh}次数过多，请 {retry_after} 秒后再试"),
    ApiCode.FORBIDDEN: ("you may not do this: it needs {value}", "无权操作：需要 {value}"),
    ApiCode.CSRF_FAILED: ("the CSRF check failed: with a session, send the csrftoken cookie's value in {field}",
                          "CSRF 校验失败：使用会话时，请在 {field} 中发送 csrftoken cookie 的值"),
    ApiCode.NOT_A_MEMBER: ("user {value} is not a member of the shop", "用户 {value} 不是本店会员"),
    ApiCode.NOT_FOUND: ("{field} {value} does not exist", "{field} {value} 不存在"),
    ApiCode.EXISTS: ("{field} {value} already exists", "{field} {value} 已存在"),
    ApiCode.IDEMPOTENCY_KEY_MISSING: ("every POST needs an Idempotency-Key header (1–128 visible characters)",
                                      "每个 POST 请求都需要 Idempotency-Key 请求头（1–128 个可见字符）"),
    ApiCode.IDEMPOTENCY_CONFLICT: ("Idempotency-Key {value} was already used with a different request",
                                   "Idempotency-Key {value} 已用于另一个请求"),
    ApiCode.IDEMPOTENCY_IN_PROGRESS: ("the first request with Idempotency-Key {value} is still running; retry",
                                      "使用 Idempotency-Key {value} 的首个请求仍在处理，请稍后重试"),
    ApiCode.SIGNATURE_INVALID: ("{field} does not match the body: {why}", "{field} 与请求体不符：{why}"),
    ApiCode.SIGNATURE_EXPIRED: ("{field} timestamp {value} is more than {tolerance} seconds from now",
                                "{field} 时间戳 {value} 与当前时间相差超过 {tolerance} 秒"),
    ApiCode.AMOUNT_MISMATCH: ("amount {value} is not the order's amount {expected}",
                              "金额 {value} 与订单金额 {expected} 不符"),
    ApiCode.PRODUCT_UNAVAILABLE: ("sku {value} is not on sale", "商品 {value} 未在售"),
    ApiCode.PAYMENT_CONFLICT: ("payment {value} was already reported for another order or amount",
                               "支付单 {value} 已用于其他订单或金额"),
    ApiCode.INVITE_INVALID: ("invite code {value} is not valid", "邀请码 {value} 无效"),
    ApiCode.TOO_LARGE: ("the request body is over {limit} bytes", "请求体超过 {limit} 字节"),
    ApiCode.METHOD_NOT_ALLOWED: ("{value} is not allowed on this path", "此路径不支持 {value}"),
    ApiCode.INTERNAL: ("something went wrong on our side; it is logged, and retrying may work",
                       "服务器内部错误，已记录；可稍后重试"),
}


def clip(value: Any, limit: int = SHOWN_MAX) -> Any:
    """A sent value as an error shows it: a string cut to ``limit`` characters and "…"; others as they are."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    return value


class ApiError(Exception):
    """A request the API answers with an error; ``status`` is the HTTP status."""

    def __init__(self, status: int, code: ApiCode, field: str, value: Any = None, **params: Any) -> None:
        if isinstance(value, (bool, float, dict, list, tuple)):  # as it was sent: 12.5, true, {"a": 1}
            value = json.dumps(value, ensure_ascii=False, default=str)
        elif not isinstance(value, (str, int, type(None))):  # a Fraction, a date: its text
            value = str(value)
        self.status, self.code, self.field, self.value = status, code, clip(field), clip(value)
        self.params = {name: clip(param, WHY_MAX if name == "why" else SHOWN_MAX) for name, param in params.items()}
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        en, zh = MESSAGES[self.code]
        template = zh if lang.startswith("zh") else en
        return template.format(field=self.field, value=self.value, **self.params)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": str(self.code), "field": self.field, "value": self.value,
                          "message": self.message("en"), "message_zh": self.message("zh")}}


def error_response(exc: ApiError) -> HttpResponse:
    """The one place an API error becomes a response: the JSON body, and ``Retry-After`` on a 429."""
    response = HttpResponse(json.dumps(exc.body(), ensure_ascii=False), status=exc.status,
                            content_type="application/json; charset=utf-8")
    if exc.status == 429 and "retry_after" in exc.params:
        response["Retry-After"] = str(exc.params["retry_after"])
    return response


def refusal_body(refusal: dict[str, Any], position: int) -> dict[str, Any]:
    """The error body of an event the engine refused (``refusal`` is ``Refusal.to_json()`` as stored)."""
    return {"error": {"code": refusal["code"], "field": refusal["field"], "value": refusal["value"],
                      "message": refusal["reason"], "message_zh": refusal["reason_zh"]},
            "event": {"position": position, "status": "refused"}}
