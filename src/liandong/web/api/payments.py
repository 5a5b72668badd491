"""The payment provider's webhook, signed with HMAC-SHA256, and a demo provider for local runs.

The provider signs ``<timestamp>.<raw body>`` with the shared secret (``LIANDONG_PAYMENT_SECRET``) and sends::

    POST /api/payments/webhook
    Liandong-Signature: t=1767225600,v1=5f0c…(hex HMAC-SHA256)
    {"payment_id": "pay_81", "order": "o7hc…", "amount": "699.00", "status": "succeeded"}

A signature that does not match the raw body, or a timestamp more than ``PAYMENT_WEBHOOK_TOLERANCE_SECONDS``
(300) from now, is a 401 naming the header. The ``pay`` event is keyed on the provider's payment id, so a
delivery repeated (providers retry) logs nothing new; the same payment id with another order or amount is a 409.
The provider does not send our ``Idempotency-Key``: this is the one POST keyed on the payment id instead.

``POST /api/payments/demo/<order>`` (only with ``LIANDONG_DEBUG=1``) plays the provider for ``make run``: it signs
a body for the order and delivers it to the webhook view, through the same signature check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.test import RequestFactory
from django.urls import resolve, reverse
from ninja import Router
from ninja.params.functions import Path
from ninja.security import APIKeyHeader

from ...engine.money import format_fen, parse_yuan
from .actions import log_event, outcome_of
from .auth import AUTH, may_read_member, user_of
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .models import PendingOrder
from .schemas import ErrorOut, PaymentReceivedOut, PaymentWebhookIn

router = Router(tags=["payments"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
SIGNATURE_HEADER = "Liandong-Signature"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
#: A Unix time of at most 12 ASCII digits, and a SHA-256 HMAC in hex.
_STAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_HEX_MAC = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header value for ``body``: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(body: bytes, header: str, secret: str, now: float, tolerance: int) -> None:
    """Raise a 401 naming the header unless it signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    if not secret:
        raise ApiError(401, ApiCode.SIGNATURE_INVALID, SIGNATURE_HEADER,
                       why="the shop has no payment secret (set LIANDONG_PAYMENT_SECRET)")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    # ASCII only and bounded: "²".isdigit() is true but int("²") raises, int() of 5,000 digits raises, and
    # hmac.compare_digest raises on a non-ASCII str: each was a 500 for anyone.
    if not _STAMP.fullmatch(stamp) or not _HEX_MAC.fullmatch(given):
        raise ApiError(401, ApiCode.SIGNATURE_INVALID, SIGNATURE_HEADER, why="expected t=<unix time>,v1=<hex>")
    if abs(now - int(stamp)) > tolerance:
        raise ApiError(401, ApiCode.SIGNATURE_EXPIRED, SIGNATURE_HEADER, stamp, tolerance=tolerance)
    expected = sign(body, secret, int(stamp)).split("v1=", 1)[1]
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise ApiError(401, ApiCode.SIGNATURE_INVALID, SIGNATURE_HEADER, why="HMAC-SHA256 differs")


class ProviderSignature(APIKeyHeader):
    """The webhook's authentication: the signature over the raw body, checked before the body is parsed."""

    param_name = SIGNATURE_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        verify(request.body, key or "", settings.PAYMENT_SECRET, time.time(),
               int(getattr(settings, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 300)))
        return "payment-provider"


@router.post("/payments/webhook", auth=ProviderSignature(), url_name="payment_webhook",
             response={200: PaymentReceivedOut, **ERRORS})
def payment_webhook(request: HttpRequest, body: PaymentWebhookIn) -> dict[str, Any]:
    """The provider confirms a payment: logs the order's ``pay`` event (once per payment id)."""
    pending = PendingOrder.objects.filter(order=body.order).first()
    if pending is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "order", body.order)
    amount = parse_yuan(body.amount)
    if amount != pending.amount:
        raise ApiError(400, ApiCode.AMOUNT_MISMATCH, "amount", body.amount, expected=format_fen(pending.amount))
    logged = record_payment(request, pending, body.payment_id, amount, key=f"payment:{body.payment_id}")
    return {"received": True, "order": body.order, "payment_id": body.payment_id, "position": logged.position}


def record_payment(request: HttpRequest, pending: PendingOrder, payment_id: str, amount: int, *, key: str) -> Any:
    """Log ``pending``'s event for a payment of ``amount`` fen, once per event ``key`` (the provider's payment or
    transaction id): a repeat finds the event already logged; the same key with another order or amount is a 409."""
    fingerprint = hashlib.sha256(f"{pending.order}|{amount}".encode()).hexdigest()
    if pending.verb == "pay":  # ``fields``: the full amount and the points, when points paid part of it
        fields = {"member": pending.member, "sku": pending.sku, "order": pending.order,
                  "quantity": pending.quantity, "amount": format_fen(pending.amount), **pending.fields}
    else:  # a paid action (a group seat, a pre-sale entry, a blind box): its event, with what the provider took
        fields = {**pending.fields, "paid": format_fen(amount)}
    try:
        logged = log_event(request, pending.verb, fields, actor="payment",
                           key=(key, fingerprint))
    except ApiError as exc:
        if exc.code is ApiCode.IDEMPOTENCY_CONFLICT:
            raise ApiError(409, ApiCode.PAYMENT_CONFLICT, "payment_id", payment_id) from None
        raise
    PendingOrder.objects.filter(pk=pending.pk, pay_event__isnull=True).update(payment_id=payment_id,
                                                                            pay_event=logged.position)
    outcome_of(logged, wait=False)
    return logged


@idempotent_post(router, "/payments/demo/{order}", auth=AUTH, response={200: PaymentReceivedOut, **ERRORS})
def demo_payment(request: HttpRequest, order: str = Path(..., pattern=ID_PATTERN)) -> HttpResponseBase:
    """Pay an order with the built-in demo provider (only when ``LIANDONG_DEBUG=1``): its owner or an operator."""
    user_of(request)
    pending = PendingOrder.objects.filter(order=order).first()
    if not settings.DEBUG or pending is None or not may_read_member(request, pending.member):
        raise ApiError(404, ApiCode.NOT_FOUND, "order", order)
    return deliver_demo_payment(pending, f"demo-{pending.order}")


def deliver_demo_payment(pending: PendingOrder, payment_id: str) -> HttpResponseBase:
    """Sign a succeeded payment of ``pending`` and hand it to the webhook view, as the provider would."""
    body = json.dumps({"payment_id": payment_id, "order": pending.order, "amount": format_fen(pending.amount),
                       "status": "succeeded"}).encode()
    path = reverse("api:payment_webhook")
    signed = RequestFactory().post(path, data=body, content_type="application/json",
                                   headers={SIGNATURE_HEADER: sign(body, settings.PAYMENT_SECRET, int(time.time()))})
    response: HttpResponseBase = resolve(path).func(signed)
    return response
