"""The shop file: what a shop is before its first event, and ``ensure_shop_setup`` that makes it the ShopSetup row.

    name: 链动 demo shop
    timezone: Asia/Shanghai
    auto_close_days: true            # the worker closes each business day (see service.feed)
    start: "2026-03-01T00:00:00+08:00"   # optional: the engine's clock before event 1 (default: now)
    plans:
      chain21: {help_fund_rate: "0.20"}
    products:
      - {sku: GIFT, price: "699.00", gift_pack: true, name: Gift pack}

On the first start (no ShopSetup row), the plans, time zone, start and ``auto_close_days`` become the ShopSetup row,
and each product is logged as a ``product`` event (keys ``setup:product:<sku>``; at the start when the log is
empty), so products, like everything else, live in the event log. Later changes to plans are ``configure_plan``
events (versioned); the file is not read again. ``LIANDONG_SHOP_FILE`` names the file; the demo shop
(``liandong/service/shop.yaml``) otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.db import transaction
from django.utils import timezone

from ..engine.module import ConfigError
from ..engine.registry import new_engine
from .feed import EventRejected, build_event, parse_instant, shop_of
from .store.models import LoggedEvent, ShopSetup

DEMO_SHOP_FILE = Path(__file__).resolve().parent / "shop.yaml"
TOP_KEYS = {"name", "timezone", "auto_close_days", "start", "plans", "products"}


class ShopFileError(ValueError):
    """A shop file that cannot be used: names the file and the key."""

    def __init__(self, path: str, key: str, message: str) -> None:
        self.path, self.key = path, key
        super().__init__(f"{path}: {key}: {message}")


@dataclass
class ShopFile:
    path: str
    name: str
    timezone: str
    auto_close_days: bool
    start: dt.datetime | None
    plans: dict[str, dict[str, Any]]
    products: list[dict[str, Any]] = field(default_factory=list)


def shop_file_path() -> Path:
    return Path(os.environ.get("LIANDONG_SHOP_FILE") or DEMO_SHOP_FILE)


def load_shop_file(path: str | Path) -> ShopFile:
    where = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ShopFileError(where, "(file)", str(exc).splitlines()[0]) from None
    if not isinstance(doc, dict):
        raise ShopFileError(where, "(file)", "a shop file is a mapping with plans and products")
    for key in doc:
        if key not in TOP_KEYS:
            raise ShopFileError(where, str(key), f"unknown key; known: {', '.join(sorted(TOP_KEYS))}")
    tz_name = str(doc.get("timezone", "Asia/Shanghai"))
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ShopFileError(where, "timezone", f"{tz_name!r} is not a time zone") from None
    start = None
    if doc.get("start") is not None:
        try:
            start = parse_instant(str(doc["start"]), tz)
        except EventRejected as exc:
            raise ShopFileError(where, "start", exc.message) from None
    plans = doc.get("plans") or {}
    if not isinstance(plans, dict):
        raise ShopFileError(where, "plans", "a mapping from plan kind to its config")
    shop = ShopFile(where, str(doc.get("name", "")), tz_name, bool(doc.get("auto_close_days", False)), start,
                    {str(k): dict(v or {}) for k, v in plans.items()}, list(doc.get("products") or []))
    _check(shop, tz)
    return shop


def _check(shop: ShopFile, tz: dt.tzinfo) -> None:
    """The plans and products as the engine will take them: a product the engine would refuse (a gift pack priced
    below a reward it pays) is refused here, naming it, instead of being logged and refused."""
    now = dt.datetime.now(dt.UTC)
    try:
        engine = new_engine(shop_of(shop.plans, shop.timezone, now))
    except ConfigError as exc:
        key = exc.problems[0][0] if exc.problems else exc.plan
        raise ShopFileError(shop.path, f"plans.{exc.plan}.{key}", str(exc)) from None
    for i, product in enumerate(shop.products):
        if not isinstance(product, dict) or "sku" not in product:
            raise ShopFileError(shop.path, f"products[{i}]", "a product is a mapping with sku and price")
        try:
            event = build_event("product", product, now, tz)
        except EventRejected as exc:
            raise ShopFileError(shop.path, f"products[{i}].{exc.field}", exc.message) from None
        refusal = engine.apply(event.model_copy(update={"at": max(now, engine.clock)})).refusal
        if refusal is not None:
            raise ShopFileError(shop.path, f"products[{i}].{refusal.field}", refusal.reason)


def ensure_shop_setup(path: str | Path | None = None, start: dt.datetime | None = None) -> ShopSetup:
    """The ShopSetup row; on the first start, made from the shop file (and its products logged)."""
    existing = ShopSetup.objects.filter(id=1).first()
    if existing is not None:
        return existing
    from .log import append_event

    shop = load_shop_file(path or shop_file_path())
    begin = start or shop.start or timezone.now()
    with transaction.atomic():
        setup, created = ShopSetup.objects.get_or_create(
            id=1, defaults={"name": shop.name, "plans": shop.plans, "timezone": shop.timezone, "start": begin,
                            "auto_close_days": shop.auto_close_days})
        if created:
            fresh_log = not LoggedEvent.objects.exists()
            for product in shop.products:
                # On a fresh log the products exist from the start; after events already logged, they come next.
                fields = {**product, "at": begin.isoformat()} if fresh_log else dict(product)
                body = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
                append_event("product", fields, key=f"setup:product:{product['sku']}",
                             request_hash=hashlib.sha256(body).hexdigest(), actor="system")
    return setup
