"""The audit log (``/office/audit``): every operator action, newest first, who, when, what, on what, the event it
logged with its outcome, and the target before and after; filtered by actor, action and target (each exact), a page
at a time (keyset on the row id: ``?after=<id>`` the older page)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....service.store.models import EventOutcome
from ...accounts.models import AuditLog
from .. import reads
from ..access import office_view

PAGE_SIZE = 50
FILTERS = {"actor": 150, "action": 64, "target": 200}
ACTIONS_LISTED = 200


def pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) if value is not None else ""


def _outcomes(positions: list[int]) -> dict[int, str]:
    found = dict(EventOutcome.objects.filter(event_id__in=positions).values_list("event_id", "applied"))
    return {p: ("applied" if found[p] else "refused") if p in found else "pending" for p in positions}


@require_GET
@office_view("view_office")
def audit_log(request: HttpRequest) -> HttpResponse:
    chosen = {name: request.GET.get(name, "").strip() for name in FILTERS}
    after = request.GET.get("after", "")
    bad = next(({"field": name, "value": value[:20] + "…", "why": _("longer than %(max)s characters") % {"max": most}}
                for name, most in FILTERS.items() if len(value := chosen[name]) > most), None)
    if bad is None and after and not re.fullmatch(r"\d{1,18}", after):
        bad = {"field": "after", "value": after[:20], "why": _("not a row of this list")}
    actions = list(AuditLog.objects.order_by("action").values_list("action", flat=True).distinct()[:ACTIONS_LISTED])
    if bad is not None:
        return render(request, "office/audit.html", {"bad": bad, "chosen": chosen, "actions": actions}, status=400)
    rows = AuditLog.objects.all()
    for name, value in chosen.items():
        if value:
            rows = rows.filter(**{name: value})
    window = rows.filter(id__lt=int(after)) if after else rows
    got = list(window.order_by("-id")[: PAGE_SIZE + 1])
    page = got[:PAGE_SIZE]
    outcomes = _outcomes([row.event_position for row in page if row.event_position is not None])
    tz = reads.shop_tz()
    entries = [{"id": row.id, "at": row.at.astimezone(tz), "actor": row.actor, "action": row.action,
                "target": row.target, "position": row.event_position,
                "outcome": outcomes.get(row.event_position) if row.event_position is not None else None,
                "detail": pretty(row.detail), "before": pretty(row.before), "after": pretty(row.after)}
               for row in page]
    query = {k: v for k, v in chosen.items() if v}
    return render(request, "office/audit.html", {"entries": entries, "chosen": chosen, "actions": actions,
                                                 "query": query, "after": after,
                                                 "next_after": page[-1].id if len(got) > PAGE_SIZE else None})
