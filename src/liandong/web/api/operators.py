"""The back office: close a business day, read the event log (refused events with their reasons), the shop's
totals, a member's full view and the audit log; and anyone's own events by position (the 202 answers' poll URL).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.params.functions import Path, Query

from ...service.store.models import EventOutcome, LoggedEvent
from ..accounts.models import AuditLog
from . import reads
from .actions import answer, log_operator_event
from .auth import AUTH, is_operator, member_of, require_operator, user_of
from .errors import ApiCode, ApiError
from .idempotency import idempotent_post
from .schemas import (
    AuditPage,
    CloseDayIn,
    ClosedDayOut,
    ErrorOut,
    EventOut,
    EventsPage,
    MemberViewOut,
    PendingOut,
    SummaryOut,
)

router = Router(tags=["operators"])
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


@idempotent_post(router, "/operator/close-day", auth=AUTH, response={200: ClosedDayOut, 202: PendingOut, **ERRORS})
def close_day(request: HttpRequest, body: CloseDayIn) -> Status[Any]:
    """End a business day (needs ``close_day``): pending rewards settle, the bonus pool is shared. A day after
    today is a 400 (it would move the engine's clock into the future); a day already behind the clock, the
    engine's 422."""
    operator = require_operator(request, "close_day")
    today = reads.today()
    if body.day > today:
        raise ApiError(400, ApiCode.INVALID, "day", body.day.isoformat(), why=f"it is after today {today}")
    logged = log_operator_event(request, operator, "close_day", {"day": body.day.isoformat()}, action="close_day",
                                target=body.day.isoformat())
    return answer(logged, lambda _o: Status(200, {"day": body.day, "position": logged.position,
                                                  "status": "applied"}))


@router.get("/events/{position}", auth=AUTH, response={200: EventOut, **ERRORS})
def get_event(request: HttpRequest, position: int = Path(..., ge=1, le=2**62)) -> dict[str, Any]:
    """An event I logged (or any, for an operator): pending, applied, or refused with the reason."""
    logged = LoggedEvent.objects.filter(position=position).first()
    user = user_of(request)
    if logged is not None and not is_operator(user):
        mine = f"member:{member_of(request)}"
        if logged.actor != mine:
            logged = None
    if logged is None:
        raise ApiError(404, ApiCode.NOT_FOUND, "position", position)
    return reads.event(logged)


@router.get("/operator/events", auth=AUTH, response={200: EventsPage, **ERRORS})
def list_events(request: HttpRequest, refused: bool = Query(False), after: int = Query(0, ge=0, le=2**62),
                limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """The event log after position ``after``, oldest first; ``refused=true``: only events the engine refused, with
    why. The next page ``?after=<next_after>``."""
    require_operator(request)
    rows = LoggedEvent.objects.filter(position__gt=after).order_by("position")
    if refused:
        rows = rows.filter(position__in=EventOutcome.objects.filter(applied=False).values("event_id"))
    got = list(rows[: limit + 1])
    return {"events": [reads.event(logged, with_payload=True) for logged in got[:limit]],
            "next_after": got[limit - 1].position if len(got) > limit else None}


@router.get("/operator/summary", auth=AUTH, response={200: SummaryOut, **ERRORS})
def summary(request: HttpRequest) -> dict[str, Any]:
    """Pools, platform sales and rewards, refused events, and how far the worker has applied the log."""
    require_operator(request)
    return reads.summary()


@router.get("/operator/members/{member}", auth=AUTH, response={200: MemberViewOut, **ERRORS})
def member_view(request: HttpRequest, member: str = Path(..., pattern=ID_PATTERN)) -> dict[str, Any]:
    """A member as the engine sees it (rank, team, seeds, balances, progress), for support."""
    require_operator(request)
    return reads.member_view(member)


@router.get("/operator/audit", auth=AUTH, response={200: AuditPage, **ERRORS})
def audit_log(request: HttpRequest, after: int = Query(0, ge=0, le=2**62),
              limit: int = Query(100, ge=1, le=500)) -> dict[str, Any]:
    """Operator actions, newest first: who did what, when, and the event it logged. The next (older) page
    ``?after=<next_after>``."""
    require_operator(request)
    rows = AuditLog.objects.filter(id__lt=after) if after else AuditLog.objects.all()
    got = list(rows.order_by("-id")[: limit + 1])
    return {"audit": got[:limit], "next_after": got[limit - 1].id if len(got) > limit else None}
