"""排行榜 and 战队PK: the leaderboards (day, week, month, all time; commission, bound buyers' sales, invites) with the
member's own rank even outside the top N, and the team contests (the list, a contest's rules and standings, updated
live while the page is open: the standings fragment is read again every few seconds).

Figures are what the worker committed: the boards' rows (``service.leaderboards``) and the contests plan's shop read
(``engine/plans/contests.py``). Members show by display name, or by initials when the operator hides names; only
members with a figure are on a board. Joining a team is the member verb ``join_contest_team`` through the API, from
the captain's invite link (``/contests/<id>?invite=<the captain's invite code>``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from ....engine.money import format_fen
from ....service import leaderboards as boards
from ....service.store.models import ContestNotice, LeaderboardSetting
from ...accounts.models import MemberLogin
from ...api import reads
from ..people import display_names
from .common import member_page

BOARD_LABELS = {"commission": gettext_lazy("Commission earned"), "sales": gettext_lazy("Sales of bound buyers"),
                "invites": gettext_lazy("Members invited")}
PERIOD_LABELS = {"day": gettext_lazy("Today"), "week": gettext_lazy("This week"),
                 "month": gettext_lazy("This month"), "all": gettext_lazy("All time")}
METRIC_LABELS = {"sales": gettext_lazy("Sales"), "orders": gettext_lazy("Orders"),
                 "invites": gettext_lazy("Members invited"), "new_agents": gettext_lazy("New agents")}
STATUS_LABELS = {"scheduled": gettext_lazy("Not started"), "running": gettext_lazy("Running"),
                 "over": gettext_lazy("Over")}


def settings() -> LeaderboardSetting:
    return LeaderboardSetting.objects.filter(id=1).first() or LeaderboardSetting()


def shown_names(members: list[str], hide: bool) -> dict[str, str]:
    names = display_names(members)
    return {m: boards.initials(n) for m, n in names.items()} if hide else names


def figure_text(board: str, figure: int) -> str:
    return format_fen(figure) if board in boards.MONEY_BOARDS else str(figure)


def _bad(request: HttpRequest, field: str, value: str, why: str) -> HttpResponse:
    return render(request, "pages/bad_query.html", {"tab": "me", "field": field, "value": value, "why": why,
                                                    "back": request.path}, status=400)


@require_GET
@member_page
def leaderboards(request: HttpRequest) -> HttpResponse:
    member = request.member_login.member  # type: ignore[attr-defined]
    board = request.GET.get("board", "commission")
    period = request.GET.get("period", "week")
    if board not in boards.BOARDS:
        return _bad(request, "board", board, _("one of: %(choices)s") % {"choices": ", ".join(boards.BOARDS)})
    if period not in boards.PERIODS:
        return _bad(request, "period", period, _("one of: %(choices)s") % {"choices": ", ".join(boards.PERIODS)})
    setting = settings()
    bucket = boards.current_bucket(period, timezone.now(), reads.wording_engine().tz)
    rows = boards.top(board, period, bucket, setting.top)
    mine = boards.rank_of(board, period, bucket, member)
    names = shown_names([r["member"] for r in rows] + [member], setting.hide_names)
    context = {
        "tab": "me", "board": board, "period": period, "bucket": bucket,
        "boards": [{"id": b, "label": BOARD_LABELS[b]} for b in boards.BOARDS],
        "periods": [{"id": p, "label": PERIOD_LABELS[p]} for p in boards.PERIODS],
        "money": board in boards.MONEY_BOARDS,
        "rows": [{"rank": r["rank"], "name": names[r["member"]], "figure": figure_text(board, r["figure"]),
                  "me": r["member"] == member} for r in rows],
        "mine": {"rank": mine["rank"], "figure": figure_text(board, mine["figure"])} if mine else None,
        "in_top": any(r["member"] == member for r in rows), "top": setting.top,
    }
    return render(request, "pages/leaderboards.html", context)


def contests_off(request: HttpRequest) -> HttpResponse:
    """The contest pages of a shop that runs no contests: a 404 that says so."""
    return render(request, "pages/contests.html", {"tab": "me", "off": True, "contests": []}, status=404)


def contests_read() -> dict[str, dict[str, Any]]:
    found = reads.shop_read("contests") or {}
    contests: dict[str, dict[str, Any]] = found.get("contests", {})
    return contests


def contest_view(cid: str, contest: dict[str, Any], member: str) -> dict[str, Any]:
    """A contest as the page shows it: its times in the shop's zone, its people by display name."""
    hide = settings().hide_names
    people = [team["captain"] for team in contest["teams"]] + [p["member"] for p in contest["prizes_paid"]]
    names = shown_names(people, hide)
    mine = reads.plan_read(reads.member_state(member), "contests").get("teams", {}).get(cid)
    tz = reads.wording_engine().tz
    teams = {t["id"]: t for t in contest["teams"]}
    start = dt.datetime.fromisoformat(contest["start"]).astimezone(tz)
    status = contest["status"]
    if status == "scheduled" and timezone.now() >= start:  # counting from its start; the engine's next event says so
        status = "running"
    return {
        "id": cid, "name": contest["name"], "status": status,
        "status_label": STATUS_LABELS[status], "metric": METRIC_LABELS[contest["metric"]],
        "joining": contest["joining"], "start": start,
        "end": dt.datetime.fromisoformat(contest["end"]).astimezone(tz),
        "teams": [{"id": t["id"], "name": t["name"], "captain": names[t["captain"]], "size": t["size"]}
                  for t in contest["teams"]],
        "standings": [{**s, "captain": names[teams[s["team"]]["captain"]], "mine": mine == s["team"]}
                      for s in contest["standings"]],
        "prizes": contest["prizes"], "my_team": teams[mine]["name"] if mine in teams else None,
        "paid": [{**p, "name": names.get(p["member"], "")} for p in contest["prizes_paid"]],
    }


@require_GET
@member_page
def contests(request: HttpRequest) -> HttpResponse:
    if "contests" not in reads.running_plans():
        return contests_off(request)
    member = request.member_login.member  # type: ignore[attr-defined]
    found = [contest_view(cid, c, member) for cid, c in contests_read().items()]
    found.sort(key=lambda c: ({"running": 0, "scheduled": 1, "over": 2}[c["status"]], c["start"]))
    return render(request, "pages/contests.html", {"tab": "me", "contests": found})


def _one(request: HttpRequest, cid: str) -> dict[str, Any]:
    contest = contests_read().get(cid)
    if contest is None:
        raise Http404(_("no such contest"))
    return contest_view(cid, contest, request.member_login.member)  # type: ignore[attr-defined]


@require_GET
@member_page
def contest(request: HttpRequest, contest: str) -> HttpResponse:
    if "contests" not in reads.running_plans():
        return contests_off(request)
    login = request.member_login  # type: ignore[attr-defined]
    found = _one(request, contest)
    notices = list(ContestNotice.objects.filter(member=login.member, contest=contest).order_by("-day")[:7])
    captains = {t["captain"]: t for t in contests_read()[contest]["teams"]}
    # a captain's invite: its link names the captain's invite code; a member following it may join that team
    invite = None
    if login.member in captains:
        invite = request.build_absolute_uri(f"{request.path}?{urlencode({'invite': login.invite_code})}")
    invited_by = None
    code = request.GET.get("invite", "")
    if code and found["my_team"] is None and found["joining"] == "invite" and found["status"] != "over":
        inviter = MemberLogin.objects.filter(invite_code=code).values_list("member", flat=True).first()
        if inviter is not None and inviter in captains:
            invited_by = {"code": code, "team": captains[inviter]["name"],
                          "captain": shown_names([inviter], settings().hide_names)[inviter]}
    return render(request, "pages/contest.html", {"tab": "me", "contest": found, "notices": notices,
                                                  "invite": invite, "invited_by": invited_by})


@require_GET
@member_page
def contest_standings(request: HttpRequest, contest: str) -> HttpResponse:
    """The standings part of a contest's page, as the page reads it again while it is open: ``{"status": "running",
    "status_label": "Running", "html": "<table …>"}``, rendered here in the request's language."""
    if "contests" not in reads.running_plans():
        raise Http404(_("no such contest"))
    found = _one(request, contest)
    html = render_to_string("pages/_contest_standings.html", {"contest": found}, request=request)
    return JsonResponse({"status": found["status"], "status_label": str(found["status_label"]), "html": html})
