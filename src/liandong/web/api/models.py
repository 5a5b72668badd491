"""What the API keeps that is not ledger state: stored responses for idempotent POSTs, and orders awaiting payment.

``IdempotentRequest``: the first request with a given ``Idempotency-Key`` (per caller) claims the row, runs, and
stores its response; a repeat with the same body gets that response again, a repeat with another body a 409.

``PendingOrder``: an order exists from its creation (``awaiting_payment``), but the engine learns of it only when
the payment provider confirms it: the webhook appends the ``pay`` event, and from then on the engine's
``OrderState`` says whether it is paid or refunded.
"""

from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    scope = models.CharField(max_length=80, help_text="who sent it: user:ID, token:HASH or anonymous")
    key = models.CharField(max_length=128, help_text="the Idempotency-Key header")
    request_hash = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status_code = models.IntegerField(null=True, blank=True, help_text="null while the first request runs")
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="one_request_per_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} -> {self.status_code}"


class PendingOrder(models.Model):
    order = models.CharField(max_length=64, unique=True)
    member = models.CharField(max_length=64, db_index=True)
    sku = models.CharField(max_length=64)
    quantity = models.IntegerField(default=1)
    amount = models.BigIntegerField(help_text="fen, at the price when the order was created")
    created_at = models.DateTimeField(auto_now_add=True)
    payment_id = models.CharField(max_length=128, blank=True, help_text="the provider's id of the first payment")
    pay_event = models.BigIntegerField(null=True, blank=True, help_text="log position of the pay event")
    verb = models.CharField(max_length=64, default="pay", help_text="the event the payment logs (a campaign's seat…)")
    fields = models.JSONField(default=dict, blank=True, help_text="that event's fields, for a verb other than pay")

    def __str__(self) -> str:
        return f"order {self.order} by {self.member}"
