"""How the web layer changes anything: it appends one event to the log, and (when the caller needs the outcome)
waits briefly for the worker to apply it. The web layer never computes a reward.

    logged = append_event("pay", {"member": "B", "sku": "GIFT", "order": "o-123"}, key="pay:o-123",
                          request_hash=sha256_of_body, actor="payment")
    outcome = wait_for_outcome(logged.position, timeout=2.0)   # None if the worker has not applied it yet

Time: an event's ``at`` is normally not chosen by the caller (clocks of several web processes disagree). The worker
applies each event at ``max(created_at, the engine's clock)``, which is deterministic given the log, so ``liandong
verify`` replays to the same instants (on a shop with ``auto_close_days`` an event logged after a day's end waits at
that day's end until the day is closed: see ``service.feed``). A trusted caller (an import, the demo seed, a scenario
replayed through the API) may put ``at`` (ISO time) in the fields: the event happens then, and is refused when that
is before the engine's clock. ``close_day`` names its day; the clock moves to that day's end.

Idempotency: the same key with the same request hash returns the first event; the same key with another hash
raises ``IdempotencyConflict`` (the API answers 409).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..engine import registry  # noqa: F401  (imports every module, so EVENT_TYPES knows every verb)
from ..engine.draw import make_secret
from ..engine.events import EVENT_TYPES
from .feed import EventRejected, build_event
from .store.models import EventOutcome, LoggedEvent

__all__ = ["EventRejected", "IdempotencyConflict", "append_event", "validate_event", "wait_for_outcome"]


class IdempotencyConflict(ValueError):
    """The key was used before with a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Idempotency-Key {key!r} was already used with a different request")


def validate_event(verb: str, fields: dict[str, Any]) -> None:
    """Check the event's shape with the engine's own event class (money as "12.30" strings, an optional ``at`` as
    ISO time); raise EventRejected naming the field and the value. The same conversion the worker applies."""
    build_event(verb, fields, timezone.now(), dt.UTC)


def with_draw_secret(verb: str, fields: dict[str, Any]) -> dict[str, Any]:
    """An event that creates a draw (its class says ``creates_draw``: a campaign's creation, a blind-box start)
    without a secret gets a fresh one here, in the log: the engine makes none (it refuses such an event), and
    replaying the log (restart, ``verify``) draws the same. The log is private: pages show the commitment, and the
    secret only once the draw is done (the engine's ``Campaign.public``)."""
    cls = EVENT_TYPES.get(verb)
    params = fields.get("params")
    if cls is None or not cls.creates_draw:
        return fields
    if params is not None and not isinstance(params, dict):
        return fields
    if params and params.get("secret"):
        return fields
    return {**fields, "params": {**(params or {}), "secret": make_secret()}}


def append_event(verb: str, fields: dict[str, Any], *, key: str, request_hash: str, actor: str) -> LoggedEvent:
    """Append an event (validated first); idempotent on ``key``."""
    validate_event(verb, fields)
    fields = with_draw_secret(verb, fields)
    try:  # the common case first: a new key is one INSERT
        with transaction.atomic():
            return LoggedEvent.objects.create(key=key, verb=verb, payload=fields, request_hash=request_hash,
                                              actor=actor)
    except IntegrityError:  # the key was used before (a retry), or by a concurrent request just now
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
