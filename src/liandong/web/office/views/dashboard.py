"""The dashboard (``/office/dashboard``): a period's sales, rewards by plan and rule, payout ratio and margin, new
members and ranks reached, and the balances now (pools, help funds frozen, points and their NAV, campaign escrow,
withdrawals waiting, debts), from the worker's kept aggregates (``office.dashboard_reads``). Four charts drawn with
the project's own copy of Plotly, each with a CSV of exactly its numbers (``/office/dashboard/<chart>.csv``)."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ....engine.labels import label
from ...api import reads as api_reads
from ...api.withdrawals import csv_cell
from .. import dashboard_reads as d
from ..access import office_view


def rank_name(rank: str) -> str:
    return {"member": _("Member"), "agent": _("Agent"), "partner": _("Partner"),
            "promoter": _("Promoter")}.get(rank, rank)


def plan_name(plan: str) -> str:
    return {"chain21": _("Chain 2+1"), "distribution": _("Distribution"), "points": _("Points"),
            "blind_box": _("Blind box")}.get(plan, plan)


def rule_name(rule: str) -> str:
    return _(label(rule, "en"))


def pool_name(book: str) -> str:
    return {"bonus": _("Bonus pool"), "points_reserve": _("Points reserve")}.get(book, book.replace("_", " "))


def _period(request: HttpRequest) -> d.Period:
    return d.period_of(request.GET, api_reads.today())


def chart_specs(f: d.Figures, tables: dict[str, tuple[list[str], list[list[str]]]]) -> dict[str, Any]:
    """What each chart draws, from its CSV table's columns (the same numbers): x the days, one series a column."""
    def column(chart: str, name: str) -> list[str]:
        header, rows = tables[chart]
        i = header.index(name)
        return [row[i] for row in rows]

    days = [day.isoformat() for day in f.days]
    sales = {"x": days, "kind": "money", "barmode": "group", "series": [
        {"name": _("Sales"), "y": column("sales", "sales"), "type": "bar"},
        {"name": _("Refunds"), "y": column("sales", "refunds"), "type": "bar"},
        {"name": _("Net sales"), "y": column("sales", "net_sales"), "type": "line"}]}
    rewards = {"x": days, "kind": "money", "barmode": "relative", "series": [
        {"name": f"{rule_name(rule)} · {plan_name(plan)}", "y": column("rewards", f"{plan}:{rule}"), "type": "bar"}
        for plan, rule in f.rewards]}
    members = {"x": days, "kind": "count", "barmode": "group", "series": [
        {"name": _("New members"), "y": column("members", "joined"), "type": "bar"},
        *[{"name": _("Reached %(rank)s") % {"rank": rank_name(rank)}, "y": column("members", f"{plan}:{rank}"),
           "type": "bar"} for plan, rank in f.ranks]]}
    payout = {"x": days, "kind": "ratio", "barmode": "group", "series": [
        {"name": _("Payout ratio"), "y": column("payout", "payout_ratio"), "type": "line"},
        {"name": _("Payout ratio to gross margin"), "y": column("payout", "payout_ratio_to_gross_margin"),
         "type": "line"}]}
    return {"sales": sales, "rewards": rewards, "members": members, "payout": payout}


@require_GET
@office_view("view_office")
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        period = _period(request)
    except d.BadPeriod as bad:
        return render(request, "office/dashboard.html", {
            "bad": bad, "query": request.GET, "periods": d.PERIODS, "from_value": request.GET.get("from", "")[:20],
            "to_value": request.GET.get("to", "")[:20]}, status=400)
    f = d.figures(period)
    tables = d.chart_tables(f)
    totals = f.totals
    rewards = [{"plan": plan, "rule": rule, "plan_name": plan_name(plan), "rule_name": rule_name(rule),
                "amount": sum(values), "count": f.reward_count.get((plan, rule), 0)}
               for (plan, rule), values in f.rewards.items()]
    now = d.now()
    ranks = [{"plan": plan, "rank": rank, "name": rank_name(rank), "plan_name": plan_name(plan),
              "reached": sum(f.ranks.get((plan, rank), [])), "lost": f.ranks_lost.get((plan, rank), 0),
              "held": now.ranks.get((plan, rank), 0)}
             for plan, rank in sorted(set(f.ranks) | set(f.ranks_lost) | set(now.ranks))]
    context = {
        "period": period, "periods": d.PERIODS, "query": request.GET, "totals": totals,
        "from_value": period.start.isoformat(), "to_value": period.end.isoformat(),
        "payout_text": d.ratio_text(totals["payout_ratio"]),
        "gross_payout_text": d.ratio_text(totals["gross_payout_ratio"]),
        "without_cost_text": d.ratio_text(totals["without_cost_share"]), "rewards": rewards, "ranks": ranks, "now": now,
        "pools": [{"book": book, "name": pool_name(book), "amount": amount} for book, amount in now.pools],
        "charts": [{"name": name,
                    "csv_url": reverse("office:dashboard_csv", args=[name]) + "?" + urlencode(period.query)}
                   for name in d.CHARTS],
        "chart_specs": chart_specs(f, tables),
    }
    return render(request, "office/dashboard.html", context)


@require_GET
@office_view("view_office")
def chart_csv(request: HttpRequest, chart: str) -> HttpResponse:
    """One chart's numbers: a header and one row per day of the period, UTF-8 with a BOM."""
    if chart not in d.CHARTS:
        raise Http404(chart)
    try:
        period = _period(request)
    except d.BadPeriod as bad:
        return HttpResponse(f"{bad.field} {bad.value!r}: {bad.why}\n", status=400,
                            content_type="text/plain; charset=utf-8")
    header, rows = d.chart_tables(d.figures(period))[chart]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"dashboard-{chart}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
