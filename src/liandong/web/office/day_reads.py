"""What the day's close page reads: each business day of the shop, whether a ``close_day`` of it was applied, by
whom (the worker's automatic close is logged by ``system``; an operator's by ``operator:<username>``), and what it
shared — the ledger transactions the close event posted, summed by rule (bonus pool shares, settlements, points
released, help funds released) — and the points NAV the close published (its ``points_released`` fact). Read from
the log's outcomes and the ledger only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils.translation import get_language

from ...engine.labels import label
from ...engine.money import format_fen
from ...service.store.models import EventOutcome, LedgerEntry, LedgerTransaction, ShopSetup
from ..api import reads as api_reads

DAYS_PER_PAGE = 31


@dataclass
class Shared:
    """What one rule of a close moved: to how many members, the money (fen) and, for points, the points
    (hundredths) it moved."""

    rule: str
    label: str
    members: int
    amount: int
    points: int

    @property
    def points_shown(self) -> str:
        return format_fen(self.points)


@dataclass
class Close:
    day: dt.date
    position: int
    actor: str
    automatic: bool
    applied_at: dt.datetime
    nav: str | None = None
    shared: list[Shared] = field(default_factory=list)

    @property
    def operator(self) -> str:
        return self.actor.split(":", 1)[1] if self.actor.startswith("operator:") else self.actor


def first_day() -> dt.date:
    setup = ShopSetup.objects.first()
    tz = api_reads.wording_engine().tz
    return setup.start.astimezone(tz).date() if setup else api_reads.today()


def closes(days: list[dt.date]) -> dict[dt.date, Close]:
    """The applied close of each of ``days`` that has one, with what it shared."""
    wanted = {d.isoformat() for d in days}
    found = (EventOutcome.objects.filter(applied=True, event__verb="close_day", event__payload__day__in=wanted)
             .select_related("event").order_by("event_id"))
    out: dict[dt.date, Close] = {}
    for outcome in found:
        logged = outcome.event
        day = dt.date.fromisoformat(logged.payload["day"])
        nav = next((f.get("nav") for f in outcome.facts or [] if f.get("fact") == "points_released"), None)
        out[day] = Close(day, logged.position, logged.actor, logged.actor == "system", outcome.applied_at,
                         str(nav) if nav is not None else None)
    _add_shares(out)
    return out


def _add_shares(found: dict[dt.date, Close]) -> None:
    by_position = {c.position: c for c in found.values()}
    txns = dict(LedgerTransaction.objects.filter(event_id__in=list(by_position)).values_list("id", "event_id"))
    lang = "zh" if (get_language() or "zh-hans").startswith("zh") else "en"
    rules = dict(LedgerTransaction.objects.filter(id__in=list(txns)).values_list("id", "rule"))
    sums: dict[tuple[int, str], dict[str, Any]] = defaultdict(lambda: {"members": set(), "amount": 0, "points": 0})
    for txn, owner, unit, amount in (LedgerEntry.objects.filter(transaction_id__in=list(txns))
                                     .values_list("transaction_id", "owner", "unit", "amount")):
        row = sums[(txns[txn], rules[txn])]
        if not owner.startswith("@"):
            row["members"].add(owner)
        if amount > 0:
            row["amount" if unit == "fen" else "points"] += amount
    for (position, rule), row in sorted(sums.items(), key=lambda item: item[0]):
        by_position[position].shared.append(Shared(rule, label(rule, lang), len(row["members"]), row["amount"],
                                                   row["points"]))


def days_page(before: dt.date | None) -> tuple[list[dt.date], dt.date | None]:
    """The shop's business days, newest first (today, or the day before ``before``), a page at a time; and the
    ``before`` of the next (older) page, None on the last."""
    start, today = first_day(), api_reads.today()
    top = min(today, before - dt.timedelta(days=1)) if before else today
    days: list[dt.date] = []
    day = top
    while day >= start and len(days) < DAYS_PER_PAGE:
        days.append(day)
        day -= dt.timedelta(days=1)
    return days, (days[-1] if days and days[-1] > start else None)


def last_closed_day() -> dt.date | None:
    days = (EventOutcome.objects.filter(applied=True, event__verb="close_day")
            .values_list("event__payload__day", flat=True))
    found = [dt.date.fromisoformat(str(d)) for d in days if d]
    return max(found) if found else None


def clock_floor_day() -> dt.date | None:
    """A day the engine's clock has certainly reached: that of the latest ledger transaction (the instant of the
    event that posted it). A close of an earlier day is the engine's ``day_before_clock``: the page offers none."""
    latest = LedgerTransaction.objects.aggregate(latest=Max("at"))["latest"]
    return latest.astimezone(api_reads.wording_engine().tz).date() if latest else None


def day_snapshot(day: dt.date) -> dict[str, Any]:
    """The day as the audit row keeps it, before and after: closed or not, by which event, what it shared."""
    close = closes([day]).get(day)
    if close is None:
        return {"day": day.isoformat(), "closed": False}
    return {"day": day.isoformat(), "closed": True, "position": close.position, "actor": close.actor,
            "nav": close.nav, "shared": [{"rule": s.rule, "members": s.members, "amount": s.amount,
                                          "points": s.points} for s in close.shared]}
