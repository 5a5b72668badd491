"""The withdrawal review queue (``/office/withdrawals``): filter by status, member and the day asked; each row with
the member's name, amount, fee, net, payee and the member's balance and debt now (the engine refuses an approval
while the member owes); approve, reject with the reason the member reads on 提现, mark paid with the payout's
reference, approve many at once (one event each); and the payout CSV of the approved withdrawals not yet paid.

Every action is ``audit.office_act``: the same events the operator API logs (``approve_withdrawal`` with
``paid_out: false``, ``reject_withdrawal`` with ``reason``, ``mark_withdrawal_paid`` with ``reference``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from ....engine.money import format_fen
from ....service.store.models import MemberState, WithdrawalState
from ...api import reads as api_reads
from ...api.errors import ApiError
from ...api.schemas import MarkPaidIn, RejectWithdrawalIn
from ...api.withdrawals import csv_cell
from ...pages.people import display_names
from .. import reads
from ..access import forbidden, office_of, office_view, safe_next
from ..audit import ActionResult, office_act, office_record

PERMISSION = "decide_withdrawal"
PAGE_SIZE = 50
BATCH_MAX = 100
WITHDRAWAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
MEMBER_QUERY_MAX = 64
#: The payout CSV's columns: what a batch payout needs, and the withdrawal to mark paid after it.
PAYOUT_COLUMNS = ("withdrawal", "member", "payee", "amount", "fee", "net", "approved_at")


class BadFilter(ValueError):
    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(f"{field} {value!r}: {why}")
        self.field, self.value, self.why = field, value, why


def zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def status_label(w: dict[str, Any]) -> str:
    return str(w["label_zh"] if zh() else w["label"])


def _day(name: str, raw: str) -> dt.date | None:
    if not raw:
        return None
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadFilter(name, raw[:20], _("not a day as YYYY-MM-DD")) from None


def member_and_days(request: HttpRequest) -> tuple[str, dt.date | None, dt.date | None]:
    """The filters a back-office list shares: member (a display name, a part of one, or a member id; at most 64
    characters), from and to (days in the shop's zone, to not before from)."""
    member = request.GET.get("member", "").strip()
    if len(member) > MEMBER_QUERY_MAX:
        raise BadFilter("member", member[:20] + "…", _("longer than 64 characters"))
    start, end = _day("from", request.GET.get("from", "")), _day("to", request.GET.get("to", ""))
    if start and end and end < start:
        raise BadFilter("to", end.isoformat(), _("before the day “from”"))
    return member, start, end


def filters_of(request: HttpRequest) -> dict[str, Any]:
    """The queue's filters from the query: status (``requested`` by default, or ``all``), member (a display name, a
    part of one, or a member id), from and to (days asked, the shop's), after (the page's cursor)."""
    status = request.GET.get("status", "requested")
    if status not in (*reads.WITHDRAWAL_STATUSES, "all"):
        raise BadFilter("status", status[:20], _("not one of requested, approved, paid, rejected, payout_failed, all"))
    member, start, end = member_and_days(request)
    after = request.GET.get("after") or None
    if after is not None and not WITHDRAWAL_ID.fullmatch(after):
        raise BadFilter("after", after[:20], _("not a withdrawal of this list"))
    return {"status": status, "member": member, "from": start, "to": end, "after": after}


def filtered(f: dict[str, Any]) -> Any:
    rows = WithdrawalState.objects.all()
    if f["status"] != "all":
        rows = rows.filter(status=f["status"])
    if f["member"]:
        named = MemberState.objects.filter(api_reads._named(f["member"])).values("member")
        rows = rows.filter(member__in=named) | rows.filter(member=f["member"])
    if f["from"]:
        rows = rows.filter(requested_at__gte=reads.business_day_bounds(f["from"])[0])
    if f["to"]:
        rows = rows.filter(requested_at__lt=reads.business_day_bounds(f["to"])[1])
    return rows


def queue_rows(page: list[WithdrawalState]) -> list[dict[str, Any]]:
    """The page's withdrawals as the rows show them: the API's read of each, the member's name, and for a
    requested one the fee it would get if approved now (the engine's rule)."""
    held = api_reads.available_of(sorted({w.member for w in page}))
    names = display_names(w.member for w in page)
    expected = reads.expected_fees({w.withdrawal: w.amount for w in page if w.status == "requested"})
    tz = reads.shop_tz()
    rows = []
    for state in page:
        w = api_reads.withdrawal(state, held)
        fee = expected.get(state.withdrawal)
        rows.append({**w, "name": names.get(state.member, ""), "status_label": status_label(w),
                     "owes": w["member_debt"] != "0.00",
                     "expected_fee": format_fen(fee) if fee is not None else None,
                     "expected_net": format_fen(state.amount - fee) if fee is not None else None,
                     "requested_at": state.requested_at.astimezone(tz),
                     "decided_at": state.decided_at.astimezone(tz) if state.decided_at else None})
    return rows


@require_GET
@office_view(PERMISSION)
def queue(request: HttpRequest) -> HttpResponse:
    office = office_of(request)
    try:
        f = filters_of(request)
        rows = filtered(f)
        newest = f["status"] in ("paid", "rejected", "all")
        try:
            page, next_after = api_reads.keyset_page(rows, "requested_at", "withdrawal", f["after"], PAGE_SIZE,
                                                     newest)
        except ApiError:
            raise BadFilter("after", str(f["after"]), _("not a withdrawal of this list")) from None
    except BadFilter as bad:
        return render(request, "office/withdrawals.html", {"bad": bad, "filters": request.GET,
                                                           "statuses": reads.WITHDRAWAL_STATUSES}, status=400)
    query = {k: v for k, v in request.GET.items() if k != "after" and v}
    context = {"filters": f, "rows": queue_rows(page), "next_after": next_after, "query": query,
               "totals": reads.withdrawal_totals(rows), "statuses": reads.WITHDRAWAL_STATUSES,
               "payouts_due": reads.payouts_due(), "can_decide": office.may_act(PERMISSION),
               "here": request.get_full_path()}
    return render(request, "office/withdrawals.html", context)


def withdrawal_snapshot(withdrawal: str) -> dict[str, Any] | None:
    """The withdrawal as the audit row keeps it, before and after: the API's read of it."""
    state = WithdrawalState.objects.filter(withdrawal=withdrawal).first()
    return api_reads.withdrawal(state) if state is not None else None


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("office:withdrawals")))


def announce(request: HttpRequest, result: ActionResult, done: str) -> None:
    """The action's outcome as the next page's message: done, the engine's refusal, or still pending."""
    if result.status == "applied":
        messages.success(request, done)
    elif result.status == "pending":
        messages.info(request, _("Logged as event %(position)s; the engine has not applied it yet: reload in a "
                                 "moment.") % {"position": result.position})
    else:
        messages.error(request, result.message)


def _decide(request: HttpRequest, withdrawal: str, verb: str, fields: dict[str, Any]) -> ActionResult | None:
    if not WITHDRAWAL_ID.fullmatch(withdrawal) or not WithdrawalState.objects.filter(withdrawal=withdrawal).exists():
        messages.error(request, _("withdrawal “%(value)s”: there is no such withdrawal") % {"value": withdrawal[:64]})
        return None
    return office_act(request, verb, {"withdrawal": withdrawal, **fields}, permission=PERMISSION, target=withdrawal,
                      snapshot=lambda: withdrawal_snapshot(withdrawal), key=request.POST.get("key"))


def _described(withdrawal: str) -> dict[str, str]:
    state = WithdrawalState.objects.get(withdrawal=withdrawal)
    return {"withdrawal": withdrawal, "amount": "¥" + format_fen(state.amount),
            "name": display_names([state.member])[state.member]}


@require_POST
@office_view(PERMISSION)
def approve(request: HttpRequest, withdrawal: str) -> HttpResponse:
    result = _decide(request, withdrawal, "approve_withdrawal", {"paid_out": False})
    if result is not None:
        announce(request, result, _("Approved %(withdrawal)s: %(amount)s to %(name)s. Mark it paid once the payout "
                                    "is sent.") % _described(withdrawal))
    return _back(request)


@require_POST
@office_view(PERMISSION)
def reject(request: HttpRequest, withdrawal: str) -> HttpResponse:
    try:
        reason = RejectWithdrawalIn(reason=request.POST.get("reason", "")).reason
    except ValidationError:
        messages.error(request, _("reason: write why, as the member will read it (1 to 200 characters)."))
        return _back(request)
    result = _decide(request, withdrawal, "reject_withdrawal", {"reason": reason})
    if result is not None:
        announce(request, result, _("Rejected %(withdrawal)s: %(amount)s returns to %(name)s's available balance; "
                                    "the member reads your reason.") % _described(withdrawal))
    return _back(request)


@require_POST
@office_view(PERMISSION)
def mark_paid(request: HttpRequest, withdrawal: str) -> HttpResponse:
    raw = request.POST.get("reference", "").strip()
    try:
        reference = MarkPaidIn(reference=raw).reference if raw else None
    except ValidationError:
        reference = None
    if not reference:
        messages.error(request, _("reference: the payout's bank or wallet reference (1 to 200 characters, one "
                                  "line)."))
        return _back(request)
    result = _decide(request, withdrawal, "mark_withdrawal_paid", {"reference": reference})
    if result is not None:
        announce(request, result, _("Marked %(withdrawal)s paid: %(amount)s to %(name)s.") % _described(withdrawal))
    return _back(request)


@require_POST
@office_view(PERMISSION)
def approve_many(request: HttpRequest) -> HttpResponse:
    """Approve the ticked withdrawals, one event (and audit row) each; the ones the engine refuses say why."""
    chosen = list(dict.fromkeys(request.POST.getlist("withdrawal")))
    if not chosen:
        messages.error(request, _("Tick the withdrawals to approve."))
        return _back(request)
    if len(chosen) > BATCH_MAX:
        messages.error(request, _("At most %(max)s withdrawals at once.") % {"max": BATCH_MAX})
        return _back(request)
    key = request.POST.get("key") or ""
    approved = 0
    for withdrawal in chosen:
        request_key = f"{key}:{withdrawal}" if key else None
        if not WITHDRAWAL_ID.fullmatch(withdrawal) or not WithdrawalState.objects.filter(
                withdrawal=withdrawal).exists():
            messages.error(request, _("withdrawal “%(value)s”: there is no such withdrawal") % {
                "value": withdrawal[:64]})
            continue
        result = office_act(request, "approve_withdrawal", {"withdrawal": withdrawal, "paid_out": False},
                            permission=PERMISSION, target=withdrawal,
                            snapshot=lambda w=withdrawal: withdrawal_snapshot(w), key=request_key)  # type: ignore[misc]
        if result.applied:
            approved += 1
        else:
            announce(request, result, "")
    if approved:
        messages.success(request, _("Approved %(count)s withdrawals. Mark each paid once its payout is sent.") % {
            "count": approved})
    return _back(request)


@require_GET
@office_view(PERMISSION)
def payouts_csv(request: HttpRequest) -> HttpResponse:
    """The approved withdrawals not yet paid, for a batch payout: UTF-8 with a BOM (a spreadsheet opens the names
    right), amounts as two-decimal strings, ``amount = fee + net`` on every row; cells that a spreadsheet would
    read as a formula are quoted. Reading it is an action (it holds payee accounts): audited, and only for who
    decides withdrawals."""
    office = office_of(request)
    if not office.may_act(PERMISSION):
        return forbidden(request, PERMISSION, office=office)
    rows = list(WithdrawalState.objects.filter(status="approved").order_by("decided_at", "id"))
    names = display_names(w.member for w in rows)
    tz = reads.shop_tz()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYOUT_COLUMNS)
    for w in rows:
        cells = [w.withdrawal, names.get(w.member, ""), w.payee, format_fen(w.amount), format_fen(w.fee),
                 format_fen(w.amount - w.fee), w.decided_at.astimezone(tz).isoformat() if w.decided_at else ""]
        writer.writerow([csv_cell(cell) for cell in cells])
    amount, fee = sum(w.amount for w in rows), sum(w.fee for w in rows)
    office_record(request, "export_payouts", "approved",
                  {"withdrawals": [w.withdrawal for w in rows], "amount": format_fen(amount), "fee": format_fen(fee),
                   "net": format_fen(amount - fee)}, permission=PERMISSION)
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    day = api_reads.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="payouts-{day}.csv"'
    return response
