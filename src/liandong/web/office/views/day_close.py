"""The day's close (``/office/days``): the shop's business days, newest first, each closed or not, by the worker's
automatic close (``auto_close_days``: logged by ``system``) or an operator, and what its close shared (bonus pool
shares, settlements, points released and the NAV, help funds released: the ledger transactions of the close);
a "Close day" button for a day not yet closed, logging ``close_day`` through ``audit.office_act``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ...api import reads as api_reads
from .. import day_reads
from ..access import office_of, office_view, safe_next
from ..audit import office_act
from .withdrawals import DAY, announce

PERMISSION = "close_day"


def _parse_day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if DAY.fullmatch(raw) else None
    except ValueError:
        return None


@require_GET
@office_view(PERMISSION)
def days(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    before_raw = request.GET.get("before", "")
    before = _parse_day(before_raw) if before_raw else None
    if before_raw and before is None:
        return render(request, "office/days.html", {"bad": {"field": "before", "value": before_raw[:20],
                                                            "why": _("not a day as YYYY-MM-DD")}}, status=400)
    listed, next_before = day_reads.days_page(before)
    found = day_reads.closes(listed)
    last = day_reads.last_closed_day()
    floor = day_reads.clock_floor_day()
    setup = api_reads.shop_setup()
    rows: list[dict[str, Any]] = []
    for day in listed:
        close = found.get(day)
        rows.append({"day": day, "close": close,
                     "closable": close is None and (last is None or day > last) and (floor is None or day >= floor)})
    return render(request, "office/days.html", {
        "rows": rows, "next_before": next_before, "today": api_reads.today(), "last_closed": last,
        "auto": bool(setup and setup.auto_close_days), "can_close": office.may_act(PERMISSION),
        "here": request.get_full_path()})


@require_POST
@office_view(PERMISSION)
def close(request: HttpRequest) -> HttpResponse:
    back = HttpResponseRedirect(safe_next(request, reverse("office:days")))
    raw = request.POST.get("day", "")
    day = _parse_day(raw)
    if day is None:
        messages.error(request, _("day “%(value)s”: not a day as YYYY-MM-DD") % {"value": raw[:20]})
        return back
    today = api_reads.today()
    if day > today:  # as the API: it would move the engine's clock into the future
        messages.error(request, _("day %(day)s: it is after today %(today)s") % {"day": day, "today": today})
        return back
    result = office_act(request, "close_day", {"day": day.isoformat()}, permission=PERMISSION,
                        target=day.isoformat(), snapshot=lambda: day_reads.day_snapshot(day),
                        key=request.POST.get("key"))
    announce(request, result, _("Closed %(day)s: pending rewards due settled and the pools shared.") % {"day": day})
    return back
