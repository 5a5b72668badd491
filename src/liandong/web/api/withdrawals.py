"""Withdrawals: a member asks, naming the payee account (the engine accepts or refuses with its reason); an
operator approves (the payout still to come: the amount stays in ``withdrawing``) or rejects, exports the approved
ones as CSV for a batch payout, and marks each paid once its payout left (the amount moves to ``withdrawn``).

    POST /api/withdrawals {"amount": "500.00", "payee": "alipay:138…"} -> 422 {"error": {"code":
                                          "withdrawal_above_available", "field": "amount", "value": "500.00", ...}}
    POST /api/withdrawals {"amount": "60.00", "payee": "alipay:138…"}  -> 201 {"withdrawal": "w5k…", ...}
    POST /api/operator/withdrawals/w5k…/approve    -> 200 {"status": "approved", "payout_pending": true, ...}
    POST /api/operator/withdrawals/w6m…/reject {"reason": "the payee account name does not match"}
                                                   -> 200 {"status": "rejected", "reason": "the payee …", ...}
    POST /api/operator/withdrawals/w5k…/mark-paid  -> 200 {"status": "paid", "payout_pending": false, ...}
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.params.functions import Path, Query

from ...engine.money import format_fen, parse_yuan
from ...service.store.models import EventOutcome, WithdrawalState
from ..accounts.models import MemberLogin
from ..signals import log_signals
from . import reads
from .actions import answer, audit, log_event, log_operator_event
from .auth import AUTH, may_read_member, member_of, require_operator
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .schemas import ErrorOut, MarkPaidIn, PendingOut, RejectWithdrawalIn, WithdrawalOut, WithdrawalsPage, WithdrawIn

router = Router(tags=["withdrawals"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
STATUSES = r"^(requested|approved|rejected|paid)$"


def _withdrawal_answer(withdrawal: str, status: int) -> Any:
    def applied(_outcome: EventOutcome) -> Status[Any]:
        return Status(status, reads.withdrawal(WithdrawalState.objects.get(withdrawal=withdrawal)))

    return applied


@idempotent_post(router, "/withdrawals", auth=AUTH, response={201: WithdrawalOut, 202: PendingOut, **ERRORS})
def request_withdrawal(request: HttpRequest, body: WithdrawIn) -> Status[Any]:
    """Withdraw part of my available balance to ``payee`` (required). The engine refuses below the minimum or
    above what is available (422 with the reason); an accepted amount moves to ``withdrawing`` until it is paid out
    (or rejected: back to available)."""
    member = member_of(request)
    withdrawal = "w" + secrets.token_hex(6)
    amount = format_fen(parse_yuan(body.amount))
    fields = {"member": member, "amount": amount, "withdrawal": withdrawal, "payee": body.payee}
    log_signals(request, member, payee=body.payee)  # the fraud holds' signals (web/signals.py)
    logged = log_event(request, "withdraw", fields, actor=f"member:{member}")
    return answer(logged, _withdrawal_answer(logged.payload["withdrawal"], 201))


@router.get("/withdrawals/{withdrawal}", auth=AUTH, response={200: WithdrawalOut, **ERRORS})
def get_withdrawal(request: HttpRequest, withdrawal: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    found = WithdrawalState.objects.filter(withdrawal=withdrawal).first()
    if found is None or not may_read_member(request, found.member):
        raise ApiError(404, ApiCode.NOT_FOUND, "withdrawal", withdrawal)
    return reads.withdrawal(found)


@router.get("/operator/withdrawals", auth=AUTH, response={200: WithdrawalsPage, **ERRORS})
def list_withdrawals(request: HttpRequest, status: str | None = Query(None, pattern=STATUSES),
                     after: str | None = Query(None, pattern=ID_PATTERN),
                     limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """Withdrawals, oldest first (the review queue: ``?status=requested``), each with its member's available
    balance and debt; ``limit`` per page, the next page ``?after=<next_after>``."""
    require_operator(request)
    rows = WithdrawalState.objects.all()
    if status is not None:
        rows = rows.filter(status=status)
    return reads.withdrawals(rows, after, limit, newest=False)


def _decide(request: HttpRequest, withdrawal: str, verb: str, fields: dict[str, Any]) -> Status[Any]:
    operator = require_operator(request, "decide_withdrawal")
    if not WithdrawalState.objects.filter(withdrawal=withdrawal).exists():
        raise ApiError(404, ApiCode.NOT_FOUND, "withdrawal", withdrawal)
    logged = log_operator_event(request, operator, verb, {"withdrawal": withdrawal, **fields}, action=verb,
                                target=withdrawal)
    return answer(logged, _withdrawal_answer(withdrawal, 200))


DECISION_RESPONSES: dict[int, Any] = {200: WithdrawalOut, 202: PendingOut, **ERRORS}


@idempotent_post(router, "/operator/withdrawals/{withdrawal}/approve", auth=AUTH, response=DECISION_RESPONSES)
def approve_withdrawal(request: HttpRequest, withdrawal: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Approve a requested withdrawal (needs ``decide_withdrawal``), with the payout still to come: the amount
    stays in ``withdrawing`` until mark-paid. Refused (422 ``withdrawal_member_owes``) while the member owes."""
    return _decide(request, withdrawal, "approve_withdrawal", {"paid_out": False})


@idempotent_post(router, "/operator/withdrawals/{withdrawal}/reject", auth=AUTH, response=DECISION_RESPONSES)
def reject_withdrawal(request: HttpRequest, body: RejectWithdrawalIn | None = None,
                      withdrawal: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Reject a requested withdrawal, saying why in ``reason`` (required: trimmed, 1–200 characters; the member
    reads it on the withdrawal page): its amount returns to available. An approved one cannot be rejected (422
    ``withdrawal_decided``): its payout may be on its way."""
    require_operator(request, "decide_withdrawal")  # who asks is checked before what is asked
    if body is None:  # no body at all (a client written before rejections had reasons): name what is missing
        raise ApiError(400, ApiCode.MISSING, "reason")
    return _decide(request, withdrawal, "reject_withdrawal", {"reason": body.reason})


@idempotent_post(router, "/operator/withdrawals/{withdrawal}/mark-paid", auth=AUTH, response=DECISION_RESPONSES)
def mark_withdrawal_paid(request: HttpRequest, body: MarkPaidIn,
                         withdrawal: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Record that an approved withdrawal's payout was sent (with the bank or wallet reference): the amount moves
    from ``withdrawing`` to ``withdrawn`` (less the fee)."""
    return _decide(request, withdrawal, "mark_withdrawal_paid", {"reference": body.reference})


CSV_COLUMNS = ("withdrawal", "member", "username", "payee", "amount", "fee", "net", "member_available",
               "member_debt", "requested_at", "approved_at")
MONEY_CELL = re.compile(r"^-?\d+\.\d{2}$")
#: A cell a spreadsheet would read as a formula (or that hides one after a tab or line break).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: str) -> str:
    """A cell as text: one starting like a formula gets a leading apostrophe (``=HYPERLINK(…)`` -> ``'=HYPERLINK(…)``),
    except an amount ("-120.00" is a number, not a formula)."""
    if value.startswith(FORMULA_START) and not MONEY_CELL.match(value):
        return "'" + value
    return value


@router.get("/operator/withdrawals/export.csv", auth=AUTH,
            response={200: None, **ERRORS},
            openapi_extra={"responses": {"200": {"description": "approved, unpaid withdrawals",
                                                 "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def export_withdrawals(request: HttpRequest) -> HttpResponse:
    """Approved withdrawals not yet marked paid, as CSV for a batch payout (needs ``decide_withdrawal``): payee,
    amount, fee and net (amount = fee + net, to the fen), and each member's available balance and debt now."""
    operator = require_operator(request, "decide_withdrawal")
    rows = list(WithdrawalState.objects.filter(status="approved").order_by("decided_at", "id"))
    members = sorted({w.member for w in rows})
    usernames = dict(MemberLogin.objects.filter(member__in=members).values_list("member", "user__username"))
    available = reads.available_of(members)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for w in rows:
        balance = available.get(w.member, 0)
        cells = [w.withdrawal, w.member, usernames.get(w.member, ""), w.payee, format_fen(w.amount),
                 format_fen(w.fee), format_fen(w.amount - w.fee), format_fen(balance), format_fen(max(-balance, 0)),
                 w.requested_at.isoformat(), w.decided_at.isoformat() if w.decided_at else ""]
        writer.writerow([csv_cell(cell) for cell in cells])
    audit(operator, "export_withdrawals", "approved", {"withdrawals": [w.withdrawal for w in rows]})
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="withdrawals-approved.csv"'
    return response
