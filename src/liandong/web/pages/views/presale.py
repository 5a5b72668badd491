"""A pre-sale's page (``/campaigns/<id>`` of kind ``presale``, dispatched by ``campaigns.KIND_VIEWS``).

Before anyone pays it shows every rule that decides money, from the frozen published parameters: the price, the
tiers (every ``tier_size`` participants lower the price for everyone by ``tier_rebate``, at most ``max_tiers``
times, down to the lowest price), the free draw (one participant not yet free every ``free_every``, the whole price
back), the target and the deadline, leaving, the plans, and the draw's commitment with the public draw page.

While it runs: the participants so far (the read model's real count), the current tier, the price now, how many
joins until the next tier and the price then, how many until the next free draw, the deadline's countdown
(``pages.js``) and the free winners so far by display name, all kept up to date on the open page by the
campaign's stream (``campaign_live.py``). At the close: the rebate every participant got
(the rulebook gives everyone the same, ``tiers x tier_rebate``), and a member's own entry (paid, returned, rebate,
net) from the module's member view.

Every figure is the engine's (``Presale.campaign_view``, ``Entry.view``): the page does no arithmetic on money or
counts. A member joins through ``POST /api/actions/join_presale`` (an order awaiting payment, paid on its page) and
leaves through ``POST /api/actions/leave_presale``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ...api import reads
from ..people import display_names
from .shop import shop_timezone, viewer_member

#: What a member's own entry's status means, in the page's words.
ENTRY_STATUS: dict[str, Any] = {
    "in": gettext_lazy("You take part: your payment is held apart until the close."),
    "left": gettext_lazy("You left this pre-sale: your payment came back in full."),
    "delivered": gettext_lazy("The pre-sale is closed: the product is yours."),
    "refunded": gettext_lazy("Your order was refunded after the close."),
}


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def own_entry(member: str | None, campaign: str) -> dict[str, Any] | None:
    """The member's latest entry in this pre-sale (``members.<id>.presales.<campaign>``), or None."""
    if member is None:
        return None
    state = reads.member_state(member)
    entry: dict[str, Any] | None = ((state.view if state else {}).get("presales") or {}).get(campaign)
    return entry


def public_context(kind: str, view: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see of the pre-sale as it stands (no viewer): the rules block's context, the deadline, the
    free winners by display name. The page and its live parts (``live_parts``) read the same."""
    from .campaigns import rules_context  # the shared rules block (campaigns.py dispatches here)

    names = display_names(view.get("free", ()))
    deadline = _moment(view["params"].get("deadline"))
    is_open = view["status"] == "open"
    return {
        **rules_context(kind, view), "shop_tz": shop_timezone(), "open": is_open, "deadline_at": deadline,
        "deadline_passed": is_open and deadline is not None and deadline <= timezone.now(),
        "free_names": [names[m] for m in view.get("free", ())],
    }


#: The parts of the page that change as members join and leave, by name (``data-live-part``): the top card (the
#: count, the tier and price now, the joins to the next tier and free draw, the countdown, the close) and the free
#: winners.
LIVE_TEMPLATES = {"status": "pages/campaigns/live/presale_status.html",
                  "free": "pages/campaigns/live/presale_free.html"}


def live_parts(kind: str, view: dict[str, Any]) -> dict[str, str]:
    """The page's live parts rendered from the engine's read, as the page shows them and the stream sends them."""
    context = public_context(kind, view)
    return {name: render_to_string(template, context) for name, template in LIVE_TEMPLATES.items()}


def presale_campaign(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    from .campaign_live import live_data

    member = viewer_member(request)
    entry = own_entry(member, view["id"])
    context = {
        "tab": "shop", **public_context(kind, view), "member": member,
        "entry": entry, "entry_status": ENTRY_STATUS.get(entry["status"], "") if entry else "",
        "taking_part": entry is not None and entry["status"] == "in",
        "login_next": reverse("pages:login") + "?next=" + request.path,
    }
    parts = live_parts(kind, view)
    context.update({"parts": parts, "live_data": live_data(view, parts)})  # parts: rendered by Django (escaped)
    return render(request, "pages/campaigns/presale.html", context)
