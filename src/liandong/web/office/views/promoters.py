"""Promoter applications (``/office/promoters``), when the distribution plan's eligibility is ``approved``: the
applications waiting for a decision (oldest member first), the rejected ones and the approved promoters; approve, or
reject with the reason the member reads on 分销. Each is the plan's operator event (``approve_promoter``,
``reject_promoter``) through ``audit.office_act``; an approved promoter's approval is taken back with a reason
(``revoke_promoter``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ....service.store.models import MemberState
from ...api import reads as api_reads
from ...pages.people import display_names
from .. import reads
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from .withdrawals import announce

PERMISSION = "manage_promoters"
PAGE_SIZE = 50
MEMBER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
REASON_MAX = 200
#: The lists the page shows: applications by their status, and the promoters approved.
LISTS = ("pending", "rejected", "approved")


def _list_rows(which: str) -> Any:
    if which == "approved":
        return MemberState.objects.filter(reads__distribution__promoter=True)
    return reads.promoter_applications(which)


def _when(value: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value).astimezone(tz) if value else None


@require_GET
@office_view(PERMISSION)
def applications(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    which = request.GET.get("list", "pending")
    after_raw = request.GET.get("after", "")
    context: dict[str, Any] = {"lists": LISTS, "which": which, "can_decide": office.may_act(PERMISSION),
                               "here": request.get_full_path()}
    if not reads.distribution_runs():
        return render(request, "office/promoters.html", {**context, "not_running": True})
    context["eligibility"] = api_reads.plan_versions("distribution")[-1]["config"]["eligibility"]
    if which not in LISTS or (after_raw and not after_raw.isdigit()):
        field, value = ("list", which) if which not in LISTS else ("after", after_raw)
        context["bad"] = {"field": field, "value": value[:20], "why": _("not a list of this page")}
        return render(request, "office/promoters.html", context, status=400)
    rows = _list_rows(which)
    window = rows.filter(join_index__gt=int(after_raw)) if after_raw else rows
    got = list(window.order_by("join_index")[: PAGE_SIZE + 1])
    page = got[:PAGE_SIZE]
    names = display_names(m.member for m in page)
    tz = reads.shop_tz()
    people = []
    for state in page:
        read = state.reads.get("distribution", {})
        application = read.get("application") or {}
        people.append({"member": state.member, "name": names.get(state.member, ""), "rank": state.rank,
                       "joined_at": state.joined_at.astimezone(tz), "bound_buyers": read.get("bound_buyers", 0),
                       "status": application.get("status"), "applied_at": _when(application.get("applied_at"), tz),
                       "decided_at": _when(application.get("decided_at"), tz), "reason": application.get("reason")})
    context.update(people=people, total=rows.count(), pending=reads.promoter_applications("pending").count(),
                   next_after=page[-1].join_index if len(got) > PAGE_SIZE else None)
    return render(request, "office/promoters.html", context)


def promoter_snapshot(member: str) -> dict[str, Any]:
    """The member's promoter standing as the audit row keeps it: whether a promoter, its latest application."""
    read = reads.member_read(member, "distribution")
    return {"member": member, "promoter": read.get("promoter"), "application": read.get("application"),
            "revoked": read.get("revoked")}


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("office:promoters")))


def _known(request: HttpRequest, member: str) -> str | None:
    if MEMBER_ID.fullmatch(member) and MemberState.objects.filter(member=member).exists():
        return display_names([member])[member]
    messages.error(request, _("member “%(value)s”: there is no such member") % {"value": member[:64]})
    return None


@require_POST
@office_view(PERMISSION)
def approve(request: HttpRequest, member: str) -> HttpResponse:
    name = _known(request, member)
    if name is not None:
        result = office_act(request, "approve_promoter", {"member": member}, permission=PERMISSION, target=member,
                            snapshot=lambda: promoter_snapshot(member), key=request.POST.get("key"))
        announce(request, result, _("%(name)s is a promoter now: its links bind buyers.") % {"name": name})
    return _back(request)


def _decide_with_reason(request: HttpRequest, member: str, verb: str, done: str) -> HttpResponse:
    """Log ``verb`` (``reject_promoter``, ``revoke_promoter``) for ``member`` with the reason the member reads
    (required, 1–200 characters); ``done``: the message once applied, with ``%(name)s``."""
    reason = request.POST.get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        messages.error(request, _("reason: write why, as the member will read it (1 to 200 characters)."))
        return _back(request)
    name = _known(request, member)
    if name is not None:
        result = office_act(request, verb, {"member": member, "reason": reason}, permission=PERMISSION,
                            target=member, snapshot=lambda: promoter_snapshot(member), key=request.POST.get("key"))
        announce(request, result, done % {"name": name})
    return _back(request)


@require_POST
@office_view(PERMISSION)
def reject(request: HttpRequest, member: str) -> HttpResponse:
    return _decide_with_reason(request, member, "reject_promoter", _(
        "Rejected %(name)s's application; the member reads your reason and may apply again."))


@require_POST
@office_view(PERMISSION)
def revoke(request: HttpRequest, member: str) -> HttpResponse:
    """Take a promoter's approval back (``revoke_promoter``), with the reason the member reads: it earns nothing on
    later orders and its links bind nobody; its bound buyers stay bound and what it earned stays."""
    return _decide_with_reason(request, member, "revoke_promoter", _(
        "%(name)s is no longer a promoter: it earns nothing on later orders and its links bind nobody."))
