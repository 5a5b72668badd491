"""What an event would do if it were logged now, without logging it: the engine itself, on a throwaway copy.

The worker's engine lives in the worker's process; a web page that must show what an operator's action will do
(the back office's refund: what it takes back from whom) asks the engine here. ``dry_run`` rebuilds the engine from
``ShopSetup`` and the log up to the worker's committed position (``worker.replay_log``, the replay ``verify`` and the
worker's own start use), then applies the event to it with the worker's conversion (``feed.apply_logged``, at the
instant the worker would give it now) and returns what the engine did: its refusal, or every transaction it posted.
Nothing is written and the engine is thrown away; the web layer computes nothing.

The replay is cached per process at the position it reached and brought up to date with the events applied since,
so a second preview costs the new events and a copy of the engine, not the whole log::

    applied = dry_run("refund", {"order": "o7"})
    applied.refusal          # None, or the engine's Refusal (order_refunded, …)
    applied.transactions     # the reversals, each naming its rule, entries and what it reverses

``replayed(plans=…, skip=…)`` replays the log into a fresh engine of other plan configs (the plan settings'
preview: the shop's own history under a proposed config).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.utils import timezone

from ..engine.core import Engine
from ..engine.registry import new_engine
from .feed import Applied, apply_logged, shop_of
from .store.models import LoggedEvent, ShopSetup, WorkerPosition
from .worker import build_engine, read_log

CHUNK = 5000
_lock = threading.Lock()
_cached: dict[str, Any] = {}  # "engine", "position", "setup": the last replay of this process


def committed_position() -> int:
    return int(WorkerPosition.objects.filter(id=1).values_list("position", flat=True).first() or 0)


def _catch_up(engine: Engine, after: int, up_to: int, auto_close_days: bool,
              keep: Callable[[str, Mapping[str, Any]], bool] | None = None) -> None:
    while after < up_to:
        rows = read_log(after, up_to, CHUNK)
        if not rows:
            return
        for pos, verb, payload, created, _key in rows:
            if keep is None or keep(verb, payload):
                apply_logged(engine, pos, verb, payload, created, auto_close_days)
        engine.ledger.transactions.clear()
        after = rows[-1][0]


def _setup_key(setup: ShopSetup) -> tuple[Any, ...]:
    return (repr(setup.plans), setup.timezone, setup.start.isoformat(), setup.auto_close_days)


def _fence(position: int) -> tuple[Any, ...] | None:
    """The event at ``position`` (its key and when it was logged): the cached replay belongs to this log only if
    the event it stopped at is still there."""
    if position <= 0:
        return None
    return LoggedEvent.objects.filter(position=position).values_list("key", "created_at").first()


def current_engine() -> tuple[Engine, ShopSetup, int]:
    """A private copy of the engine as the worker has it at its committed position (the setup and the position)."""
    setup = ShopSetup.objects.first()
    if setup is None:
        raise LookupError("the shop is not set up")
    up_to = committed_position()
    with _lock:
        engine: Engine | None = _cached.get("engine")
        at = int(_cached.get("position", 0))
        fence = _fence(at)
        if (engine is None or _cached.get("setup") != _setup_key(setup) or at > up_to
                or fence != _cached.get("fence")):
            engine, at = build_engine(setup), 0
        _catch_up(engine, at, up_to, setup.auto_close_days)
        _cached.update(engine=engine, position=up_to, setup=_setup_key(setup), fence=_fence(up_to))
        return copy.deepcopy(engine), setup, up_to


def dry_run(verb: str, fields: Mapping[str, Any]) -> Applied:
    """What the engine would do with ``verb`` and ``fields`` logged now (see the module docstring)."""
    engine, setup, position = current_engine()
    return apply_logged(engine, position + 1, verb, dict(fields), timezone.now(), setup.auto_close_days)


def replayed(plans: dict[str, Any], skip: Callable[[str, Mapping[str, Any]], bool] | None = None,
             up_to: int | None = None) -> tuple[Engine, int]:
    """A fresh engine of the shop with ``plans`` as its initial configs, the log replayed into it up to ``up_to``
    (the committed position by default), leaving out the events ``skip`` names; and the position reached."""
    setup = ShopSetup.objects.first()
    if setup is None:
        raise LookupError("the shop is not set up")
    end = committed_position() if up_to is None else up_to
    engine = new_engine(shop_of(plans, setup.timezone, setup.start))
    _catch_up(engine, 0, end, setup.auto_close_days, None if skip is None else (lambda v, p: not skip(v, p)))
    return engine, end
