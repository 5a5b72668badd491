"""The overview (``/office/``): what waits for a decision and how today goes, from real reads (``office.reads``).
Each block shows to who may open its page: finance sees the withdrawals, not the shop's sales. The dashboard
(issue 16) extends this page with its periods and charts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ...api import reads as api_reads
from .. import reads
from ..access import office_of, office_view


@require_GET
@office_view()
def home(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    context: dict[str, object] = {"today": api_reads.today()}
    if office.may_read("decide_withdrawal"):
        context.update(pending_withdrawals=reads.pending_withdrawals(), payouts_due=reads.payouts_due())
    if office.may_read("manage_promoters") and reads.distribution_runs():
        context["pending_applications"] = reads.promoter_applications("pending").count()
    if office.may_read("view_office"):
        context["orders_today"] = reads.orders_of_day(api_reads.today())
    return render(request, "office/home.html", context)
