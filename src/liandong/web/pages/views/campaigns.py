"""The campaign pages: the shop's published campaigns (``/campaigns``), a campaign's page (``/campaigns/<id>``) and
a group's (``/campaigns/<id>/groups/<group>``, with its share poster ``…/poster.png``).

Every campaign page shows, before anyone pays, every rule that decides money, read from the campaign's frozen
published parameters (``CampaignState.view`` as ``GET /api/campaigns/<id>`` shows it): the price, the group's size
and winners, what losers get back and when, the shopping fund and how it unlocks, the red envelope and how it
splits, age limits, the expiry, and the draw's commitment, with a link to the public draw page (``draws.py``).

A campaign's page is chosen by its kind in ``KIND_VIEWS``; a kind without a page of its own yet shows its published
rules with the generic rules block (``pages/campaigns/rules/_generic.html``). Each kind's rules are the template
``pages/campaigns/rules/<kind>.html`` when there is one.

Members act through the REST API (the forms post JSON, ``pages.js``): ``start_group_buy`` / ``start_red_envelope``
open a group, ``join_group_buy`` / ``join_red_envelope`` take a seat (a private group's with its code), both answer
an order awaiting payment, whose page takes the payment; ``leave_group`` leaves an open group. The group page
listens to ``/api/campaigns/<id>/groups/<group>/stream`` (``api/group_stream.py``, ``static/liandong/group-live.js``)
and shows the result as it happens. Members are shown by display name and initial, real entries only: the page never
shows more people than the group has entries.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....service.store.models import CampaignState, ProductState
from ...accounts.models import MemberLogin
from ...api.events import public_view
from ...api.group_stream import GROUP_KINDS, group_of, group_state
from ...posters import InvitePoster, PosterProduct, poster_png
from ..context import shop_name
from ..people import display_name, display_names
from ..templatetags.liandong import yuan
from .common import member_page
from .draws import CAMPAIGN_ID, KIND_NAMES, STATUS_NAMES, published_view
from .shop import problem, shop_timezone, viewer_member

#: Campaigns listed on ``/campaigns`` (newest first).
LISTED = 200

#: What a group's status means, in the page's words, and its badge.
GROUP_STATUS: dict[str, tuple[Any, str]] = {
    "open": (gettext_lazy("Filling up"), "warn"),
    "drawn": (gettext_lazy("Full and drawn"), "good"),
    "expired": (gettext_lazy("Expired, paid back"), "bad"),
    "dissolved": (gettext_lazy("Dissolved, paid back"), "bad"),
}

#: The verbs a member's forms post to, by kind: opening a group, taking a seat.
START_VERB = {"group_buy": "start_group_buy", "red_envelope": "start_red_envelope"}
JOIN_VERB = {"group_buy": "join_group_buy", "red_envelope": "join_red_envelope"}

#: What group-live.js says, in the page's language (``%(name)s`` filled there).
LIVE_TEXTS: dict[str, Any] = {
    "waiting": gettext_lazy("waiting for the group to fill"),
    "won_group_buy": gettext_lazy("won: the product, and a locked shopping fund of %(fund)s"),
    "lost_group_buy": gettext_lazy("not drawn: %(returned)s paid back in full, and a bonus of %(bonus)s"),
    "won_red_envelope": gettext_lazy("won: the product, and a red-envelope share of %(share)s"),
    "lost_red_envelope": gettext_lazy("not drawn: %(returned)s paid back in full, and a red-envelope share of "
                                      "%(share)s"),
    "returned": gettext_lazy("paid back in full: %(returned)s"),
    "refunded": gettext_lazy("won, then the order was refunded"),
    "missing": gettext_lazy("%(count)s more to fill the group"),
    "drawn": gettext_lazy("The group is full and drawn. Winners, in draw order: %(names)s."),
    "expired": gettext_lazy("The group did not fill in time: every payment was returned in full."),
    "dissolved": gettext_lazy("The group was dissolved: every payment was returned in full."),
}


def product_of(sku: str | None) -> dict[str, Any]:
    found = ProductState.objects.filter(sku=sku).first() if sku else None
    return {"sku": sku, "name": (found.name or found.sku) if found else (sku or "")}


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def group_label(group: dict[str, Any]) -> tuple[Any, str]:
    return GROUP_STATUS.get(group["status"], (group["status"], ""))


def listed_campaign(kind: str, view: dict[str, Any]) -> dict[str, Any]:
    """A campaign as the list shows it: its kind, price, status, expiry and how many really take part."""
    params = view.get("params", {})
    item: dict[str, Any] = {"id": view["id"], "kind": kind, "kind_name": KIND_NAMES.get(kind, kind),
                            "status": view["status"], "status_label": STATUS_NAMES.get(view["status"], ("", ""))[0],
                            "price": view.get("price") or params.get("price") or params.get("open_price"),
                            "product": product_of(params.get("sku") or params.get("prize_sku"))}
    if kind in GROUP_KINDS:
        groups = view.get("group_views", [])
        item["expire_hours"] = params.get("expire_hours")
        item["open_groups"] = sum(1 for g in groups if g["status"] == "open")
        item["seated"] = sum(len(g.get("members", ())) for g in groups if g["status"] == "open")
        item["drawn_groups"] = sum(1 for g in groups if g["status"] == "drawn")
    elif kind == "presale":
        item["deadline"] = _moment(params.get("deadline"))
        item["participants"] = view.get("participants")
    elif kind == "blind_box":
        item["opened"] = view.get("opened")
        item["window"] = view.get("window")
    return item


@require_GET
def campaigns(request: HttpRequest) -> HttpResponse:
    rows = CampaignState.objects.exclude(status="draft").order_by("-id")[:LISTED]
    listed = [listed_campaign(row.kind, public_view(row.kind, json.loads(json.dumps(row.view)))) for row in rows]
    from .blind_box import offer_cards

    return render(request, "pages/campaigns.html", {"tab": "shop", "campaigns": listed, "offers": offer_cards(),
                                                    "shop_tz": shop_timezone()})


def rules_context(kind: str, view: dict[str, Any]) -> dict[str, Any]:
    """What the rules block reads: the published parameters, the frozen price (and envelope), the product."""
    params = dict(view.get("params", {}))
    return {"kind": kind, "kind_name": KIND_NAMES.get(kind, kind), "campaign": view, "params": params,
            "product": product_of(params.get("sku") or params.get("prize_sku")),
            "rules_template": select_template([f"pages/campaigns/rules/{kind}.html",
                                               "pages/campaigns/rules/_generic.html"]),
            "generic_params": sorted(params.items()),
            "published_at": _moment(view.get("published_at")), "closed_at": _moment(view.get("closed_at"))}


def not_found(request: HttpRequest) -> HttpResponse:
    return problem(request, 404, _("Not found"), _("There is no published campaign or group with this name."))


def shown_group(group: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    label, badge = group_label(group)
    members = list(group.get("members", ()))
    return {**group, "status_label": label, "status_badge": badge, "joined": len(members),
            "starter_name": names.get(group.get("starter", ""), ""), "deadline_at": _moment(group.get("deadline")),
            "private": group.get("visibility") == "private"}


def group_campaign(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    """A group-buy or red-envelope campaign: its rules, its groups (open ones first), and opening a group."""
    groups = view.get("group_views", [])
    names = display_names(g.get("starter", "") for g in groups)
    shown = [shown_group(g, names) for g in groups]
    shown.sort(key=lambda g: (g["status"] != "open", g["deadline"]))
    member = viewer_member(request)
    context = {"tab": "shop", **rules_context(kind, view), "groups": shown, "member": member,
               "start_verb": START_VERB[kind], "shop_tz": shop_timezone(),
               "login_next": reverse("pages:login") + "?next=" + request.path,
               "open": view["status"] == "open"}
    return render(request, "pages/campaigns/group_campaign.html", context)


def rules_only(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    """A kind without a page of its own yet: the published rules (generic block), the commitment, the draw link."""
    return render(request, "pages/campaigns/campaign.html",
                  {"tab": "shop", **rules_context(kind, view), "shop_tz": shop_timezone()})


CampaignView = Callable[[HttpRequest, str, dict[str, Any]], HttpResponse]


def presale_page(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    from .presale import presale_campaign  # its module reads this one's rules block

    return presale_campaign(request, kind, view)


def blind_box_page(request: HttpRequest, kind: str, view: dict[str, Any]) -> HttpResponse:
    from .blind_box import blind_box_campaign  # its module reads this one's rules block

    return blind_box_campaign(request, kind, view)


#: A campaign's page by its kind. Kinds not here show ``rules_only``.
KIND_VIEWS: dict[str, CampaignView] = {
    "group_buy": group_campaign,
    "red_envelope": group_campaign,
    "presale": presale_page,  # participants, tier, next free draw, rebates (views/presale.py)
    "blind_box": blind_box_page,  # start a set, open the next box, the window (views/blind_box.py)
}


@require_GET
def campaign(request: HttpRequest, campaign: str) -> HttpResponse:
    found = published_view(campaign)
    if found is None:
        return not_found(request)
    kind, view = found
    return KIND_VIEWS.get(kind, rules_only)(request, kind, view)


# --- a group --------------------------------------------------------------------------------------------------------


def private_code(campaign: str, group: str, member: str | None) -> str | None:
    """A private group's invite code, for a member already in it (they share it); nobody else sees it."""
    if member is None:
        return None
    raw = CampaignState.objects.filter(campaign=campaign).values_list("view", flat=True).first() or {}
    found = group_of(raw, group)
    if found is None or member not in found.get("members", ()):
        return None
    code: str | None = found.get("invite_code")
    return code


def share_link(request: HttpRequest, campaign: str, group: str, code: str | None) -> str:
    path = reverse("pages:group", args=[campaign, group])
    return request.build_absolute_uri(path + (f"?code={code}" if code else ""))


@require_GET
def group(request: HttpRequest, campaign: str, group: str) -> HttpResponse:
    """A group: who joined, how many are missing, the countdown, join / leave / share, and the result live."""
    found = published_view(campaign) if CAMPAIGN_ID.fullmatch(group) else None
    state = group_state(campaign, group) if found is not None else None
    if found is None or state is None:
        return not_found(request)
    kind, view = found
    raw_group = group_of(view, group)
    assert raw_group is not None
    member = viewer_member(request)
    seated = member is not None and member in raw_group.get("members", ())
    code = private_code(campaign, group, member) if state["visibility"] == "private" else None
    given_code = request.GET.get("code", "")[:32] if not seated else ""
    label, badge = group_label(state)
    texts = {key: str(text) for key, text in LIVE_TEXTS.items()}
    missing_text, outcome_note = group_notes(state)
    stream_url = reverse("api:group_stream", args=[campaign, group])
    context = {
        "tab": "shop", **rules_context(kind, view), "group": state, "status_label": label, "status_badge": badge,
        "deadline_at": _moment(state["deadline"]), "closed_at_moment": _moment(state["closed_at"]),
        "member": member, "seated": seated, "invite_code": code, "given_code": given_code,
        "join_verb": JOIN_VERB[kind], "start_verb": START_VERB[kind],
        "share_link": share_link(request, campaign, group, code),
        "login_next": reverse("pages:login") + "?next=" + request.get_full_path(),
        "members": [{**seat, "got_text": outcome_text(kind, seat)} for seat in state["members"]],
        "missing_text": missing_text, "outcome_note": outcome_note,
        "live_data": {"stream": stream_url, "texts": texts, "state": state,
                      "statuses": {key: [str(text), badge] for key, (text, badge) in GROUP_STATUS.items()}},
        "starter_name": display_name(raw_group.get("starter")), "shop_tz": shop_timezone(),
        "open": view["status"] == "open",
    }
    return render(request, "pages/campaigns/group.html", context)


def outcome_text(kind: str, seat: dict[str, Any]) -> str:
    """What one seat came to, in words (``LIVE_TEXTS``; ``group-live.js`` words the same figures the same way)."""
    outcome = seat["outcome"]
    key = f"{outcome}_{kind}" if outcome in ("won", "lost") else outcome
    text = LIVE_TEXTS.get(key)
    if text is None:
        return ""
    return str(text) % {name: yuan(seat.get(name)) for name in ("fund", "bonus", "returned", "share")}


def group_notes(state: dict[str, Any]) -> tuple[str, str]:
    """The line of how many are missing, and the note of how the group ended (empty while it is open)."""
    missing = str(LIVE_TEXTS["missing"]) % {"count": state["seats_left"]}
    status = state["status"]
    if status == "drawn":
        return missing, str(LIVE_TEXTS["drawn"]) % {"names": ", ".join(state["winners"])}
    return missing, str(LIVE_TEXTS[status]) if status in ("expired", "dissolved") else ""


def entry_link(action: dict[str, Any] | None) -> str | None:
    """The group page of a campaign entry's order (its action names the group, and the campaign when it started
    one), or None for any other order."""
    group = (action or {}).get("group")
    if not isinstance(group, str) or not CAMPAIGN_ID.fullmatch(group):
        return None
    campaign = (action or {}).get("campaign")
    if not isinstance(campaign, str):
        rows = CampaignState.objects.filter(kind__in=GROUP_KINDS).exclude(status="draft").values_list("campaign",
                                                                                                       "view")
        campaign = next((c for c, view in rows.iterator() if group_of(view, group) is not None), None)
    if campaign is None or not CAMPAIGN_ID.fullmatch(campaign) or group_state(campaign, group) is None:
        return None
    return reverse("pages:group", args=[campaign, group])


#: Paid verbs whose order is an entry of a whole campaign (no group): its order's page links to the campaign's.
CAMPAIGN_ENTRY_VERBS = ("join_presale", "start_blind_box", "open_blind_box")


def campaign_entry_link(verb: str | None, action: dict[str, Any] | None) -> str | None:
    """The campaign page of a pre-sale entry's or a blind box's order (once the campaign is published), or None."""
    campaign = (action or {}).get("campaign")
    if verb not in CAMPAIGN_ENTRY_VERBS or not isinstance(campaign, str) or published_view(campaign) is None:
        return None
    return reverse("pages:campaign", args=[campaign])


def _group_poster(request: HttpRequest, login: MemberLogin, campaign: str, group: str) -> InvitePoster | None:
    found = published_view(campaign) if CAMPAIGN_ID.fullmatch(group) else None
    state = group_state(campaign, group) if found is not None else None
    if found is None or state is None:
        return None
    code = private_code(campaign, group, login.member) if state["visibility"] == "private" else None
    product = product_of(found[1].get("params", {}).get("sku"))
    return InvitePoster(shop_name=shop_name()[:100], member_name=display_name(login.member)[:100],
                        member_username=login.user.get_username()[:100],
                        invite_url=share_link(request, campaign, group, code), invite_code=login.invite_code,
                        headline=_("invites you to join this group"),
                        language=get_language() or settings.LANGUAGE_CODE,
                        product=PosterProduct(name=str(product["name"])[:100], price=yuan(state["price"])))


@require_GET
@member_page
def group_poster(request: HttpRequest, campaign: str, group: str) -> HttpResponse:
    """The group's share poster: the group's link as a QR code, the product and its price, the sharer's name."""
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    try:
        poster = _group_poster(request, login, campaign, group)
    except ValueError:  # a link too long for a QR code a phone can scan (long operator-chosen ids)
        return problem(request, 400, _("No poster for this group"),
                       _("This group's link is too long to print as a QR code; share the link instead."))
    if poster is None:
        return not_found(request)
    response = HttpResponse(poster_png(poster, settings.HOME / "posters"), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="group-{group}.png"'
    return response
