"""How the web layer changes anything: it appends one event to the log, and (when the caller needs the outcome)
waits briefly for the worker to apply it. The web layer never computes a reward.

    logged = append_event("pay", {"member": "B", "sku": "GIFT", "order": "o-123"}, key="pay:o-123",
                          request_hash=sha256_of_body, actor="payment")
    outcome = wait_for_outcome(logged.position, timeout=2.0)   # None if the worker has not applied it yet

Time: an event's ``at`` is not chosen by the caller (clocks of several web processes disagree). The worker applies
each event at ``max(created_at, the engine's clock)``, which is deterministic given the log, so ``liandong verify``
replays to the same instants. ``close_day`` names its day; its instant is that day's end.

Idempotency: the same key with the same request hash returns the first event; the same key with another hash
raises ``IdempotencyConflict`` (the API answers 409).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from ...engine.events import EVENT_TYPES
from ...engine.money import MoneyError, parse_yuan
from .models import EventOutcome, LoggedEvent


class EventRejected(ValueError):
    """The event's fields are invalid (never logged). ``field`` and ``value`` name the culprit."""

    def __init__(self, field: str, value: Any, message: str) -> None:
        self.field, self.value, self.message = field, value, message
        super().__init__(f"{field}: {message} (got {value!r})")


class IdempotencyConflict(ValueError):
    """The key was used before with a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")


def validate_event(verb: str, fields: dict[str, Any]) -> None:
    """Check the event's shape with the engine's own event class (money as "12.30" strings); raise EventRejected."""
    cls = EVENT_TYPES.get(verb)
    if cls is None:
        raise EventRejected("verb", verb, "unknown event")
    parsed = dict(fields)
    for name in cls.money_fields:
        if parsed.get(name) is not None:
            try:
                parsed[name] = parse_yuan(parsed[name])
            except MoneyError as exc:
                raise EventRejected(name, fields[name], str(exc)) from None
    try:
        cls(at=timezone.now(), **parsed)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or verb
        raise EventRejected(name, err.get("input"), err["msg"]) from None


def append_event(verb: str, fields: dict[str, Any], *, key: str, request_hash: str, actor: str) -> LoggedEvent:
    """Append an event (validated first); idempotent on ``key``."""
    validate_event(verb, fields)
    existing = LoggedEvent.objects.filter(key=key).first()
    if existing is not None:
        if existing.request_hash != request_hash:
            raise IdempotencyConflict(key)
        return existing
    try:
        with transaction.atomic():
            return LoggedEvent.objects.create(key=key, verb=verb, payload=fields, request_hash=request_hash,
                                              actor=actor)
    except IntegrityError:  # the same key, appended concurrently
        existing = LoggedEvent.objects.get(key=key)
        if existing.request_hash != request_hash:
            raise IdempotencyConflict(key) from None
        return existing


def wait_for_outcome(position: int, timeout: float = 2.0, poll: float = 0.01) -> EventOutcome | None:
    """The outcome of the event at ``position`` once the worker committed it, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = EventOutcome.objects.filter(event_id=position).first()
        if outcome is not None or time.monotonic() >= deadline:
            return outcome
        time.sleep(poll)
        poll = min(poll * 1.5, 0.1)


def event_instant(created_at: dt.datetime, clock: dt.datetime) -> dt.datetime:
    """The instant the worker applies a logged event at (see the module docstring)."""
    return max(created_at, clock)
