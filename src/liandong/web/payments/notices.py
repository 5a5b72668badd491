"""A verified notice bound to our order: the order exists, the amount and currency are the order's, the order is not
already paid by another transaction, and the pay event is keyed on the provider's transaction id, so a repeated
notice finds the event already logged and credits nothing twice. A refusal is logged with its reason."""

from __future__ import annotations

import logging

from django.http import HttpRequest

from ...engine.money import format_fen
from ..api.errors import ApiError
from ..api.models import PendingOrder
from ..api.payments import record_payment
from .base import NotificationRefused, PaymentNotice

log = logging.getLogger("liandong.payments")


def refused(provider: str, reason: str, out_trade_no: str = "") -> None:
    """Log a notification we do not act on, with its reason."""
    log.warning("refused %s notification%s: %s", provider, f" for {out_trade_no}" if out_trade_no else "", reason)


def accept(request: HttpRequest, notice: PaymentNotice) -> bool:
    """Log the order's pay event for ``notice``; False when it was already logged (a duplicate)."""
    if not notice.transaction_id:
        raise NotificationRefused("no transaction id")
    pending = PendingOrder.objects.filter(order=notice.out_trade_no).first()
    if pending is None:
        raise NotificationRefused(f"out_trade_no {notice.out_trade_no!r} is not one of our orders")
    if notice.currency != "CNY":
        raise NotificationRefused(f"currency {notice.currency!r} is not CNY")
    if notice.amount != pending.amount:
        raise NotificationRefused(f"amount {format_fen(notice.amount)} is not the order's "
                                  f"{format_fen(pending.amount)}")
    if pending.pay_event is not None:
        if pending.payment_id == notice.transaction_id:
            log.info("duplicate %s notification for %s (%s): already logged", notice.provider, pending.order,
                     notice.transaction_id)
            return False
        raise NotificationRefused(f"order {pending.order} is already paid by {pending.payment_id}")
    try:
        record_payment(request, pending, notice.transaction_id, notice.amount,
                       key=f"payment:{notice.provider}:{notice.transaction_id}")
    except ApiError as exc:
        raise NotificationRefused(f"{exc.code.value}: {exc}") from None
    return True
