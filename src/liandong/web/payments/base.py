"""What every payment provider gives the shop, whatever its SDK."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class NotificationRefused(Exception):
    """A notification we do not act on, with the reason logged and told to the provider."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderError(Exception):
    """An outgoing call to the provider that did not succeed (its answer, or why it could not be read)."""


@dataclass(frozen=True)
class PaymentNotice:
    """A provider's notice, verified by its SDK and by us: ``transaction_id`` is the provider's, ``out_trade_no``
    ours, ``amount`` in fen."""

    provider: str
    transaction_id: str
    out_trade_no: str
    amount: int
    currency: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RefundResult:
    """The provider's answer to a refund: its refund id and state (``SUCCESS``, ``PROCESSING`` …)."""

    provider: str
    refund_no: str
    provider_refund_id: str
    amount: int
    state: str


class PaymentProvider(Protocol):
    """A provider the shop can take payments through and refund them."""

    name: str

    def refund(self, *, out_trade_no: str, transaction_id: str, refund_no: str, amount: int, total: int,
               reason: str) -> RefundResult: ...
