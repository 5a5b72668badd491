"""A blind-box set's page (``/campaigns/<id>`` of kind ``blind_box``, dispatched by ``campaigns.KIND_VIEWS``).

A blind box is one *set* per campaign, started (and paid) by a member: ``start_blind_box`` creates the campaign.
Before anyone pays the page shows the set's frozen published rules: the prize and its value, **the window the prize
is in** ("boxes 7–24"), the boxes, the open price and how it is shared (the starter's share, the opener's
referrer's, the rest), the coupons a miss gives and those a winner may take instead of the prize, what a start
costs (fee and coupons) and its promotion, the starter's net from the first to the last box of the window, the
limits no one can lift (the open price's cap, the ages), the plans, and the commitment with the public draw page.

While the set runs: who started it, the boxes opened (box, by whom by display name, what it gave), the next box and
where the prize can still be, and the starter's running share; at the close, the prize's box (revealed with the
secret), who opened it and what they took; the open page keeps these up to date from the campaign's stream
(``campaign_live.py``). Every figure is the engine's (``BlindBox.campaign_view``); the page does
no arithmetic.

A member opens the next box through ``POST /api/actions/open_blind_box`` with ``take`` chosen beforehand (the
prize, or the coupons instead, should this box hold the prize: the engine's only form of the prize choice, so the
form asks it with every open). A member starts a set of their own on the same terms through
``POST /api/actions/start_blind_box`` (the published parameters; the service adds a new secret), showing the fee,
the coupons needed and the coupons the member holds (the module's member view). Both answer an order awaiting
payment, paid on its page.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ...api import reads
from ...api.group_stream import initial
from ..people import display_names
from ..templatetags.liandong import yuan
from .shop import problem, shop_timezone, viewer_member


def coupons_of(member: str | None) -> int | None:
    """The member's blind-box coupons (the module's member view), or None for a visitor."""
    if member is None:
        return None
    state = reads.member_state(member)
    held = (state.view if state else {}).get("coupons", 0)
    return held if isinstance(held, int) else 0


def opening_text(result: str, params: dict[str, Any], prize_name: str) -> str:
    """What one opened box gave, in words, from the published figures."""
    if result == "miss":
        return _("not the prize: %(coupons)s coupons") % {"coupons": params.get("miss_coupons")}
    if result == "prize":
        return _("the prize: %(name)s") % {"name": prize_name}
    return _("the prize's box, taken as %(coupons)s coupons") % {"coupons": params.get("win_coupons")}


def public_context(kind: str, view: dict[str, Any]) -> dict[str, Any]:
    """What anyone may see of the set as it stands (no viewer): the rules block's context, the starter and the
    openers by display name, what each box gave. The page and its live parts (``live_parts``) read the same."""
    from .campaigns import rules_context  # the shared rules block (campaigns.py dispatches here)

    context = rules_context(kind, view)
    params, product = context["params"], context["product"]
    opens = list(view.get("opens", ()))
    names = display_names([view.get("starter", ""), *(o["member"] for o in opens)])
    shown_opens = [{"box": o["box"], "name": names[o["member"]], "initial": initial(names[o["member"]]),
                    "result": o["result"], "text": opening_text(o["result"], params, str(product["name"]))}
                   for o in opens]
    context.update({
        "shop_tz": shop_timezone(), "open": view["status"] == "open",
        "starter_name": names.get(view.get("starter", ""), ""), "opens": shown_opens,
        "winner_name": names.get(view.get("winner") or "", ""),
        "prize_value": yuan(view.get("prize", {}).get("value")),
    })
    return context


#: The parts of the page that change as boxes are opened, by name (``data-live-part``): the top card (boxes
#: opened, the next box, where the prize can still be, the starter's running share, the win) and the boxes opened.
LIVE_TEMPLATES = {"status": "pages/campaigns/live/blind_box_status.html",
                  "opens": "pages/campaigns/live/blind_box_opens.html"}


def open_texts(view: dict[str, Any]) -> dict[str, str]:
    """The open form's title and button, naming the next box (escaped text: live parts too)."""
    box, price = view.get("next_box"), yuan(view.get("params", {}).get("open_price"))
    return {"open_title": escape(_("Open box %(box)s") % {"box": box}),
            "open_button": escape(_("Open box %(box)s and pay %(price)s") % {"box": box, "price": price})}


def live_parts(kind: str, view: dict[str, Any]) -> dict[str, str]:
    """The page's live parts rendered from the engine's read, as the page shows them and the stream sends them."""
    context = public_context(kind, view)
    parts: dict[str, str] = {name: render_to_string(template, context) for name, template in LIVE_TEMPLATES.items()}
    if context["open"]:
        parts.update(open_texts(view))
    return parts


def blind_box_campaign(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    from .campaign_live import live_data

    context = public_context(kind, view)
    params = context["params"]
    member = viewer_member(request)
    held = coupons_of(member)
    parts = live_parts(kind, view)
    context.update({
        "tab": "shop", "member": member,
        "is_starter": member is not None and member == view.get("starter"),
        "coupons_held": held, "can_start": held is not None and held >= int(params.get("start_coupons", 0)),
        "start_params": json.dumps(params, ensure_ascii=False, sort_keys=True),
        "login_next": reverse("pages:login") + "?next=" + request.path,
        "parts": parts,  # rendered by Django (escaped): safe as they are
        "live_data": live_data(view, parts),
    })
    return render(request, "pages/campaigns/blind_box.html", context)


# --- a blind-box offer: the terms members start a set with, before any set exists ---------------------------------


def offer_cards() -> list[dict[str, Any]]:
    """The published offers as ``/campaigns`` lists them (newest first): the prize, the start, the window, a box's
    price, from each offer's terms as the engine validated them."""
    from ...office import offers
    from .campaigns import product_of

    return [{"offer": offer.pk, "product": product_of(offer.params.get("prize_sku")), "params": offer.params,
             "window": [offer.params.get("win_from"), offer.params.get("win_to")]}
            for offer in offers.published()[:50]]


@require_GET
def offer_page(request: HttpRequest, offer: str) -> HttpResponse:
    """A published offer: every rule of a set on its terms before paying (the engine's view of such a set, without
    its commitment: a set's secret is made when it starts), the coupons the member holds, and Start, which posts
    ``start_blind_box`` with exactly the offer's params (the same form as a set's page)."""
    from ...office import offers
    from .campaigns import not_found, rules_context

    found = offers.offer_of(offer)
    if found is None or found.status != "published":
        return not_found(request)
    view, _refused = offers.terms_view(found.params)
    if view is None:  # the engine would refuse a set on these terms now (its product gone): nothing to start
        return problem(request, 409, _("This offer cannot be started now"),
                       _("The shop's terms for it no longer hold (its prize product is not on sale). Look at the "
                         "other campaigns."))
    context = rules_context(offers.KIND, view)
    member = viewer_member(request)
    held = coupons_of(member)
    context.update({
        "tab": "shop", "offer": found, "member": member, "shop_tz": shop_timezone(),
        "prize_value": yuan(view.get("prize", {}).get("value")), "coupons_held": held,
        "can_start": held is not None and held >= int(found.params.get("start_coupons", 0)),
        "start_params": json.dumps(found.params, ensure_ascii=False, sort_keys=True),
        "login_next": reverse("pages:login") + "?next=" + request.path,
    })
    return render(request, "pages/campaigns/blind_box_offer.html", context)
