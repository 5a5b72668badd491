"""Team contests (``/office/contests``): the contests with their frozen rules and live standings, the form that
creates one (``create_contest`` through ``audit.office_act``; the engine refuses a start already passed, an end not
after the start, an unknown captain), and the leaderboards' setting (hide members' names: initials only), an
audited change of the web's own display setting. Rules are frozen once a contest starts: the engine refuses
``change_contest`` from then on, and this page offers no change."""

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

from ....engine.money import parse_yuan
from ....engine.plans.contests import METRICS
from ....service.store.models import LeaderboardSetting
from ...api import reads as api_reads
from ...pages.people import display_names
from .. import reads
from ..access import office_of, office_view
from ..audit import office_act, office_record
from .withdrawals import announce

PERMISSION = "run_campaigns"
CONTEST_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
TEAM_ID = CONTEST_ID
MAX_TEAMS = 50


class FormError(ValueError):
    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(why)
        self.field, self.value, self.why = field, value, why


def _contests() -> dict[str, dict[str, Any]]:
    found = api_reads.shop_read("contests") or {}
    contests: dict[str, dict[str, Any]] = found.get("contests", {})
    return contests


def _when(raw: str, field: str, tz: dt.tzinfo) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise FormError(field, raw, _("a date and time, e.g. 2026-12-10 09:00")) from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


def parse_form(post: Any, tz: dt.tzinfo) -> tuple[str, dict[str, Any]]:
    """The contest id and the ``create_contest`` fields from the form; a FormError names the first bad field.
    Teams: one a line, ``id, name, captain`` (the captain's member id); prizes: one a line, ``rank, cash 100.00``
    or ``rank, coupons 5``, optionally ``, each`` (every member of the team) instead of the captain."""
    cid = post.get("contest", "").strip()
    if not CONTEST_ID.fullmatch(cid):
        raise FormError("contest", cid, _("1 to 32 lowercase letters, digits, - or _"))
    name = post.get("name", "").strip()
    if not 1 <= len(name) <= 60:
        raise FormError("name", name, _("1 to 60 characters"))
    start, end = _when(post.get("start", ""), "start", tz), _when(post.get("end", ""), "end", tz)
    if end <= start:
        raise FormError("end", post.get("end", ""), _("after the start"))
    metric = post.get("metric", "")
    if metric not in METRICS:
        raise FormError("metric", metric, _("one of: %(choices)s") % {"choices": ", ".join(METRICS)})
    joining = post.get("joining", "invite")
    if joining not in ("invite", "assigned"):
        raise FormError("joining", joining, _("invite or assigned"))
    teams = []
    for line in (x.strip() for x in post.get("teams", "").splitlines()):
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3 or not TEAM_ID.fullmatch(parts[0]) or not parts[1] or not parts[2]:
            raise FormError("teams", line, _("a line: id, name, captain's member id"))
        teams.append({"id": parts[0], "name": parts[1][:40], "captain": parts[2]})
    if not 2 <= len(teams) <= MAX_TEAMS:
        raise FormError("teams", str(len(teams)), _("2 to %(most)s teams") % {"most": MAX_TEAMS})
    prizes = []
    for line in (x.strip() for x in post.get("prizes", "").splitlines()):
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        words = parts[1].split() if len(parts) > 1 else []
        to = parts[2] if len(parts) > 2 else "captain"
        if (len(parts) > 3 or not parts[0].isdigit() or len(words) != 2 or words[0] not in ("cash", "coupons")
                or to not in ("captain", "each")):
            raise FormError("prizes", line, _("a line: rank, cash 100.00 or coupons 5, and optionally each"))
        prize: dict[str, Any] = {"rank": int(parts[0]), "to": to}
        try:
            if words[0] == "cash":
                parse_yuan(words[1])
                prize["cash"] = words[1]
            else:
                prize["coupons"] = int(words[1])
        except ValueError:
            raise FormError("prizes", line, _("an amount like 100.00, or a whole number of coupons")) from None
        prizes.append(prize)
    return cid, {"contest": cid, "name": name, "start": start.isoformat(), "end": end.isoformat(),
                 "metric": metric, "joining": joining, "teams": teams, "prizes": prizes}


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    tz = reads.shop_tz()
    contests = []
    for cid, c in sorted(_contests().items(), key=lambda kv: kv[1]["start"], reverse=True):
        names = display_names([t["captain"] for t in c["teams"]] + [p["member"] for p in c["prizes_paid"]])
        contests.append({**c, "id": cid, "start": dt.datetime.fromisoformat(c["start"]).astimezone(tz),
                         "end": dt.datetime.fromisoformat(c["end"]).astimezone(tz),
                         "captains": {t["id"]: names.get(t["captain"], "") for t in c["teams"]},
                         "paid": [{**p, "name": names.get(p["member"], "")} for p in c["prizes_paid"]]})
    setting = LeaderboardSetting.objects.filter(id=1).first() or LeaderboardSetting()
    context = {"running": "contests" in api_reads.running_plans(), "contests": contests, "metrics": METRICS,
               "can_run": office_of(request).may_act(PERMISSION), "setting": setting, "form": {}, **extra}
    return render(request, "office/contests.html", context, status=status)


@require_GET
@office_view(PERMISSION)
def contests(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@office_view(PERMISSION)
def create(request: HttpRequest) -> HttpResponse:
    if "contests" not in api_reads.running_plans():
        messages.error(request, _("This shop does not run team contests: add the contests plan first."))
        return HttpResponseRedirect(reverse("office:contests"))
    try:
        cid, fields = parse_form(request.POST, reads.shop_tz())
    except FormError as bad:
        return _page(request, status=400, error={"field": bad.field, "value": bad.value[:80], "why": bad.why},
                     form=request.POST)
    result = office_act(request, "create_contest", fields, permission=PERMISSION, target=cid,
                        snapshot=lambda: _contests().get(cid), key=request.POST.get("key"))
    announce(request, result, _("Contest %(name)s created; its rules freeze at its start.") % {"name": fields["name"]})
    if result.status == "refused" or result.status == "invalid":
        return _page(request, status=400, form=request.POST)
    return HttpResponseRedirect(reverse("office:contests"))


@require_POST
@office_view(PERMISSION)
def board_setting(request: HttpRequest) -> HttpResponse:
    """Hide members' names on the leaderboards (initials only), or show them."""
    hide = request.POST.get("hide_names") == "1"
    setting, _created = LeaderboardSetting.objects.get_or_create(id=1)
    before = setting.hide_names
    setting.hide_names = hide
    setting.save(update_fields=["hide_names"])
    office_record(request, "leaderboard_setting", "leaderboards", {"hide_names": {"before": before, "after": hide}},
                  permission=PERMISSION)
    messages.success(request, _("Leaderboards show initials only.") if hide else _("Leaderboards show names."))
    return HttpResponseRedirect(reverse("office:contests"))
