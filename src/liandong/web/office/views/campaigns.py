"""Campaigns (``/office/campaigns``): every campaign, drafts included, with its kind, status, escrow held, what it
paid out, participants and expiry; a new draft of each kind an operator may create (``create_group_buy``,
``create_red_envelope``, ``create_presale`` with ``publish: false``), edited until published (``update_campaign``)
and published (``publish_campaign``); a campaign's page with its terms, groups / entries / boxes opened by display
name, draws, refunds, and the close its module declares for operators (``close_group_buy``,
``close_red_envelope``). Every action is ``audit.office_act`` (audit row with the campaign's view before and after).

A draft's page shows what members will see once it is published (the members' rules block, from the campaign as the
engine would show it) and the audit's lottery checks for its parameters (``campaign_reads.audit_checks``). A blind
box has no operator create in the engine (a member's ``start_blind_box`` creates each set): its form checks terms
and saves them as a draft blind-box offer (``views/offers.py``), the terms members start sets with. The engine has
no verb that dissolves one group, deletes a draft or closes a pre-sale early (docs/office.md).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ....service.store.models import ProductState
from ...api.events import public_view
from ...pages.people import display_names
from ...pages.views.campaigns import rules_context
from ...pages.views.draws import KIND_NAMES
from .. import campaign_reads as cr
from .. import reads
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from ..offers import offer_of_set
from ..param_labels import check_texts, label_of
from .offers import listed as listed_offers
from .offers import read_terms, save_draft
from .withdrawals import announce

PERMISSION = "run_campaigns"
CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)

#: A campaign's status as the office says it, and its tag's colour.
STATUS_LABELS: dict[str, tuple[Any, str]] = {
    "draft": (gettext_lazy("Draft"), "warn"),
    "open": (gettext_lazy("Published, open"), "good"),
    "closed": (gettext_lazy("Closed"), ""),
}
PAID_OUT_LABELS = {
    "consolation": gettext_lazy("Bonuses to members not drawn"),
    "funds": gettext_lazy("Shopping funds"),
    "envelopes": gettext_lazy("Red envelopes"),
    "rebates": gettext_lazy("Tier rebates"),
    "returned_free": gettext_lazy("Drawn free (price back)"),
    "starter_income": gettext_lazy("Starter's shares"),
    "promotion_paid": gettext_lazy("Start promotions"),
}


def _lang() -> str:
    return "zh-hans" if (get_language() or "zh-hans").startswith("zh") else "en"


def _status(status: str) -> dict[str, Any]:
    label, tag = STATUS_LABELS.get(status, (status, ""))
    return {"code": status, "label": label, "tag": tag}


# --- the list ---------------------------------------------------------------------------------------------------------


@require_GET
@office_view(PERMISSION)
def campaign_list(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    kind, status, after = (request.GET.get(k, "") for k in ("kind", "status", "after"))
    context: dict[str, Any] = {"kinds": [(k, KIND_NAMES[k]) for k in cr.KINDS], "statuses": cr.STATUSES,
                               "status_labels": {s: STATUS_LABELS[s][0] for s in cr.STATUSES},
                               "filters": {"kind": kind, "status": status}, "can_run": office.may_act(PERMISSION),
                               "creatable": [(k, KIND_NAMES[k]) for k in cr.KINDS if k in cr.CREATE_VERBS]}
    bad = (("kind", kind) if kind and kind not in cr.KINDS else ("status", status) if status and status not in
           cr.STATUSES else ("after", after) if after and not after.isdigit() else None)
    if bad is not None:
        context["bad"] = {"field": bad[0], "value": bad[1][:20], "why": _("not one this page filters by")}
        return render(request, "office/campaigns.html", context, status=400)
    rows = cr.campaigns(kind or None, status or None)
    window = rows.filter(id__lt=int(after)) if after else rows
    got = list(window.order_by("-id")[: cr.PAGE_SIZE + 1])
    tz = reads.shop_tz()
    shown = []
    for row in got[: cr.PAGE_SIZE]:
        item = cr.listed(row, tz)
        item.update(kind_name=KIND_NAMES.get(row.kind, row.kind), status=_status(row.status),
                    paid_out=[(PAID_OUT_LABELS.get(what, what), amount) for what, amount in item["paid_out"]])
        shown.append(item)
    query = "&".join(f"{k}={v}" for k, v in (("kind", kind), ("status", status)) if v)
    context.update(campaigns=shown, total=rows.count(), query=query, offers=listed_offers(),
                   next_after=got[cr.PAGE_SIZE - 1].pk if len(got) > cr.PAGE_SIZE else None)
    return render(request, "office/campaigns.html", context)


# --- the draft's form, its preview and its checks ---------------------------------------------------------------------


def _checked(kind: str, params: dict[str, Any], commitment: str = "") -> dict[str, Any]:
    """The preview of what members will see, and the audit's checks, for these parameters."""
    view, refused = cr.preview_view(kind, params)
    context: dict[str, Any] = {"preview_refused": refused}
    if view is not None:
        preview = rules_context(kind, view)
        preview["campaign"] = {**preview["campaign"], "commitment": commitment}
        context["preview"] = preview
    if view is None:  # the engine would not create it: nothing to probe
        context["audit"] = {"problem": _("The engine refuses these terms, so the probe cannot run them: %(why)s")
                            % {"why": refused}, "checks": []}
        return context
    found = cr.audit_checks(kind, params)
    context["audit"] = {"problem": found.problem, "draws": found.draws, "seconds": found.seconds,
                        "probe": found.probe.to_json() if found.probe else None,
                        "checks": [{"id": c.id, **check_texts(c.id, c.title, c.threshold, c.figure), "status": c.status}
                                   for c in found.checks]}
    return context


def _form_context(kind: str, fields: list[cr.ParamField], error: tuple[str, str, str] | None) -> dict[str, Any]:
    if error is not None:
        for param in fields:
            if param.name == error[0]:
                param.error = error[2]
    return {"kind": kind, "kind_name": KIND_NAMES.get(kind, kind), "fields": fields,
            "error": {"field": error[0], "value": error[1], "why": error[2]} if error else None,
            "products": ProductState.objects.filter(active=True).order_by("sku")}


@require_http_methods(["GET", "HEAD", "POST"])
@office_view(PERMISSION)
def new_campaign(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: the kind's form with the rulebook's defaults (a blind box: its terms checked when ``check`` is given).
    POST: the draft, created by the kind's create event with ``publish: false``."""
    if kind not in cr.KINDS:
        raise Http404(kind)
    tz = reads.shop_tz()
    creatable = kind in cr.CREATE_VERBS
    context: dict[str, Any] = {"creatable": creatable, "campaign_id": ""}
    if request.method == "POST":
        if not creatable:  # a blind box: a draft offer of the terms members start sets with (views/offers.py)
            parsed = read_terms(request.POST)
            if parsed.error is None:
                return save_draft(request, parsed)
            context.update(_form_context(kind, parsed.fields, parsed.error))
            return render(request, "office/campaign_new.html", context, status=400)
        return _create(request, kind, tz)
    fields = cr.param_fields(kind)
    for param in fields:
        param.value = param.default
    error = None
    if request.GET.get("check") and not creatable:
        parsed = cr.read_form(kind, request.GET, tz)
        fields, error = parsed.fields, parsed.error or cr.refusal_of(kind, parsed.params, _lang())
        if error is None:
            context.update(_checked(kind, parsed.params))
    context.update(_form_context(kind, fields, error))
    return render(request, "office/campaign_new.html", context, status=400 if error else 200)


def _create(request: HttpRequest, kind: str, tz: Any) -> HttpResponse:
    campaign = request.POST.get("campaign", "").strip()
    parsed = cr.read_form(kind, request.POST, tz)
    error = parsed.error
    if error is None and not CAMPAIGN_ID.fullmatch(campaign):
        error = ("campaign", campaign[:64], _("1 to 64 letters, digits and _ . : - (no spaces), starting with a "
                                             "letter or digit"))
    if error is None and cr.campaign_row(campaign) is not None:
        error = ("campaign", campaign, _("a campaign with this id exists"))
    if error is None:
        error = cr.refusal_of(kind, parsed.params, _lang())
    if error is not None:
        context = {"creatable": True, "campaign_id": campaign, **_form_context(kind, parsed.fields, error)}
        return render(request, "office/campaign_new.html", context, status=400)
    result = office_act(request, cr.CREATE_VERBS[kind], {"campaign": campaign, "params": parsed.params,
                                                         "publish": False},
                        permission=PERMISSION, target=campaign, snapshot=lambda: cr.campaign_snapshot(campaign),
                        key=request.POST.get("key"))
    announce(request, result, _("Draft %(campaign)s saved: check what members will see and the audit's checks, "
                                "then publish it.") % {"campaign": campaign})
    if result.status in ("applied", "pending"):
        return HttpResponseRedirect(reverse("office:campaigns_page", args=[campaign]))
    return HttpResponseRedirect(reverse("office:campaigns_new", args=[kind]))


# --- one campaign -----------------------------------------------------------------------------------------------------


def _not_found(request: HttpRequest, campaign: str) -> HttpResponse:
    return render(request, "office/campaign.html", {"missing": campaign[:64]}, status=404)


def _people(kind: str, view: dict[str, Any], campaign: str) -> dict[str, Any]:
    """Groups (with members and winners by display name), a pre-sale's entries, a box set's openers."""
    tz = reads.shop_tz()
    if kind in cr.GROUP_KINDS:
        groups = view.get("group_views", [])
        names = display_names({m for g in groups for m in (g.get("members") or [])} |
                              {g.get("starter", "") for g in groups})
        shown = [{"id": g["group"], "status": g["status"], "size": g["size"], "seats_left": g.get("seats_left"),
                  "starter": names.get(g.get("starter", ""), ""),
                  "members": [{"name": names.get(m, ""), "outcome": (g.get("outcomes") or {}).get(m, "")}
                              for m in g.get("members") or []],
                  "winners": [names.get(m, "") for m in g.get("winners") or []],
                  "deadline": dt.datetime.fromisoformat(g["deadline"]).astimezone(tz) if g.get("deadline")
                  else None, "private": g.get("visibility") == "private"} for g in groups]
        return {"groups": shown}
    if kind == "presale":
        entries = cr.presale_entries(campaign)
        names = display_names({m for m, _e in entries} | set(view.get("free") or []))
        return {"entries": [{"name": names.get(m, ""), **e} for m, e in entries],
                "free_names": [names.get(m, "") for m in view.get("free") or []]}
    if kind == "blind_box":
        opens = view.get("opens") or []
        names = display_names({o["member"] for o in opens} | {view.get("starter") or ""})
        return {"opens": [{**o, "name": names.get(o["member"], "")} for o in opens],
                "starter_name": names.get(view.get("starter") or "", "")}
    return {}


def _page_context(request: HttpRequest, row: Any) -> dict[str, Any]:
    office = office_of(request)
    view: dict[str, Any] = row.view
    kind, campaign = row.kind, row.campaign
    names = display_names(m["member"] for m in cr.refunds(kind, view) if m.get("member"))
    context: dict[str, Any] = {
        "campaign": view, "campaign_id": campaign, "kind": kind, "kind_name": KIND_NAMES.get(kind, kind),
        "status": _status(row.status), "draft": row.status == "draft", "can_run": office.may_act(PERMISSION),
        "readonly": not office.may_act(PERMISSION),
        "terms": [(name, label_of(name)[0], value) for name, value in sorted((view.get("params") or {}).items())],
        "escrow": view.get("escrow"),
        "paid_out": [(PAID_OUT_LABELS.get(w, w), a) for w, a in cr.paid_out(kind, view)],
        "participants": cr.participants(kind, view), "expiry": cr.expiry(kind, view, reads.shop_tz()),
        "close_verb": cr.CLOSE_VERBS.get(kind), "draws": view.get("draws") or [],
        "refunds": [{**r, "name": names.get(r.get("member") or "", "")} for r in cr.refunds(kind, view)],
        "published_at": _moment(view.get("published_at")),
        "published_rules": None if row.status == "draft" else rules_context(
            kind, public_view(kind, copy.deepcopy(view))),
        **_people(kind, view, campaign),
        "offer": offer_of_set(view) if kind == "blind_box" else None,
    }
    return context


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text).astimezone(reads.shop_tz()) if text else None


def _draft_form(kind: str, view: dict[str, Any]) -> list[cr.ParamField]:
    tz = reads.shop_tz()
    published = view.get("params") or {}
    fields = cr.param_fields(kind)
    for param in fields:
        param.value = cr.form_value(param, published.get(param.name), tz)
    return fields


@require_GET
@office_view(PERMISSION)
def campaign_page(request: HttpRequest, campaign: str) -> HttpResponse:
    row = cr.campaign_row(campaign) if CAMPAIGN_ID.fullmatch(campaign) else None
    if row is None:
        return _not_found(request, campaign)
    context = _page_context(request, row)
    if row.status == "draft":
        context.update(_form_context(row.kind, _draft_form(row.kind, row.view), None))
        context.update(_checked(row.kind, row.view.get("params") or {}, row.view.get("commitment", "")))
    return render(request, "office/campaign.html", context)


def _act(request: HttpRequest, campaign: str, verb: str, fields: dict[str, Any], done: str) -> HttpResponse:
    result = office_act(request, verb, {"campaign": campaign, **fields}, permission=PERMISSION, target=campaign,
                        snapshot=lambda: cr.campaign_snapshot(campaign), key=request.POST.get("key"))
    announce(request, result, done)
    return HttpResponseRedirect(safe_next(request, reverse("office:campaigns_page", args=[campaign])))


def _known(request: HttpRequest, campaign: str) -> Any:
    row = cr.campaign_row(campaign) if CAMPAIGN_ID.fullmatch(campaign) else None
    if row is None:
        messages.error(request, _("campaign “%(value)s”: there is no such campaign") % {"value": campaign[:64]})
    return row


@require_POST
@office_view(PERMISSION)
def edit(request: HttpRequest, campaign: str) -> HttpResponse:
    """A draft's new terms (``update_campaign``). A published campaign's: logged all the same, and the engine's
    refusal (its rules are frozen) is the message."""
    row = _known(request, campaign)
    if row is None:
        return HttpResponseRedirect(reverse("office:campaigns"))
    parsed = cr.read_form(row.kind, request.POST, reads.shop_tz())
    error = parsed.error
    if error is None and row.status == "draft":
        error = cr.refusal_of(row.kind, {**(row.view.get("params") or {}), **parsed.params}, _lang())
    if error is not None:
        context = _page_context(request, row)
        context.update(_form_context(row.kind, parsed.fields, error))
        return render(request, "office/campaign.html", context, status=400)
    return _act(request, campaign, "update_campaign", {"params": parsed.params},
                _("Draft %(campaign)s changed.") % {"campaign": campaign})


@require_POST
@office_view(PERMISSION)
def publish(request: HttpRequest, campaign: str) -> HttpResponse:
    if _known(request, campaign) is None:
        return HttpResponseRedirect(reverse("office:campaigns"))
    return _act(request, campaign, "publish_campaign", {},
                _("%(campaign)s is published: members see its rules, which cannot change any more.")
                % {"campaign": campaign})


@require_POST
@office_view(PERMISSION)
def close(request: HttpRequest, campaign: str) -> HttpResponse:
    row = _known(request, campaign)
    if row is None:
        return HttpResponseRedirect(reverse("office:campaigns"))
    verb = cr.CLOSE_VERBS.get(row.kind)
    if verb is None:
        messages.error(request, _("The engine has no operator event that closes this kind of campaign."))
        return HttpResponseRedirect(reverse("office:campaigns_page", args=[campaign]))
    return _act(request, campaign, verb, {},
                _("%(campaign)s is closed: its open groups were dissolved and paid back, its secret published.")
                % {"campaign": campaign})
