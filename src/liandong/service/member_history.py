"""A member's history as the back office shows it: the engine's facts about ranks, referrers, bindings and promoter
decisions, one ``MemberHistory`` row each, written by the worker with the batch's outcomes.

    fact {"fact": "bound", "member": "B", "promoter": "P", "via": "poster", "previous": None} of event 41 at t
    -> ("B", 41, t, "bound", {"promoter": "P", "via": "poster", "previous": None})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

#: The facts kept, each about its ``member`` field (the rest of the fact is the row's detail).
KINDS = frozenset({"rank_gained", "promoted", "rank_lost", "bound", "reparented", "promoter_approved",
                   "promoter_rejected", "promoter_revoked"})
COLUMNS = ("member", "position", "at", "kind", "detail")


def history_rows(items: Iterable[tuple[int, dt.datetime, list[dict[str, Any]]]]) -> list[tuple[Any, ...]]:
    """The rows of ``(position, instant, facts)`` of applied events."""
    rows: list[tuple[Any, ...]] = []
    for position, at, facts in items:
        for fact in facts:
            kind = fact.get("fact")
            member = fact.get("member")
            if kind in KINDS and isinstance(member, str):
                detail = {k: v for k, v in fact.items() if k not in ("fact", "member")}
                rows.append((member, position, at, kind, detail))
    return rows
