"""Group campaigns for the campaign pages' tests (``test_pages_group_buy.py``, ``test_pages_red_envelope.py``): a shop
with a group-buy lottery and a red-envelope campaign created by an operator's event, and members registered through
the API who take seats the way a member's browser does: ``POST /api/actions/<verb>`` answers an order awaiting
payment, the payment provider's signed webhook pays it, and the (inline) worker applies the seat.

The tests load ``pytest_plugins = ["api_fixtures"]`` for the API's settings (inline worker, payment secret) and the
member registration; the helpers here create the campaigns and take seats."""

from __future__ import annotations

from typing import Any

from api_client import Caller, signed_webhook

from conftest import log_event
from liandong.service.store.models import CampaignState, EventOutcome
from liandong.service.worker import drain

SECRET = "00" * 31 + "01"
#: TEA sells at 99.00 with a 10.00 red envelope (the rulebook's example).
PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "99.00", "red_envelope": "10.00", "name": "Spring tea"}]


def create_group_buy(campaign: str = "gb1", **params: Any) -> None:
    """A group-buy lottery of TEA (groups of 3 and 1 winner unless ``params`` say otherwise), published."""
    log_event("create_group_buy", campaign=campaign,
              params={"sku": "TEA", "group_size": 3, "winners": 1, "secret": SECRET, **params})
    drain()


def create_red_envelope(campaign: str = "re1", **params: Any) -> None:
    log_event("create_red_envelope", campaign=campaign, params={"sku": "TEA", "max_size": 5, "secret": SECRET,
                                                                **params})
    drain()


def pay(caller: Caller, order: dict[str, Any]) -> None:
    """The provider confirms the payment of ``order`` (an answer of a paid action)."""
    paid = signed_webhook(caller, {"payment_id": f"pay-{order['order']}", "order": order["order"],
                                   "amount": order["amount"], "status": "succeeded"})
    assert paid.status == 200, paid.body
    drain()


def act(caller: Caller, verb: str, **body: Any) -> dict[str, Any]:
    """A paid action through the API (an order answered), paid at once; the order's answer."""
    r = caller.post(f"/api/actions/{verb}", body)
    assert r.status == 201, r.body
    pay(caller, r.body)
    outcome = EventOutcome.objects.order_by("-event_id").first()
    assert outcome is not None and outcome.applied, outcome and outcome.refusal
    answer: dict[str, Any] = r.body
    return answer


def group_ids(campaign: str) -> list[str]:
    view = CampaignState.objects.get(campaign=campaign).view
    return [g["group"] for g in view["group_views"]]


def group_view(campaign: str, group: str) -> dict[str, Any]:
    view = CampaignState.objects.get(campaign=campaign).view
    found: dict[str, Any] = next(g for g in view["group_views"] if g["group"] == group)
    return found
