"""Campaigns with draws in the service's database, for the draw page's tests (``tests/web/test_pages_draws.py``) and
the browser's (``tests/browser/test_draw_verify.py``): events logged as the API logs them, then applied by the worker.

Members have engine ids that look nothing like their display names (``m7q2…``), so a test can tell whether a page
shows an id; some have a login (a username, the display name), one has none (shown as "Member No. N")."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from liandong.service.log import append_event
from liandong.service.store.models import ShopSetup
from liandong.service.worker import drain
from liandong.web.accounts.models import MemberLogin

SECRET = "00" * 31 + "01"
#: member id -> username (None: a member without a login here)
MEMBERS: dict[str, str | None] = {
    "m7q2ka": "alice", "m7q2kb": "bob", "m7q2kc": "carol", "m7q2kd": "dave", "m7q2ke": None, "m7q2kf": "frank",
}
#: their invite codes: never on a public page
INVITE_CODES = {member: f"INV{n:04d}X" for n, member in enumerate(MEMBERS)}
PRODUCTS = [{"sku": "TEA", "price": "99.00", "red_envelope": "10.00"}, {"sku": "BOX", "price": "99.00"}]

_keys = itertools.count(1)


def log(verb: str, **fields: Any) -> None:
    key = f"draws:{verb}:{next(_keys)}"
    body = json.dumps({"verb": verb, **fields}, sort_keys=True, default=str).encode()
    append_event(verb, fields, key=key, request_hash=hashlib.sha256(body).hexdigest(), actor="test")


def shop_with_members() -> dt.datetime:
    """A shop (no plan) selling TEA (with a 10.00 red envelope) and BOX, and the members of ``MEMBERS``."""
    begin = timezone.now() - dt.timedelta(hours=1)
    ShopSetup.objects.update_or_create(id=1, defaults={"plans": {}, "timezone": "Asia/Shanghai", "start": begin})
    for product in PRODUCTS:
        log("product", at=begin.isoformat(), **product)
    users = get_user_model()
    for member, username in MEMBERS.items():
        log("join", member=member, birth_date="1990-05-01")
        if username is not None:
            user = users.objects.create_user(username=username, password="pw-not-used-1",
                                             email=f"{username}@example.com")
            MemberLogin.objects.create(user=user, member=member, invite_code=INVITE_CODES[member])
    drain()
    return begin


def group_buy(campaign: str = "gb1", secret: str = SECRET, fill: bool = True, close: bool = False) -> None:
    """A group-buy lottery (groups of 5, 2 winners): group g1 started by alice, joined by the next four members
    (filled: drawn) or by two (still open)."""
    log("create_group_buy", campaign=campaign, params={"sku": "TEA", "secret": secret})
    members = list(MEMBERS)
    log("start_group_buy", member=members[0], campaign=campaign, group=f"{campaign}-g1", order=f"ord-{campaign}-1")
    for n, member in enumerate(members[1:5 if fill else 3], start=2):
        log("join_group_buy", member=member, group=f"{campaign}-g1", order=f"ord-{campaign}-{n}")
    if close:
        log("close_group_buy", campaign=campaign)
    drain()


def red_envelope(campaign: str = "re1", secret: str = SECRET, split: str = "random", close: bool = True) -> None:
    """A red-envelope campaign with two groups of 3 (1 winner): r1 private and drawn, r2 open and not full."""
    log("create_red_envelope", campaign=campaign, params={"sku": "TEA", "secret": secret})
    m = list(MEMBERS)
    log("start_red_envelope", member=m[0], campaign=campaign, group="r1", size=3, winners=1, split=split,
        visibility="private", invite_code="SECRETCODE9", order="ord-r1-1")
    log("join_red_envelope", member=m[1], group="r1", invite_code="SECRETCODE9", order="ord-r1-2")
    log("join_red_envelope", member=m[4], group="r1", invite_code="SECRETCODE9", order="ord-r1-3")
    log("start_red_envelope", member=m[2], campaign=campaign, group="r2", size=3, winners=1, split="equal",
        order="ord-r2-1")
    if close:
        log("close_red_envelope", campaign=campaign)
    drain()


def blind_box(campaign: str = "b1", secret: str = SECRET, opens: int = 0, starter: str = "m7q2ka") -> None:
    """``starter`` (alice) starts box set ``campaign`` (window 7..24); the others open ``opens`` boxes in turn
    (with the rulebook's secret the prize is in box 10: 10 opens close the set)."""
    log("start_blind_box", member=starter, campaign=campaign, order=f"ord-{campaign}-start",
        params={"prize_sku": "BOX", "secret": secret})
    openers = [m for m in MEMBERS if m != starter]
    for n in range(opens):
        log("open_blind_box", member=openers[n % len(openers)], campaign=campaign, order=f"ord-{campaign}-{n}")
    drain()


def presale(campaign: str = "p1", secret: str = SECRET, joins: int = 5, target: int = 6) -> None:
    """A pre-sale of TEA drawing one free participant every 2 joins and closing at ``target`` participants; the
    members of ``MEMBERS`` join in order (``joins`` of them)."""
    deadline = (timezone.now() + dt.timedelta(days=7)).isoformat()
    log("create_presale", campaign=campaign, params={"sku": "TEA", "price": "99.00", "tier_size": 3,
                                                      "tier_rebate": "5.00", "max_tiers": 2, "free_every": 2,
                                                      "target": target, "deadline": deadline, "secret": secret})
    for n, member in enumerate(list(MEMBERS)[:joins]):
        log("join_presale", member=member, campaign=campaign, order=f"ord-{campaign}-{n}")
    drain()


def draft_group_buy(campaign: str = "gb-draft") -> None:
    """A draft (not published): no page shows it."""
    log("create_group_buy", campaign=campaign, params={"sku": "TEA", "secret": SECRET}, publish=False)
    drain()
