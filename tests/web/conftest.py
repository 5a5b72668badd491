"""Database fixtures for the service's tests, on SQLite (the default) and on PostgreSQL (``DATABASE_URL``).

``make test`` runs the tests under tests/web twice: on SQLite, and on PostgreSQL with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`` (after ``scripts/ensure-postgres``). pytest-django creates
the test database (``test_test`` on PostgreSQL, a file under ``LIANDONG_HOME`` on SQLite) with every migration, so
the ledger's triggers are there. Tests that commit (``transactional_db``: threads) are emptied by Django's flush,
which the append-only triggers allow only inside ``erasing_allowed()``: the session fixture below wraps it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management.commands import flush
from django.db import connection
from django.utils import timezone

from liandong.service.store.guard import erasing_allowed
from liandong.service.store.models import LoggedEvent, ShopSetup
from liandong.service.worker import drain

#: The products most service tests sell: a 699.00 gift pack and a 59.00 tea that is not one.
SHOP_PRODUCTS: list[dict[str, Any]] = [
    {"sku": "GIFT", "price": "699.00", "gift_pack": True},
    {"sku": "TEA", "price": "59.00"},
]

_keys = itertools.count(1)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_triggers() -> Iterator[None]:
    """Django's flush (after a ``transactional_db`` test) deletes the log and the ledger: let it, and only it."""
    original = flush.Command.handle

    def handle(self: flush.Command, **options: Any) -> Any:
        with erasing_allowed(options.get("database") or "default"):
            return original(self, **options)

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]


def backend() -> str:
    return connection.vendor


LogEvent = Callable[..., LoggedEvent]


def log_event(verb: str, key: str | None = None, **fields: Any) -> LoggedEvent:
    """Append one event through the store's service (as the API does), with a fresh idempotency key."""
    from liandong.service.log import append_event

    key = key or f"test:{verb}:{next(_keys)}"
    body = json.dumps({"verb": verb, **fields}, sort_keys=True, default=str).encode()
    return append_event(verb, fields, key=key, request_hash=hashlib.sha256(body).hexdigest(), actor="test")


def make_shop(plans: dict[str, Any] | None = None, start: dt.datetime | None = None,
              products: list[dict[str, Any]] | None = None, auto_close_days: bool = False) -> dt.datetime:
    """A shop running ``plans`` (chain21 by default) with ``products`` logged at its start; returns the start."""
    begin = start or timezone.now() - dt.timedelta(hours=1)
    ShopSetup.objects.update_or_create(id=1, defaults={
        "plans": {"chain21": {}} if plans is None else plans, "timezone": "Asia/Shanghai", "start": begin,
        "auto_close_days": auto_close_days})
    for product in SHOP_PRODUCTS if products is None else products:
        log_event("product", key=f"test:product:{product['sku']}", at=begin.isoformat(), **product)
    return begin


@pytest.fixture(name="log_event")
def log_event_fixture() -> LogEvent:
    """``log_event(verb, key=None, **fields)``: append an event as the API does."""
    return log_event


@pytest.fixture
def shop_maker(db: None) -> Callable[..., dt.datetime]:
    """``shop_maker(plans=None, start=None, products=None, auto_close_days=False)``: set up a shop (not applied)."""
    return make_shop


@pytest.fixture
def shop(db: None) -> dt.datetime:
    """A chain21 shop selling GIFT and TEA, started an hour ago, its products applied."""
    begin = make_shop()
    drain()
    return begin


@pytest.fixture
def committed_shop(transactional_db: None) -> dt.datetime:
    """The same shop in a database whose writes really commit (for threads and other connections)."""
    begin = make_shop()
    drain()
    return begin


@pytest.fixture
def chain21_tree() -> Callable[[], None]:
    """Log A (no referrer), B and C referred by A, and gift packs for all three: A becomes a partner."""

    def log_tree() -> None:
        log_event("join", member="A")
        log_event("join", member="B", referrer="A")
        log_event("join", member="C", referrer="A")
        for n, member in enumerate("ABC", start=1):
            log_event("pay", member=member, sku="GIFT", order=f"o{n}")

    return log_tree
