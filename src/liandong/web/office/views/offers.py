"""Blind-box offers in the back office (``/office/campaigns/new/blind_box`` posts a draft;
``/office/campaigns/offers/<id>`` is one offer): the terms members start box sets with (``office/offers.py``).

A draft is saved, changed until published, published (members see it on ``/campaigns`` with a Start button that
logs ``start_blind_box`` with exactly its params) and retired (hidden from members; the sets started from it run
on). A published offer never changes: an edit is refused with the way to change terms (retire it, publish
another). Every step is an audit row through ``audit.office_record`` with the offer before and after: an offer moves
no money and the engine has no event for it (docs/office.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ...accounts.models import AuditLog
from ...pages.people import display_names
from ...pages.views.draws import KIND_NAMES
from .. import campaign_reads as cr
from .. import offers, reads
from ..access import office_of, office_view
from ..audit import office_record
from ..models import BlindBoxOffer

PERMISSION = "run_campaigns"
KIND = offers.KIND

def status_of(status: str) -> dict[str, Any]:
    """An offer's status as the office says it, and its tag's colour."""
    labels = {"draft": (_("Draft offer"), "warn"), "published": (_("Published: members may start sets"), "good"),
              "retired": (_("Retired"), "")}
    label, tag = labels.get(status, (status, ""))
    return {"code": status, "label": label, "tag": tag}


def _lang() -> str:
    from .campaigns import _lang as lang

    return lang()


def read_terms(data: Any) -> cr.ParsedForm:
    """The posted terms, then the engine's verdict on them (the first bad field, its value and why)."""
    parsed = cr.read_form(KIND, data, reads.shop_tz())
    if parsed.error is None:
        parsed.error = cr.refusal_of(KIND, parsed.params, _lang())
    return parsed


def _form_of(offer: BlindBoxOffer) -> list[cr.ParamField]:
    tz = reads.shop_tz()
    fields = cr.param_fields(KIND)
    for param in fields:
        param.value = cr.form_value(param, offer.params.get(param.name), tz)
    return fields


def save_draft(request: HttpRequest, parsed: cr.ParsedForm) -> HttpResponse:
    """Save a new draft offer (the terms already checked): its audit row, then its page."""
    key = request.POST.get("key", "")[:64]
    earlier = (AuditLog.objects.filter(action="create_blind_box_offer", detail__key=key).first() if key else None)
    if earlier is not None:  # the same form submitted twice: one draft
        return HttpResponseRedirect(reverse("office:offer", args=[earlier.target.removeprefix("offer:")]))
    terms = offers.engine_params(parsed.params)
    assert isinstance(terms, dict), terms  # read_terms checked them with the same model
    offer = BlindBoxOffer.objects.create(params=terms, created_by=request.user.get_username())
    office_record(request, "create_blind_box_offer", f"offer:{offer.pk}", {"params": terms, "key": key},
                  permission=PERMISSION, after=offers.snapshot(offer))
    messages.success(request, _("Draft offer %(offer)s saved: check what members will see and the audit's checks, "
                                "then publish it.") % {"offer": offer.pk})
    return HttpResponseRedirect(reverse("office:offer", args=[offer.pk]))


def _sets(offer: BlindBoxOffer) -> list[dict[str, Any]]:
    found = offers.sets_of(offer)
    names = display_names(view.get("starter") or "" for _c, _s, view in found)
    return [{"id": campaign, "status": status, "starter": names.get(view.get("starter") or "", ""),
             "opened": view.get("opened"), "outcome": view.get("outcome"), "starter_income": view.get("starter_income")}
            for campaign, status, view in found]


def _page(request: HttpRequest, offer: BlindBoxOffer, fields: list[cr.ParamField] | None = None,
          error: tuple[str, str, str] | None = None, status: int = 200) -> HttpResponse:
    from .campaigns import _checked, _form_context

    office = office_of(request)
    context: dict[str, Any] = {
        "offer": offer, "status": status_of(offer.status), "kind": KIND, "kind_name": KIND_NAMES.get(KIND, KIND),
        "can_run": office.may_act(PERMISSION), "draft": offer.status == "draft",
        "readonly": not office.may_act(PERMISSION) or offer.status != "draft",
        "terms": [(f, f.value) for f in _form_of(offer)], "sets": _sets(offer), "tz": reads.shop_tz(),
    }
    context.update(_form_context(KIND, fields if fields is not None else _form_of(offer), error))
    context.update(_checked(KIND, offer.params))
    return render(request, "office/blind_box_offer.html", context, status=status)


def _missing(request: HttpRequest, offer: str) -> HttpResponse:
    return render(request, "office/blind_box_offer.html", {"missing": offer[:20], "tz": reads.shop_tz()}, status=404)


@require_GET
@office_view(PERMISSION)
def offer_page(request: HttpRequest, offer: str) -> HttpResponse:
    found = offers.offer_of(offer)
    return _missing(request, offer) if found is None else _page(request, found)


def _known(request: HttpRequest, offer: str) -> BlindBoxOffer | None:
    found = offers.offer_of(offer)
    if found is None:
        messages.error(request, _("offer “%(value)s”: there is no such blind-box offer") % {"value": offer[:20]})
    return found


def _back(offer: BlindBoxOffer | None) -> HttpResponse:
    return HttpResponseRedirect(reverse("office:offer", args=[offer.pk]) if offer else reverse("office:campaigns"))


@require_POST
@office_view(PERMISSION)
def edit(request: HttpRequest, offer: str) -> HttpResponse:
    """A draft offer's new terms. A published or retired offer's are refused: members started sets on them."""
    found = _known(request, offer)
    if found is None or found.status != "draft":
        if found is not None:
            messages.error(request, _("Offer %(offer)s is published: its terms never change, since members start "
                                      "sets on them. To offer other terms, retire it and publish a new offer.")
                           % {"offer": found.pk})
        return _back(found)
    parsed = read_terms(request.POST)
    if parsed.error is not None:
        return _page(request, found, parsed.fields, parsed.error, status=400)
    terms = offers.engine_params(parsed.params)
    assert isinstance(terms, dict), terms
    before = offers.snapshot(found)
    found.params = terms
    found.save(update_fields=["params"])
    office_record(request, "edit_blind_box_offer", f"offer:{found.pk}", {"params": terms}, permission=PERMISSION,
                  before=before, after=offers.snapshot(found))
    messages.success(request, _("Draft offer %(offer)s changed.") % {"offer": found.pk})
    return _back(found)


@require_POST
@office_view(PERMISSION)
def publish(request: HttpRequest, offer: str) -> HttpResponse:
    """Members see the offer and may start sets on it. Refused when the engine would refuse a set on these terms
    (its product gone, say): the reason is the message."""
    found = _known(request, offer)
    if found is None or found.status != "draft":
        if found is not None:
            messages.info(request, _("Offer %(offer)s is already published or retired.") % {"offer": found.pk})
        return _back(found)
    view, refused = offers.terms_view(found.params)
    if view is None:
        messages.error(request, _("Offer %(offer)s is not published: the engine would refuse a set on these terms: "
                                  "%(why)s") % {"offer": found.pk, "why": refused})
        return _back(found)
    before = offers.snapshot(found)
    found.status, found.published_at = "published", timezone.now()
    found.save(update_fields=["status", "published_at"])
    office_record(request, "publish_blind_box_offer", f"offer:{found.pk}", {"params": found.params},
                  permission=PERMISSION, before=before, after=offers.snapshot(found))
    messages.success(request, _("Offer %(offer)s is published: members see it on the campaigns page and may start "
                                "sets on its terms, which cannot change any more.") % {"offer": found.pk})
    return _back(found)


@require_POST
@office_view(PERMISSION)
def retire(request: HttpRequest, offer: str) -> HttpResponse:
    """Members no longer see the offer; the sets started from it run on under their frozen terms."""
    found = _known(request, offer)
    if found is None or found.status != "published":
        if found is not None:
            messages.info(request, _("Offer %(offer)s is not published: nothing to retire.") % {"offer": found.pk})
        return _back(found)
    before = offers.snapshot(found)
    found.status, found.retired_at = "retired", timezone.now()
    found.save(update_fields=["status", "retired_at"])
    office_record(request, "retire_blind_box_offer", f"offer:{found.pk}", {}, permission=PERMISSION,
                  before=before, after=offers.snapshot(found))
    messages.success(request, _("Offer %(offer)s is retired: members no longer see it; the sets started from it "
                                "run on under their own terms.") % {"offer": found.pk})
    return _back(found)


def listed() -> list[dict[str, Any]]:
    """Every offer for the campaign list, newest first (the latest 100), with the sets started from each."""
    shown = []
    latest = list(BlindBoxOffer.objects.order_by("-id")[:100])
    sets = offers.sets_by_offer(latest)
    for offer in latest:
        started = sets[offer.pk]
        shown.append({"offer": offer, "status": status_of(offer.status), "prize": offer.params.get("prize_sku"),
                      "start_fee": offer.params.get("start_fee"), "open_price": offer.params.get("open_price"),
                      "window": (offer.params.get("win_from"), offer.params.get("win_to")),
                      "sets": [campaign for campaign, _status in started],
                      "open_sets": sum(1 for _campaign, status in started if status == "open")})
    return shown
