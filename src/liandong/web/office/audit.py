"""Every back-office action goes through here: one event, logged the way the operator API logs it
(``api.actions.log_operator_event``: the event and its audit row in one transaction), with the target as read before
it and, once the worker applied the event, after it. The office computes nothing: the engine decides, in the worker.

    result = office_act(request, "approve_withdrawal", {"withdrawal": "w5k", "paid_out": False},
                        permission="decide_withdrawal", target="w5k", key=form_key,
                        snapshot=lambda: withdrawal_snapshot("w5k"))
    result.status   # "applied" | "refused" (result.message: the engine's reason, in the page's language)
                    # | "pending" (the worker has not applied it within the wait) | "invalid" (the event's fields)

The audit row: ``actor`` (username), ``at``, ``action`` (the verb), ``target``, ``detail`` (the event's fields),
``before`` and ``after`` (the target's read model as JSON; ``after`` stays null while the event is pending) and
``event_position``. A form's key (the ``office_key`` tag) makes a double submit one event and one row. An action
that logs no event (a CSV export) is ``office_record``: its audit row alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.utils.translation import get_language

from ..accounts.models import AuditLog
from ..api.actions import log_operator_event, outcome_of
from ..api.errors import ApiError

Snapshot = Callable[[], dict[str, Any] | None]
#: A form's idempotency key as the ``office_key`` tag makes it.
FORM_KEY = re.compile(r"[0-9a-f]{16,64}")


@dataclass(frozen=True)
class ActionResult:
    status: Literal["applied", "refused", "pending", "invalid"]
    position: int | None = None
    message: str = ""  # the engine's refusal (or the 400's message), in the page's language

    @property
    def applied(self) -> bool:
        return self.status == "applied"


def as_json(value: Any) -> Any:
    """A read model as the audit row keeps it (datetimes as ISO strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder)) if value is not None else None


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def event_key(request: HttpRequest, verb: str, fields: dict[str, Any], form_key: str | None) -> tuple[str, str]:
    """The event's idempotency key, scoped to this operator and the office (never an API caller's key), and the
    request's hash (the verb and fields: the same form with another body is a conflict, not a replay)."""
    body = json.dumps({"verb": verb, **fields}, sort_keys=True, cls=DjangoJSONEncoder)
    key = form_key if form_key and FORM_KEY.fullmatch(form_key.split(":", 1)[0]) else uuid.uuid4().hex
    return f"office:{request.user.pk}:{key}", hashlib.sha256(body.encode()).hexdigest()


def office_act(request: HttpRequest, verb: str, fields: dict[str, Any], *, permission: str, target: str,
               snapshot: Snapshot, key: str | None) -> ActionResult:
    """Log one operator event as the API does, with its audit row (before, then after once applied)."""
    operator = request.user
    if not operator.has_perm(f"accounts.{permission}"):  # the view's office_view checked it: a second lock
        raise PermissionDenied(permission)
    before = as_json(snapshot())
    try:
        logged = log_operator_event(request, operator, verb, fields, action=verb, target=target, before=before,
                                    key=event_key(request, verb, fields, key))
    except ApiError as exc:
        return ActionResult("invalid", None, exc.message("zh-hans" if _zh() else "en"))
    outcome = outcome_of(logged)
    if outcome is None:
        return ActionResult("pending", logged.position)
    AuditLog.objects.filter(event_position=logged.position, after__isnull=True).update(after=as_json(snapshot()))
    if outcome.applied:
        return ActionResult("applied", logged.position)
    refusal = outcome.refusal or {}
    return ActionResult("refused", logged.position,
                        str(refusal.get("reason_zh") if _zh() else refusal.get("reason")) or "")


def office_record(request: HttpRequest, action: str, target: str, detail: dict[str, Any], *,
                  permission: str, before: Any = None, after: Any = None) -> None:
    """An action that logs no event (an export, a blind-box offer): its audit row, who, what, on what; the target
    as read before and after it when the action changes one."""
    if not request.user.has_perm(f"accounts.{permission}"):
        raise PermissionDenied(permission)
    AuditLog.objects.create(actor=request.user.get_username(), action=action, target=target,
                            detail=as_json(detail), before=as_json(before), after=as_json(after))
