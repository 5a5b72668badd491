"""积分 (points): the member's points, what they are worth at today's NAV, the NAV's history as a small chart, the
latest and the next release, the member's releases day by day, and how paying with points works at checkout.

Figures are the points plan's reads as the worker committed them: the member's ``member_read`` (points, next
release, latest release, the plan's published rates), the shop-wide ``shop_read`` (the NAV now and at every close),
``reads.points_wallet`` (the value at the NAV, as the checkout quotes it) and the ledger's release postings
(``reads.points_releases``). Nothing here computes a point or a yuan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ...accounts.models import MemberLogin
from ...api import reads
from ..charts import line_chart
from .common import member_page

#: The closes the chart draws (the newest); the table lists the newest ``TABLE_DAYS`` of them.
CHART_DAYS = 60
TABLE_DAYS = 7
#: The member's own releases listed.
RELEASES_SHOWN = 10


def plan_off(request: HttpRequest, tab: str, plan: str) -> HttpResponse:
    """The page of a plan this shop does not run: a 404 that says so."""
    return render(request, "pages/plan_off.html", {"tab": tab, "plan": plan}, status=404)


def nav_history(shop: dict[str, Any]) -> dict[str, Any]:
    """The chart of the newest closes' NAVs and the table of the newest few (newest first)."""
    history = list(shop.get("history", []))[-CHART_DAYS:]
    chart = line_chart([Decimal(day["nav"]) for day in history])
    return {"days": history, "chart": chart, "table": list(reversed(history[-TABLE_DAYS:])),
            "low": history[chart.low] if chart else None, "high": history[chart.high] if chart else None,
            "first": history[0] if history else None, "last": history[-1] if history else None}


@require_GET
@member_page
def points(request: HttpRequest) -> HttpResponse:
    if "points" not in reads.running_plans():
        return plan_off(request, "me", "points")
    login: MemberLogin = request.member_login  # type: ignore[attr-defined]
    member = login.member
    read = reads.plan_read(reads.member_state(member), "points")
    shop = reads.shop_read("points") or {}
    context = {"tab": "me", "read": read, "joined": bool(read), "wallet": reads.points_wallet(member),
               "shop": shop, "history": nav_history(shop), "releases": reads.points_releases(member, RELEASES_SHOWN)}
    return render(request, "pages/points.html", context)
