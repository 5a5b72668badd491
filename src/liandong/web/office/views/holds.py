"""Held rewards (``/office/holds``, docs/fraud-holds.md): the rewards the fraud holds put in members' ``held`` books,
open ones by review date (overdue first: a hold is never released by time), filtered by status, rule and member;
release, reject with a reason (the member reads it), or ban the member with a reason. Each is the fraud-holds
module's operator event (``release_hold``, ``reject_hold``, ``ban_member``, permission ``decide_withdrawal``)
through ``audit.office_act``. Reads are the module's member reads the worker wrote; nothing here moves money.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ....engine.plans.fraud_holds import PERMISSION, REASON_MAX, REASONS
from ....service.store.models import MemberState
from ...api import reads as api_reads
from ...pages.people import display_names
from ...pages.views.holds import reason_text
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from .withdrawals import announce

KIND = "fraud_holds"
STATUSES = ("held", "released", "rejected", "refunded", "all")
HOLD_ID = re.compile(r"h[0-9]{1,18}", re.ASCII)
MEMBER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
#: At most this many holds on the page (open holds are few; the filters narrow the rest).
PAGE_LIMIT = 200


def _runs() -> bool:
    setup = api_reads.shop_setup()
    return setup is not None and KIND in setup.plans


def all_holds() -> list[tuple[dict[str, Any], str]]:
    """Every hold with its member, from the members' fraud-holds reads."""
    out: list[tuple[dict[str, Any], str]] = []
    for state in MemberState.objects.filter(reads__has_key=KIND).only("member", "reads"):
        for hold in state.reads[KIND].get("holds", []):
            out.append((hold, state.member))
    return out


def find_hold(hold_id: str) -> dict[str, Any] | None:
    for hold, _member in all_holds():
        if hold["hold"] == hold_id:
            return hold
    return None


def banned_members() -> dict[str, str]:
    return {s.member: (s.operator_reads.get(KIND) or {}).get("ban_reason", "")
            for s in MemberState.objects.filter(reads__has_key=KIND).only("member", "reads", "operator_reads")
            if s.reads[KIND].get("banned")}


@require_GET
@office_view(PERMISSION)
def holds(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    status = request.GET.get("status", "held")
    rule = request.GET.get("rule", "")
    member_q = request.GET.get("member", "").strip()
    overdue_only = request.GET.get("overdue") == "1"
    context: dict[str, Any] = {"statuses": STATUSES, "status": status, "rules": sorted(REASONS), "rule": rule,
                               "member_q": member_q, "overdue_only": overdue_only,
                               "can_decide": office.may_act(PERMISSION), "here": request.get_full_path()}
    if status not in STATUSES or (rule and rule not in REASONS):
        field, value = ("status", status) if status not in STATUSES else ("rule", rule)
        context["bad"] = {"field": field, "value": value[:20], "why": _("not a choice of this filter")}
        return render(request, "office/holds.html", context, status=400)
    if not _runs() and not MemberState.objects.filter(reads__has_key=KIND).exists():
        return render(request, "office/holds.html", {**context, "not_running": True})
    found = all_holds()
    names = display_names({m for _h, m in found} | {h["source"] for h, _m in found if h.get("source")}
                          | {h["evidence"]["other"] for h, _m in found if h.get("evidence", {}).get("other")})
    today = api_reads.today().isoformat()
    rows = []
    for hold, member in found:
        overdue = hold["status"] == "held" and today > hold["review_by"]
        name = names.get(member, member)
        if status != "all" and hold["status"] != status:
            continue
        if (rule and hold["rule"] != rule) or (overdue_only and not overdue):
            continue
        if member_q and member_q not in (member, name):
            continue
        rows.append({**hold, "member": member, "name": name, "overdue": overdue,
                     "buyer": names.get(hold.get("source") or "", hold.get("source") or ""),
                     "reason_text": reason_text(hold, "", names)})
    rows.sort(key=lambda r: (not r["overdue"], r["review_by"], int(r["hold"][1:])))
    open_rows = [h for h, _m in found if h["status"] == "held"]
    context.update(rows=rows[:PAGE_LIMIT], more=len(rows) > PAGE_LIMIT, total=len(rows),
                   open_count=len(open_rows), overdue_count=sum(1 for h in open_rows if today > h["review_by"]),
                   banned=[{"member": m, "name": names.get(m, m), "reason": r}
                           for m, r in sorted(banned_members().items())])
    return render(request, "office/holds.html", context)


def hold_snapshot(hold_id: str) -> dict[str, Any]:
    return find_hold(hold_id) or {"hold": hold_id}


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("office:holds")))


def _reason(request: HttpRequest) -> str | None:
    reason = request.POST.get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        messages.error(request, _("reason: write why, as the member will read it (1 to 200 characters)."))
        return None
    return reason


def _known_hold(request: HttpRequest, hold_id: str) -> dict[str, Any] | None:
    hold = find_hold(hold_id) if HOLD_ID.fullmatch(hold_id) else None
    if hold is None:
        messages.error(request, _("hold “%(value)s”: there is no such hold") % {"value": hold_id[:64]})
    return hold


@require_POST
@office_view(PERMISSION)
def release(request: HttpRequest, hold: str) -> HttpResponse:
    found = _known_hold(request, hold)
    if found is not None:
        result = office_act(request, "release_hold", {"hold": hold}, permission=PERMISSION, target=hold,
                            snapshot=lambda: hold_snapshot(hold), key=request.POST.get("key"))
        announce(request, result, _("Released %(amount)s held as %(hold)s to the member's available balance.")
                 % {"amount": found["amount"], "hold": hold})
    return _back(request)


@require_POST
@office_view(PERMISSION)
def reject(request: HttpRequest, hold: str) -> HttpResponse:
    reason = _reason(request)
    found = _known_hold(request, hold) if reason is not None else None
    if found is not None and reason is not None:
        result = office_act(request, "reject_hold", {"hold": hold, "reason": reason}, permission=PERMISSION,
                            target=hold, snapshot=lambda: hold_snapshot(hold), key=request.POST.get("key"))
        announce(request, result, _("Rejected %(hold)s: %(amount)s went back where it came from; the member reads "
                                    "your reason.") % {"amount": found["amount"], "hold": hold})
    return _back(request)


def member_snapshot(member: str) -> dict[str, Any]:
    state = MemberState.objects.filter(member=member).only("operator_reads").first()
    return dict((state.operator_reads.get(KIND) if state else None) or {"member": member})


@require_POST
@office_view(PERMISSION)
def ban(request: HttpRequest, member: str) -> HttpResponse:
    reason = _reason(request)
    if reason is None:
        return _back(request)
    if not MEMBER_ID.fullmatch(member) or not MemberState.objects.filter(member=member).exists():
        messages.error(request, _("member “%(value)s”: there is no such member") % {"value": member[:64]})
        return _back(request)
    name = display_names([member])[member]
    result = office_act(request, "ban_member", {"member": member, "reason": reason}, permission=PERMISSION,
                        target=member, snapshot=lambda: member_snapshot(member), key=request.POST.get("key"))
    announce(request, result, _("Banned %(name)s: its open holds are rejected and every later reward is held.")
             % {"name": name})
    return _back(request)
