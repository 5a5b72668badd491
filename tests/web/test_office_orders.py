"""Orders and refunds in the back office: the list (filters, keyset pages), an order's page (its line and what it
paid whom, from the ledger), the refund page showing what the engine would take back from whom before confirming
(a dry run: nothing logged), and the refund through office_act changing the engine's state as the API's does, with
its audit row."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_client import Register, buy, make_shop
from django.utils import timezone
from office_client import cell, messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import Balance, LoggedEvent, OrderState
from liandong.web.accounts.models import AuditLog
from liandong.web.office.views import orders as orders_view

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """chain21: alice buys a gift pack; bob, her referral, buys one (alice is credited the 100.00 direct reward)
    and a tea."""
    make_shop(plans={"chain21": {}}, start=timezone.now() - timezone.timedelta(days=1))
    alice = register_member("alice")
    alice_order = buy(alice)
    bob = register_member("bob", inviter=alice)
    bob_order = buy(bob)
    tea = buy(bob, "TEA")
    return {"alice": alice, "bob": bob, "alice_order": alice_order, "bob_order": bob_order, "tea": tea,
            "owner": office_browser("owner", "owen")}


def listed(browser: Any, query: str) -> list[str]:
    return re.findall(r'<tr data-order="([^"]+)"', page(browser, query, "en")[1])


def available(member: str | None) -> int:
    return Balance.objects.get(owner=member, book="available").amount


def test_the_list_shows_orders_newest_first_with_names_and_filters(shop: dict[str, Any]) -> None:
    owner = shop["owner"]
    assert listed(owner, "/office/orders") == [shop["tea"], shop["bob_order"], shop["alice_order"]]
    status, html = page(owner, "/office/orders", "en")
    row = row_of(html, "order", shop["bob_order"])
    assert (cell(row, "name"), cell(row, "amount"), cell(row, "status")) == ("bob", "¥699.00", "Paid")
    assert shop["bob"].member not in html.replace(f'data-order="{shop["bob_order"]}"', "")  # people by name
    assert listed(owner, "/office/orders?member=bob") == [shop["tea"], shop["bob_order"]]
    assert listed(owner, "/office/orders?status=refunded") == []
    today = timezone.localdate().isoformat()
    assert len(listed(owner, f"/office/orders?from={today}&to={today}")) == 3
    for query, field in (("status=lost", "status"), ("from=2026-13-01", "from"), ("after=nope", "after")):
        status, html = page(owner, f"/office/orders?{query}", "en")
        assert status == 400 and f'data-bad-filter="{field}"' in html, query


def test_the_list_pages_by_keyset(shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(orders_view, "PAGE_SIZE", 2)
    owner = shop["owner"]
    html = page(owner, "/office/orders", "en")[1]
    assert re.findall(r'<tr data-order="([^"]+)"', html) == [shop["tea"], shop["bob_order"]]
    after = re.search(r'after=([^"&]+)" rel="next"', html)
    assert after is not None and after.group(1) == shop["bob_order"]
    assert listed(owner, f"/office/orders?after={after.group(1)}") == [shop["alice_order"]]


def test_an_orders_page_shows_what_it_paid_whom(shop: dict[str, Any]) -> None:
    status, html = page(shop["owner"], f"/office/orders/{shop['bob_order']}", "en")
    assert status == 200 and 'data-lines' in html
    paid = row_of(html, "paid", f"{shop['alice'].member}:available")
    assert "alice" in paid and cell(paid, "amount") == "+¥100.00"
    assert 'data-rule="sale"' in html and 'data-rule="direct_reward"' in html
    assert page(shop["owner"], "/office/orders/nope", "en")[0] == 404


def test_the_refund_page_shows_what_it_takes_back_before_anything_is_logged(shop: dict[str, Any]) -> None:
    before = LoggedEvent.objects.count()
    status, html = page(shop["owner"], f"/office/orders/{shop['bob_order']}/refund", "en")
    assert status == 200
    take = row_of(html, "take", f"{shop['alice'].member}:available")
    assert cell(take, "who") == "alice" and cell(take, "amount") == "-¥100.00"
    assert cell(row_of(html, "take", "@platform:sales"), "amount") == "-¥699.00"
    assert "data-confirm-refund" in html
    assert LoggedEvent.objects.count() == before and not AuditLog.objects.exists()  # a dry run logs nothing
    assert available(shop["alice"].member) == 10000


def test_a_refund_through_the_office_takes_back_what_the_preview_said(shop: dict[str, Any]) -> None:
    owner, order = shop["owner"], shop["bob_order"]
    preview = page(owner, f"/office/orders/{order}/refund", "en")[1]
    expected = int(re.sub(r"[^\d]", "", cell(row_of(preview, "take", f"{shop['alice'].member}:available"),
                                               "amount")))
    alice_before = available(shop["alice"].member)
    status, html = post(owner, f"/office/orders/{order}/refund")
    assert status == 200 and messages_of(html)[0][0] == "success", messages_of(html)
    assert OrderState.objects.get(order=order).refunded
    assert alice_before - available(shop["alice"].member) == expected == 10000
    row = AuditLog.objects.get(action="refund")
    assert row.actor == "owen" and row.target == order
    assert row.before["status"] == "paid" and row.after["status"] == "refunded"
    assert LoggedEvent.objects.get(position=row.event_position).verb == "refund"
    again = page(owner, f"/office/orders/{order}/refund", "en")[1]
    assert "data-no-refund" in again and "data-confirm-refund" not in again
    status, html = post(owner, f"/office/orders/{order}/refund")  # the engine refuses a second refund
    assert messages_of(html)[0][0] == "error"


def test_the_refund_preview_is_in_chinese_too(shop: dict[str, Any]) -> None:
    status, html = page(shop["owner"], f"/office/orders/{shop['bob_order']}/refund", "zh-hans")
    assert status == 200 and "data-take-back" in html


@pytest.mark.parametrize("role", ["read-only", "finance"])
def test_who_may_not_refund_cannot(shop: dict[str, Any], role: str) -> None:
    browser = office_browser(role)
    before = LoggedEvent.objects.count()
    r = browser.post(f"/office/orders/{shop['bob_order']}/refund", {"key": "ab" * 16})
    assert r.status_code == 403
    assert LoggedEvent.objects.count() == before and not OrderState.objects.get(order=shop["bob_order"]).refunded
    if role == "read-only":
        html = page(browser, f"/office/orders/{shop['bob_order']}/refund", "en")[1]
        assert "data-take-back" in html and "data-confirm-refund" not in html


def test_the_preview_is_exactly_what_the_refund_then_posts(shop: dict[str, Any]) -> None:
    from liandong.service.store.models import LedgerTransaction
    from liandong.web.office.order_reads import refund_preview

    order = shop["bob_order"]
    first, second = refund_preview(order), refund_preview(order)  # a dry run changes nothing, not even its cache
    previewed = [(m.rule, m.reverses, [(line.owner, line.book, line.amount) for line in m.lines])
                 for m in first.movements]
    assert previewed == [(m.rule, m.reverses, [(line.owner, line.book, line.amount) for line in m.lines])
                         for m in second.movements]
    assert previewed and {rule for rule, _r, _l in previewed} >= {"sale", "direct_reward"}
    post(shop["owner"], f"/office/orders/{order}/refund")
    refund = LoggedEvent.objects.get(verb="refund")
    posted = [(t.rule, t.reverses, [(e.owner, e.book, e.amount) for e in t.entries.order_by("id")])
              for t in LedgerTransaction.objects.filter(event=refund).order_by("id")]
    assert posted == previewed


def test_the_dry_run_follows_the_log_after_its_first_replay(shop: dict[str, Any], register_member: Register) -> None:
    """The replay is cached per process: a later preview catches up with the events applied since."""
    from liandong.web.office.order_reads import refund_preview

    assert refund_preview(shop["bob_order"]).refusal is None
    dora = register_member("dora", inviter=shop["bob"])
    later = buy(dora)
    preview = refund_preview(later)
    assert preview.refusal is None
    assert {(r["owner"], r["amount"]) for r in preview.members} == {(shop["bob"].member, -10000)}
    post(shop["owner"], f"/office/orders/{shop['bob_order']}/refund")
    assert refund_preview(shop["bob_order"]).code == "order_refunded"  # the refund applied: the engine says so
