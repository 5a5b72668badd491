"""The demo shop of ``liandong run``: seeded through the log, applied by the worker, nothing refused, verifiable."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from liandong.service.feed import build_event
from liandong.service.log import append_event
from liandong.service.store.models import EventOutcome, LoggedEvent, MemberState, ShopSetup, WithdrawalState
from liandong.service.verify import verify
from liandong.service.worker import build_engine, drain
from liandong.web.demo import (
    DEMO_PASSWORD,
    OWES_REASON,
    REJECT_REASONS,
    demo_events,
    ensure_demo_logins,
    seed_demo,
)

pytestmark = pytest.mark.django_db


def test_the_demo_seed_builds_a_week_of_a_shop_that_verifies(db: None) -> None:
    logged = seed_demo(members=120, days=4, seed=11, today=dt.date(2026, 3, 10))
    assert drain() == logged + 4  # and the shop file's four products
    verbs = Counter(LoggedEvent.objects.values_list("verb", flat=True))
    assert verbs["join"] == 120 and verbs["close_day"] == 4
    assert verbs["pay"] > 100 and verbs["refund"] > 0 and verbs["withdraw"] > 0
    assert not EventOutcome.objects.filter(applied=False).exists()
    ranks = Counter(MemberState.objects.values_list("rank", flat=True))
    assert ranks["partner"] > 0 and ranks["agent"] > 0 and ranks["member"] > 0
    assert {"approved", "paid"} & set(WithdrawalState.objects.values_list("status", flat=True))
    rejected = WithdrawalState.objects.filter(status="rejected")
    assert rejected.exists()  # every rejection says why, in words a member reads
    assert set(rejected.values_list("reason", flat=True)) <= {*REJECT_REASONS, OWES_REASON}
    assert verify().differences == []
    assert seed_demo(members=120, days=4, seed=11) == 0  # only an empty shop is seeded


def test_the_same_seed_gives_the_same_shop(db: None) -> None:
    seed_demo(members=40, days=2, seed=5, today=dt.date(2026, 3, 10))
    logged = list(LoggedEvent.objects.order_by("position").values_list("verb", "payload"))
    products, seeded = logged[:4], logged[4:]
    engine = build_engine(ShopSetup.objects.get())
    for verb, payload in products:
        engine.apply(build_event(verb, payload, engine.clock, engine.tz))
    assert demo_events(engine, members=40, days=2, seed=5).events == seeded


def test_demo_logins_name_members_of_each_rank(db: None) -> None:
    seed_demo(members=80, days=3, seed=3, today=dt.date(2026, 3, 10))
    drain()
    logins = ensure_demo_logins()
    roles = [login.role.split()[0] for login in logins]
    assert roles == ["operator", "partner", "partner", "agent", "member"]
    assert all(login.password == DEMO_PASSWORD for login in logins)
    assert ensure_demo_logins() == logins  # idempotent


def _log(verb: str, **fields: object) -> None:
    append_event(verb, dict(fields), key=f"test:{verb}:{sorted(fields.items())}", request_hash="x", actor="test")


def test_the_demo_starts_again_after_its_partners_withdrew_everything(db: None) -> None:
    """A second start re-picks nobody: the richest partners changed after the first two withdrew all they had,
    and the demo usernames keep their members (before: UNIQUE constraint failed: accounts_memberlogin.user_id)."""
    seed_demo(members=80, days=3, seed=3, today=dt.date(2026, 3, 10))
    drain()
    first = ensure_demo_logins()
    partners = [login.member for login in first if login.role.startswith("partner")]
    for n, member in enumerate(partners):
        available = MemberState.objects.get(member=member).view["available"]
        _log("withdraw", member=member, amount=available, withdrawal=f"test-w{n}", payee="alipay:1")
        _log("approve_withdrawal", withdrawal=f"test-w{n}")
    drain()
    assert WithdrawalState.objects.filter(withdrawal__startswith="test-w", status="approved").count() == 2
    assert seed_demo(members=80, days=3, seed=3) == 0  # the second start: nothing seeded, the same logins
    drain()
    assert ensure_demo_logins() == first
