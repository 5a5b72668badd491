"""Every API error is one JSON shape that names the field and the value that caused it::

    HTTP 422
    {"error": {"code": "withdrawal_above_available", "field": "amount", "value": "500.00",
               "message": "amount 500.00 is more than the available balance 40.00",
               "message_zh": "提现金额 500.00 超过可用余额 40.00"}}

Both messages come from the one catalogue (``liandong/locale``, ``docs/i18n.md``), each in its named language
(``engine.i18n.translate``), whatever the request's language. Two sources: the engine's refusals
(``Refusal.to_json()``: an event was logged and the engine refused it; its codes are the engine's, see
``engine/errors.py``) and the API's own checks below (the request never became an event: a malformed body, a
missing header, a wrong signature, somebody else's order). Status codes:
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
from django.utils.translation import gettext_noop

from ...engine.i18n import translate

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


#: The English messages (msgids of the catalogue, ``liandong/locale``; ``docs/i18n.md``); ``{field}``, ``{value}``
#: and any extra parameter are filled in after the translation. A parameter named in ``TRANSLATED_PARAMS`` is a
#: msgid itself, translated too (``what``: what a limit counts, e.g. "failed logins").
MESSAGES: dict[ApiCode, str] = {
    ApiCode.INVALID: gettext_noop("{field} {value}: {why}"),
    ApiCode.MISSING: gettext_noop("{field} is required"),
    ApiCode.PASSWORD_REJECTED: gettext_noop("{field} is not allowed: {why}"),
    ApiCode.UNAUTHORIZED: gettext_noop("log in first (a session or an Authorization: Bearer token)"),
    ApiCode.LOGIN_FAILED: gettext_noop("username {value} and this password do not match"),
    ApiCode.RATE_LIMITED: gettext_noop("too many {what} for {field} {value}; try again in {retry_after} seconds"),
    ApiCode.FORBIDDEN: gettext_noop("you may not do this: it needs {value}"),
    ApiCode.CSRF_FAILED: gettext_noop(
        "the CSRF check failed: with a session, send the csrftoken cookie's value in {field}"),
    ApiCode.NOT_A_MEMBER: gettext_noop("user {value} is not a member of the shop"),
    ApiCode.NOT_FOUND: gettext_noop("{field} {value} does not exist"),
    ApiCode.EXISTS: gettext_noop("{field} {value} already exists"),
    ApiCode.IDEMPOTENCY_KEY_MISSING: gettext_noop(
        "every POST needs an Idempotency-Key header (1–128 visible characters)"),
    ApiCode.IDEMPOTENCY_CONFLICT: gettext_noop("Idempotency-Key {value} was already used with a different request"),
    ApiCode.IDEMPOTENCY_IN_PROGRESS: gettext_noop(
        "the first request with Idempotency-Key {value} is still running; retry"),
    ApiCode.SIGNATURE_INVALID: gettext_noop("{field} does not match the body: {why}"),
    ApiCode.SIGNATURE_EXPIRED: gettext_noop("{field} timestamp {value} is more than {tolerance} seconds from now"),
    ApiCode.AMOUNT_MISMATCH: gettext_noop("amount {value} is not the order's amount {expected}"),
    ApiCode.PRODUCT_UNAVAILABLE: gettext_noop("sku {value} is not on sale"),
    ApiCode.PAYMENT_CONFLICT: gettext_noop("payment {value} was already reported for another order or amount"),
    ApiCode.INVITE_INVALID: gettext_noop("invite code {value} is not valid"),
    ApiCode.TOO_LARGE: gettext_noop("the request body is over {limit} bytes"),
    ApiCode.METHOD_NOT_ALLOWED: gettext_noop("{value} is not allowed on this path"),
    ApiCode.INTERNAL: gettext_noop("something went wrong on our side; it is logged, and retrying may work"),
}
TRANSLATED_PARAMS = frozenset({"what"})


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
        """The message in ``lang`` (``en``, ``zh-hans``), from the catalogue, its placeholders filled in."""
        params = {name: translate(param, lang) if name in TRANSLATED_PARAMS else param
                  for name, param in self.params.items()}
        return translate(MESSAGES[self.code], lang).format(field=self.field, value=self.value, **params)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": str(self.code), "field": self.field, "value": self.value,
                          "message": self.message("en"), "message_zh": self.message("zh-hans")}}


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
