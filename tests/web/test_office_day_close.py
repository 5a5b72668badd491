"""The day's close in the back office: each business day closed or not, automatic (the worker's ``system`` close)
or by whom, what the close shared (from the ledger transactions of the close event) and the points NAV; the
"Close day" button logging ``close_day`` through office_act, with its audit row; who may not close cannot."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from api_client import Register, buy, make_shop
from django.db.models import Sum
from django.utils import timezone
from office_client import cell, messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import EventOutcome, LedgerEntry, LoggedEvent
from liandong.service.worker import append_system_event, drain
from liandong.web.accounts.models import AuditLog
from liandong.web.api import reads

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """chain21 with points, open two days ago; the first day closed by the worker's automatic close (logged as it
    logs it); then alice and bob, her referral, buy a gift pack today (points are minted)."""
    make_shop(plans={"chain21": {}, "points": {}}, start=timezone.now() - dt.timedelta(days=2))
    first = reads.today() - dt.timedelta(days=2)
    append_system_event("close_day", {"day": first.isoformat()}, f"system:close_day:{first.isoformat()}")
    drain()
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    buy(bob)
    return {"alice": alice, "bob": bob, "first": first, "today": reads.today(),
            "owner": office_browser("owner", "owen")}


def days_listed(html: str) -> list[str]:
    return re.findall(r'<tr data-day="([\d-]+)"', html)


def test_the_days_are_listed_newest_first_closed_or_not_and_how(shop: dict[str, Any]) -> None:
    status, html = page(shop["owner"], "/office/days", "en")
    assert status == 200
    today, first = shop["today"], shop["first"]
    assert days_listed(html) == [d.isoformat() for d in (today, today - dt.timedelta(days=1), first)]
    closed = row_of(html, "day", first.isoformat())
    assert 'data-closed="yes"' in closed and 'data-how="automatic"' in closed
    assert cell(closed, "closed").startswith("closed automatically")
    assert 'data-closed="no"' in row_of(html, "day", today.isoformat())
    assert f'data-close-day="{today.isoformat()}"' in html
    assert f'data-close-day="{first.isoformat()}"' not in html  # closed: no button
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert f'data-close-day="{yesterday}"' not in html  # behind the engine's clock (today's orders): no button


def test_closing_a_day_shows_what_it_shared_from_the_ledger(shop: dict[str, Any]) -> None:
    today = shop["today"].isoformat()
    status, html = post(shop["owner"], "/office/days/close", day=today)
    assert status == 200 and messages_of(html)[0][0] == "success", messages_of(html)
    row = row_of(html, "day", today)
    assert 'data-how="manual"' in row and "closed by owen" in cell(row, "closed")
    logged = LoggedEvent.objects.get(verb="close_day", payload__day=today)
    assert logged.actor == "operator:owen" and EventOutcome.objects.get(event=logged).applied
    released = (LedgerEntry.objects.filter(transaction__event=logged, transaction__rule="points_release",
                                           unit="fen", amount__gt=0).aggregate(total=Sum("amount"))["total"])
    assert released and re.search(rf'data-amount="points_release">¥{released // 100}\.{released % 100:02d}<', row)
    nav = next(f["nav"] for f in EventOutcome.objects.get(event=logged).facts if f["fact"] == "points_released")
    assert cell(row, "nav") == nav and nav.startswith("1.")
    audit = AuditLog.objects.get(action="close_day")
    assert audit.actor == "owen" and audit.target == today
    assert audit.before == {"day": today, "closed": False} and audit.after["closed"] is True
    assert f'data-close-day="{today}"' not in html


def test_a_day_after_today_or_not_a_day_is_refused_before_anything_is_logged(shop: dict[str, Any]) -> None:
    before = LoggedEvent.objects.count()
    tomorrow = (shop["today"] + dt.timedelta(days=1)).isoformat()
    for day in (tomorrow, "2026-02-30", "x"):
        _status, html = post(shop["owner"], "/office/days/close", day=day)
        assert messages_of(html)[0][0] == "error", day
    assert LoggedEvent.objects.count() == before


def test_a_day_behind_the_engines_clock_is_refused_by_the_engine(shop: dict[str, Any]) -> None:
    yesterday = (shop["today"] - dt.timedelta(days=1)).isoformat()
    _status, html = post(shop["owner"], "/office/days/close", day=yesterday)
    kind, text = messages_of(html)[0]
    assert kind == "error" and yesterday in text


def test_the_page_is_in_chinese_too(shop: dict[str, Any]) -> None:
    status, html = page(shop["owner"], "/office/days", "zh-hans")
    assert status == 200 and "data-days" in html


@pytest.mark.parametrize("role", ["read-only", "finance"])
def test_who_may_not_close_a_day_cannot(shop: dict[str, Any], role: str) -> None:
    browser = office_browser(role)
    before = LoggedEvent.objects.count()
    r = browser.post("/office/days/close", {"key": "ab" * 16, "day": shop["today"].isoformat()})
    assert r.status_code == 403 and LoggedEvent.objects.count() == before
    if role == "read-only":
        html = page(browser, "/office/days", "en")[1]
        assert "data-days" in html and "data-close-day" not in html
