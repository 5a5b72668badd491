"""Blind-box offers (``office.models.BlindBoxOffer``): the terms an operator publishes for members to start box
sets with.

The engine creates a blind box only by a member's ``start_blind_box``, which carries its terms; an offer is the
shop's published terms for that start. Its ``params`` are the engine's ``BlindBoxParams`` validated by the engine's
own model and kept as the engine's view shows a set's (``Campaign.public``: money as two-decimal strings, no
secret), so a set started from an offer shows ``view["params"] == offer.params``. The sets started from an offer
are the sets on exactly its terms started while it was published (from its publication to its retirement).

Nothing here computes money: the rules members read are the engine's view of a set on these terms, made in a
probe shop on the shop's products (``campaign_reads.preview_view``), without its commitment (a set's secret is made
when it is started).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from ...engine.campaigns.base import parse_params
from ...engine.errors import Refusal
from ...service.store.models import CampaignState
from . import campaign_reads as cr
from .models import BlindBoxOffer

KIND = "blind_box"


def engine_params(raw: dict[str, Any]) -> dict[str, Any] | Refusal:
    """The terms as the engine's model reads them, in the form a set's view shows them; or the engine's refusal."""
    parsed = parse_params(cr.params_model(KIND), {k: v for k, v in raw.items() if k not in cr.HIDDEN_PARAMS})
    if isinstance(parsed, Refusal):
        return parsed
    shown: dict[str, Any] = parsed.model_dump(mode="json", exclude={"secret"})
    return shown


def published() -> QuerySet[BlindBoxOffer]:
    return BlindBoxOffer.objects.filter(status="published").order_by("-id")


def offer_of(offer: int | str) -> BlindBoxOffer | None:
    return BlindBoxOffer.objects.filter(pk=int(offer)).first() if str(offer).isdigit() else None


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _started_from(offer: BlindBoxOffer, params: Any, published_at: str | None) -> bool:
    """Whether a set with these params, started (published) then, was started from the offer."""
    started = _moment(published_at)
    if offer.published_at is None or params != offer.params or started is None or started < offer.published_at:
        return False
    return offer.retired_at is None or started <= offer.retired_at


def sets_of(offer: BlindBoxOffer) -> list[tuple[str, str, dict[str, Any]]]:
    """The box sets started on the offer's terms while it was published, oldest first: (campaign, status, view)."""
    if offer.published_at is None:
        return []
    rows = CampaignState.objects.filter(kind=KIND).order_by("id").values_list("campaign", "status", "view")
    return [(campaign, status, view) for campaign, status, view in rows.iterator()
            if _started_from(offer, view.get("params"), view.get("published_at"))]


def sets_by_offer(offers: list[BlindBoxOffer]) -> dict[int, list[tuple[str, str]]]:
    """The sets of each offer, (campaign, status) oldest first, in one pass reading only each set's terms and start."""
    found: dict[int, list[tuple[str, str]]] = {offer.pk: [] for offer in offers}
    published = [offer for offer in offers if offer.published_at is not None]
    if not published:
        return found
    rows = (CampaignState.objects.filter(kind=KIND).order_by("id")
            .values_list("campaign", "status", "view__params", "view__published_at"))
    for campaign, status, params, published_at in rows.iterator():
        for offer in published:
            if _started_from(offer, params, published_at):
                found[offer.pk].append((campaign, status))
    return found


def snapshot(offer: BlindBoxOffer) -> dict[str, Any]:
    """The offer as its audit rows keep it."""
    return {"offer": offer.pk, "status": offer.status, "params": offer.params,
            "published_at": offer.published_at, "retired_at": offer.retired_at}


def terms_view(params: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """A set on these terms as the engine shows it to members (the window, the shares' rest, the starter's net,
    the limits), before any set exists: no commitment, no id; or None and the engine's refusal."""
    view, refused = cr.preview_view(KIND, params)
    if view is None:
        return None, refused
    view.update(commitment="", id="", status="open", published_at=None)
    return view, ""


def offer_of_set(view: dict[str, Any]) -> BlindBoxOffer | None:
    """The offer a box set was started from (its terms and its start within the offer's period), or None."""
    for offer in BlindBoxOffer.objects.exclude(status="draft").order_by("-id"):
        if _started_from(offer, view.get("params"), view.get("published_at")):
            return offer
    return None
