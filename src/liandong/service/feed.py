"""How a logged event becomes an engine event, and what it changed: the one rule the worker and ``verify`` share.

A log row holds a verb and its fields as the edge gives them (money as "12.30" strings, dates as ISO text)::

    position 41  verb pay  payload {"member": "m7", "sku": "GIFT", "order": "o-9"}  created_at 10:00:00.250 UTC

becomes ``Pay(member="m7", sku="GIFT", order="o-9", at=...)`` applied at its **instant**:

- the payload's own ``at`` (ISO time; without an offset, the shop's time zone) when it has one: imports, the demo
  seed and scenario replays through the API set it, and an ``at`` before the engine's clock is refused, exactly as
  in a scenario file;
- otherwise ``max(created_at, engine clock)``: the clock never goes back, and the instant depends only on the log;
- on a shop with ``auto_close_days``, an event logged after the end of a business day that is not closed yet is held
  at that day's end (23:59:59) until the day's ``close_day`` is applied: the close the worker logs a moment after
  midnight must not arrive after an order of the next day (the engine refuses to close a day before its clock's day).
  Example: day 2026-03-01 not closed, an order logged at 00:00:02 on 03-02 is applied at 2026-03-01 23:59:59; the
  ``close_day`` for 03-01 logged at 00:00:03 closes the day; an order at 00:00:04 is applied at 00:00:04.

A payload the event class refuses (a verb no module registers any more, a field out of range) is not an exception:
it is a refusal (code ``invalid``) naming the field and the value, recorded like any other, changing nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ..engine.campaigns.base import CampaignModule
from ..engine.core import Engine, Shop
from ..engine.errors import Code, Refusal, refuse
from ..engine.events import EVENT_TYPES, ConfigurePlan, Event
from ..engine.ledger import Transaction
from ..engine.money import MoneyError, parse_yuan
from .bulk import json_default

#: Facts after which a member's whole referral subtree may show another team (a promotion with no team above, a
#: re-parenting).
SUBTREE_FACTS = frozenset({"promoted", "reparented"})


class EventRejected(ValueError):
    """The event's fields are invalid. ``field`` and ``value`` name the culprit."""

    def __init__(self, field: str, value: Any, message: str) -> None:
        self.field, self.value, self.message = field, value, message
        super().__init__(f"{field}: {message} (got {value!r})")


def parse_instant(value: Any, tz: dt.tzinfo) -> dt.datetime:
    """An ISO time; without an offset it is in ``tz``."""
    if not isinstance(value, str):
        raise EventRejected("at", value, "an ISO time such as 2026-03-01T10:00:00+08:00")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise EventRejected("at", value, "an ISO time such as 2026-03-01T10:00:00+08:00") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def build_event(verb: str, payload: Mapping[str, Any], default_at: dt.datetime, tz: dt.tzinfo) -> Event:
    """The engine event for ``verb`` and its edge fields, at the payload's ``at`` or else ``default_at``."""
    cls = EVENT_TYPES.get(verb)
    if cls is None:
        raise EventRejected("verb", verb, "unknown event")
    fields = dict(payload)
    at = parse_instant(fields.pop("at"), tz) if "at" in fields else default_at
    for name in cls.money_fields:
        if fields.get(name) is not None:
            try:
                fields[name] = parse_yuan(fields[name])
            except MoneyError as exc:
                raise EventRejected(name, payload[name], str(exc)) from None
    try:
        return cls(at=at, **fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or verb
        raise EventRejected(name, err.get("input"), err["msg"]) from None


def shop_of(plans: dict[str, Any], timezone: str, start: dt.datetime) -> Shop:
    tz = ZoneInfo(timezone)
    return Shop(products=[], plans={k: dict(v or {}) for k, v in plans.items()}, start=start.astimezone(tz),
                timezone=timezone, keep_transactions=True)


def next_close_day(engine: Engine) -> dt.date:
    """The business day the shop closes next: the day after the last closed one, or the clock's day if later."""
    if engine.last_closed_day is None:
        return engine.today
    return max(engine.last_closed_day + dt.timedelta(days=1), engine.today)


def instant(engine: Engine, created_at: dt.datetime, auto_close_days: bool) -> dt.datetime:
    """When a logged event without its own ``at`` is applied (see the module docstring)."""
    at = created_at.astimezone(engine.tz)  # the shop's zone, as every time the engine shows
    if auto_close_days:
        at = min(at, engine.end_of_day(next_close_day(engine)))
    return max(at, engine.clock)


@dataclass(slots=True)
class Applied:
    """What the engine did with one logged event."""

    position: int
    event: Event | None
    refusal: Refusal | None
    transactions: list[Transaction]
    facts: list[dict[str, Any]]
    config_version: int

    @property
    def applied(self) -> bool:
        return self.refusal is None


def apply_logged(engine: Engine, position: int, verb: str, payload: Mapping[str, Any], created_at: dt.datetime,
                 auto_close_days: bool) -> Applied:
    """Convert a log row and apply it; an unparseable payload is refused (code ``invalid``) and changes nothing."""
    try:
        event = build_event(verb, payload, instant(engine, created_at, auto_close_days), engine.tz)
    except EventRejected as exc:
        value = exc.value if isinstance(exc.value, (str, int, type(None))) else str(exc.value)
        return Applied(position, None, refuse(Code.INVALID, exc.field, value, why=exc.message), [], [],
                       engine.config_version)
    outcome = engine.apply(event)
    return Applied(position, event, outcome.refusal, list(outcome.transactions), list(outcome.facts),
                   outcome.config_version)


def jsonable(value: Any) -> Any:
    """``value`` as the database holds it once written as JSON (see ``bulk.json_default``)."""
    return json.loads(json.dumps(value, default=json_default))


# --- what changed ------------------------------------------------------------------------------------------------


@dataclass
class Touched:
    """The projections a batch of events may have changed; the worker rewrites these rows."""

    members: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    withdrawals: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    balances_only: set[str] = field(default_factory=set)
    every_member: bool = False

    def note(self, engine: Engine, value: Any) -> None:
        """Remember every member, order, withdrawal and product id ``value`` names (strings, and strings inside
        lists and mappings). Campaigns are not noted: the worker compares every campaign not yet closed."""
        if value is None:
            return
        if isinstance(value, str):
            if value in engine.members:
                self.members.add(value)
            if value in engine.orders:
                self.orders.add(value)
            if value in engine.withdrawals:
                self.withdrawals.add(value)
            if value in engine.products:
                self.products.add(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                self.note(engine, item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                self.note(engine, item)

    def add(self, engine: Engine, applied: Applied) -> None:
        """Note what one applied event names. Members named by the event, its facts or as the buyer behind a
        transaction may have changed rank or counts; members whose accounts merely moved changed balances."""
        if applied.event is not None:
            self.note(engine, {name: getattr(applied.event, name) for name in type(applied.event).model_fields})
            if isinstance(applied.event, ConfigurePlan) and applied.applied:
                self.every_member = True
        for fact in applied.facts:
            self.note(engine, fact)
            if fact.get("fact") in SUBTREE_FACTS and fact.get("member") in engine.members:
                self.members.update(subtree(engine, str(fact["member"])))
        for txn in applied.transactions:
            self.note(engine, [txn.order, txn.source, txn.ref])
        for txn in applied.transactions:
            self.balances_only.update(owner for (owner, _book), _amount in txn.entries if owner[0] != "@")

    def close(self, engine: Engine) -> None:
        """Add what a change to the named members shows elsewhere: a member's progress lists its seeds (its
        referrals) with their counts, so a named member's referrer and the referrer's referrer are shown again
        too. Then the members whose balances moved."""
        if self.every_member:
            self.members = set(engine.members)
            return
        for member in list(self.members):
            referrer = engine.members[member].referrer
            for _ in range(2):
                if referrer is None:
                    break
                self.members.add(referrer)
                referrer = engine.members[referrer].referrer
        self.members |= self.balances_only


def campaign_modules(engine: Engine) -> list[CampaignModule]:
    return [m for m in engine.modules.values() if isinstance(m, CampaignModule)]


def subtree(engine: Engine, member: str) -> Iterable[str]:
    stack = [member]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(engine.members[current].children)


@dataclass
class LoggedHistory:
    """What a migration that builds a projection for the events already applied replays: a fresh engine of the shop,
    the logged rows ``(position, verb, payload, created_at)`` up to the worker's position (read in chunks), and the
    shop's ``auto_close_days``."""

    engine: Engine
    rows: Iterable[tuple[int, str, dict[str, Any], dt.datetime]]
    auto_close_days: bool


def logged_history(apps: Any, alias: str, chunk: int = 5000) -> LoggedHistory | None:
    """The shop's applied history, read through the migration's historical models (``apps``) on database ``alias``;
    None when nothing was applied yet. Used by store migrations 0011, 0014 and 0015."""
    log_model = apps.get_model("store", "LoggedEvent")
    setup = apps.get_model("store", "ShopSetup").objects.using(alias).filter(id=1).first()
    mark = apps.get_model("store", "WorkerPosition").objects.using(alias).filter(id=1).first()
    if setup is None or mark is None or not mark.position:
        return None
    up_to = mark.position

    def rows() -> Iterable[tuple[int, str, dict[str, Any], dt.datetime]]:
        after = 0
        while after < up_to:
            found = list(log_model.objects.using(alias).filter(position__gt=after, position__lte=up_to)
                         .order_by("position").values_list("position", "verb", "payload", "created_at")[:chunk])
            if not found:
                return
            yield from found
            after = found[-1][0]

    return LoggedHistory(new_engine_of(setup), rows(), setup.auto_close_days)


def new_engine_of(setup: Any) -> Engine:
    """A fresh engine of the shop a ``ShopSetup`` row describes."""
    from ..engine.registry import new_engine

    return new_engine(shop_of(setup.plans, setup.timezone, setup.start))
