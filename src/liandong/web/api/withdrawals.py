"""Withdrawals: a member asks (the engine accepts or refuses with its reason), an operator approves, rejects or
marks paid, and exports the approved ones as CSV for a batch payout.

    POST /api/withdrawals {"amount": "500.00"}  -> 422 {"error": {"code": "withdrawal_above_available",
                                                    "field": "amount", "value": "500.00", ...}}
    POST /api/withdrawals {"amount": "60.00"}   -> 201 {"withdrawal": "w5k…", "status": "requested", ...}
    POST /api/operator/withdrawals/w5k…/approve -> 200 {"status": "approved", ...}
"""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.params.functions import Path, Query

from ...engine.money import format_fen, parse_yuan
from ...service.store.models import EventOutcome, WithdrawalState
from ..accounts.models import MemberLogin
from . import reads
from .actions import answer, audit, log_event, log_operator_event
from .auth import AUTH, may_read_member, member_of, require_operator
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .schemas import ErrorOut, MarkPaidIn, PendingOut, WithdrawalOut, WithdrawIn

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
    """Withdraw part of my available balance. The engine refuses below the minimum or above what is available
    (422 with the reason); an accepted amount moves to ``withdrawing`` until an operator decides."""
    member = member_of(request)
    withdrawal = "w" + secrets.token_hex(6)
    amount = format_fen(parse_yuan(body.amount))
    logged = log_event(request, "withdraw", {"member": member, "amount": amount, "withdrawal": withdrawal},
                       actor=f"member:{member}")
    return answer(logged, _withdrawal_answer(logged.payload["withdrawal"], 201))


@router.get("/withdrawals/{withdrawal}", auth=AUTH, response={200: WithdrawalOut, **ERRORS})
def get_withdrawal(request: HttpRequest, withdrawal: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    found = WithdrawalState.objects.filter(withdrawal=withdrawal).first()
    if found is None or not may_read_member(request, found.member):
        raise ApiError(404, ApiCode.NOT_FOUND, "withdrawal", withdrawal)
    return reads.withdrawal(found)


@router.get("/operator/withdrawals", auth=AUTH, response={200: list[WithdrawalOut], **ERRORS})
def list_withdrawals(request: HttpRequest, status: str | None = Query(None, pattern=STATUSES),
                     limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
    """Withdrawals, oldest first (the review queue: ``?status=requested``)."""
    require_operator(request)
    rows = WithdrawalState.objects.order_by("requested_at", "id")
    if status is not None:
        rows = rows.filter(status=status)
    return [reads.withdrawal(w) for w in rows[:limit]]


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
    """Approve a requested withdrawal (needs ``decide_withdrawal``): its amount leaves the member's books."""
    return _decide(request, withdrawal, "approve_withdrawal", {})


@idempotent_post(router, "/operator/withdrawals/{withdrawal}/reject", auth=AUTH, response=DECISION_RESPONSES)
def reject_withdrawal(request: HttpRequest, withdrawal: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Reject a requested withdrawal: its amount returns to available."""
    return _decide(request, withdrawal, "reject_withdrawal", {})


@idempotent_post(router, "/operator/withdrawals/{withdrawal}/mark-paid", auth=AUTH, response=DECISION_RESPONSES)
def mark_withdrawal_paid(request: HttpRequest, body: MarkPaidIn,
                         withdrawal: str = Path(..., pattern=ID_PATTERN)) -> Status[Any]:
    """Record that an approved withdrawal's payout was sent (with the bank or wallet reference)."""
    return _decide(request, withdrawal, "mark_withdrawal_paid", {"reference": body.reference})


CSV_COLUMNS = ("withdrawal", "member", "username", "amount", "fee", "net", "requested_at", "approved_at")


@router.get("/operator/withdrawals/export.csv", auth=AUTH,
            response={200: None, **ERRORS},
            openapi_extra={"responses": {"200": {"description": "approved, unpaid withdrawals",
                                                 "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def export_withdrawals(request: HttpRequest) -> HttpResponse:
    """Approved withdrawals not yet marked paid, as CSV for a batch payout (needs ``decide_withdrawal``)."""
    operator = require_operator(request, "decide_withdrawal")
    rows = list(WithdrawalState.objects.filter(status="approved").order_by("decided_at", "id"))
    usernames = dict(MemberLogin.objects.filter(member__in=[w.member for w in rows])
                     .values_list("member", "user__username"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for w in rows:
        writer.writerow([w.withdrawal, w.member, usernames.get(w.member, ""), format_fen(w.amount),
                         format_fen(w.fee), format_fen(w.amount - w.fee), w.requested_at.isoformat(),
                         w.decided_at.isoformat() if w.decided_at else ""])
    audit(operator, "export_withdrawals", "approved", {"withdrawals": [w.withdrawal for w in rows]})
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="withdrawals-approved.csv"'
    return response
