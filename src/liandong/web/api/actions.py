"""The one way an endpoint changes anything: log one event, wait briefly for the worker, answer with its outcome.

    logged = log_event(request, "withdraw", {"member": "m1", "amount": "60.00", "withdrawal": "w7"},
                       actor="member:m1")
    return answer(logged, lambda: Status(201, withdrawal_out(...)))

``answer`` gives the resource (applied), 422 with the engine's refusal naming field and value (refused), or
202 with the event's position and ``/api/events/<position>`` to poll (the worker did not answer within
``API_OUTCOME_WAIT_SECONDS``). No reward is computed here: the engine, in the worker, decides everything.

With ``LIANDONG_INLINE_WORKER=1`` (tests, a one-process demo) the request itself drains the log with
``liandong.service.worker.drain()`` before waiting.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from ninja import Status

from ...service.log import EventRejected, IdempotencyConflict, append_event, wait_for_outcome
from ...service.store.models import EventOutcome, LoggedEvent
from ..accounts.models import AuditLog
from .errors import ApiCode, ApiError, refusal_body
from .idempotency import HEADER, request_event_key


def log_event(request: HttpRequest, verb: str, fields: dict[str, Any], *, actor: str,
              key: tuple[str, str] | None = None) -> LoggedEvent:
    """Append one event, keyed on the request's Idempotency-Key, or on ``key`` (event key, request hash) when
    given (the payment webhook keys on the provider's payment id); 400 when its fields are invalid."""
    event_key, request_hash = key or request_event_key(request, f"{verb}:{uuid.uuid4().hex}")
    try:
        return append_event(verb, fields, key=event_key, request_hash=request_hash, actor=actor)
    except EventRejected as exc:
        raise ApiError(400, ApiCode.INVALID, exc.field, exc.value, why=exc.message) from None
    except IdempotencyConflict:
        raise ApiError(409, ApiCode.IDEMPOTENCY_CONFLICT, HEADER, event_key) from None


def log_operator_event(request: HttpRequest, operator: Any, verb: str, fields: dict[str, Any], *,
                       action: str, target: str, before: dict[str, Any] | None = None,
                       key: tuple[str, str] | None = None) -> LoggedEvent:
    """An operator's event and its audit row (who, what, on what, which event; the back office also gives the
    target as read ``before`` it), committed together. A repeat of the same key finds the event already logged
    and writes no second row."""
    with transaction.atomic():
        logged = log_event(request, verb, fields, actor=f"operator:{operator.get_username()}", key=key)
        if not AuditLog.objects.filter(event_position=logged.position).exists():
            AuditLog.objects.create(actor=operator.get_username(), action=action, target=target, detail=fields,
                                    before=before, event_position=logged.position)
    return logged


def inline_worker() -> bool:
    return bool(getattr(settings, "LIANDONG_INLINE_WORKER", False))


def outcome_of(logged: LoggedEvent, wait: bool = True) -> EventOutcome | None:
    """The event's outcome once the worker committed it; None if it is still pending after the wait."""
    if inline_worker():
        from ...service.worker import drain

        drain()
    timeout = float(getattr(settings, "API_OUTCOME_WAIT_SECONDS", 2.0)) if wait else 0.0
    return wait_for_outcome(logged.position, timeout=timeout)


def pending(position: int) -> Status[Any]:
    return Status(202, {"status": "pending", "position": position, "poll_url": f"/api/events/{position}"})


def answer(logged: LoggedEvent, applied: Callable[[EventOutcome], Status[Any]]) -> Status[Any]:
    """Applied: ``applied(outcome)``; refused: 422 with the refusal; not yet: 202 with the URL to poll."""
    outcome = outcome_of(logged)
    if outcome is None:
        return pending(logged.position)
    if not outcome.applied:
        assert outcome.refusal is not None, f"event {logged.position} refused without a reason"
        return Status(422, refusal_body(outcome.refusal, logged.position))
    return applied(outcome)


def audit(operator: Any, action: str, target: str, detail: dict[str, Any]) -> None:
    """An operator action that logs no event (an export): who, what, on what."""
    AuditLog.objects.create(actor=operator.get_username(), action=action, target=target, detail=detail)
