"""What a member does on the phone, in Chromium, on a live server with the engine's worker: join through an invite
link and become an agent, see a referral's reward arrive on an open page without a reload (the live income notice:
``#notice-toast`` shows its text, ``#notice-badge`` the unread count), withdraw, page through and search a
500-member team, switch the language.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import pytest
from api_client import PASSWORD
from django.contrib.auth.models import User
from django.db import transaction
from live_pages import Live, MemberPage, log_in_through_the_page

from every_page import DemoShop, build_demo_shop
from liandong.engine.money import format_fen, parse_yuan
from liandong.service.store.models import LoggedEvent, MemberNotice, MemberState
from liandong.web.accounts.models import MemberLogin
from liandong.web.api import reads
from liandong.web.pages.views.team import PAGE_SIZE


@pytest.fixture
def demo_shop(live: Live) -> DemoShop:
    """The demo shop of tests/every_page.py, made before any page opens (so applied in its own requests)."""
    return build_demo_shop()


def no_problems(*pages: MemberPage) -> None:
    for opened in pages:
        assert opened.problems == [], opened.problems


def test_a_new_member_joins_through_an_invite_link_buys_the_gift_pack_and_is_an_agent(
        live: Live, demo_shop: DemoShop) -> None:
    ann = demo_shop.ann
    visitor = live.open(None, f"/join/{ann.invite_code}")
    page = visitor.page
    assert page.locator("[data-inviter]").inner_text() == "ann"
    assert page.input_value("#r-invite") == ann.invite_code
    page.fill("#r-username", "newcomer")
    page.fill("#r-password", PASSWORD)
    page.click("text=注册并登录")
    page.wait_for_url("**/me")
    assert page.locator("[data-username]").inner_text() == "newcomer"
    assert page.locator("[data-rank]").first.get_attribute("data-rank") == "member"
    member = MemberLogin.objects.get(user__username="newcomer").member
    assert MemberState.objects.get(member=member).referrer == ann.member  # bound to the inviter

    visitor.goto("/products/GIFT")
    assert page.locator("[data-gift-pack]").is_visible()
    page.click("form[data-buy] button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9]"))
    assert page.locator("[data-demo-provider]").is_visible()
    page.click("form[data-api^='/api/payments/demo/'] button[type=submit]")
    page.locator("[data-pay]").wait_for(state="detached")  # paid: the page reloaded without the payment form
    live.settle()

    visitor.goto("/me")
    badge = page.locator(".spread [data-rank]").first
    assert badge.get_attribute("data-rank") == "agent"
    assert badge.inner_text() == "代理"
    assert MemberState.objects.get(member=member).rank == "agent"  # the engine's rank
    no_problems(visitor)


def test_the_referrer_withdraws_and_sees_the_fee_and_net_then_the_request(live: Live, demo_shop: DemoShop) -> None:
    ann = demo_shop.ann
    assert ann.member is not None
    opened = live.open(ann, "/withdraw", "en")
    page = opened.page
    available = page.locator("[data-figure=available]").inner_text()
    assert available == "¥" + format_fen(reads.available_of([ann.member])[ann.member])
    page.fill("#w-amount", "100.00")
    page.fill("#w-payee", "Alipay ann@example.com")
    page.click("form[data-withdraw-form] button[type=submit]")
    review = page.locator("[data-review]")
    review.wait_for()
    quote = reads.withdrawal_quote(ann.member, parse_yuan("100.00"))
    assert (quote["fee"], quote["net"]) == (100, 9900)  # the shop's 1% fee, by the engine's rule
    assert page.locator("[data-figure=quote_fee]").inner_text() == "¥1.00"
    assert page.locator("[data-figure=quote_net]").inner_text() == "¥99.00"
    assert page.locator("[data-figure=quote_payee]").inner_text() == "Alipay ann@example.com"
    review.locator("button[type=submit]").click()
    page.wait_for_url("**/withdraw?requested=*")
    requested = page.locator("[data-requested]")
    assert "¥100.00" in requested.inner_text()
    withdrawal = requested.get_attribute("data-requested")
    row = page.locator(f"li[data-withdrawal='{withdrawal}']")
    assert row.get_attribute("data-status") == "requested"
    assert page.locator("[data-figure=withdrawing]").inner_text() == "¥150.00"  # with the 50.00 asked before
    live.settle()
    assert ann.get("/api/me/withdrawals").body["withdrawals"][0]["withdrawal"] == withdrawal
    no_problems(opened)


def bulk_team(referrer: str, count: int) -> None:
    """``count`` members referred by ``referrer``, logged at once and applied by the worker; each with a login
    (friend000, friend001, …)."""
    members = [f"t5{i:04d}" for i in range(count)]
    rows = []
    for member in members:
        fields = {"member": member, "referrer": referrer}
        body = json.dumps({"verb": "join", **fields}, sort_keys=True).encode()
        rows.append(LoggedEvent(key=f"test:bulk-join:{member}", verb="join", payload=fields,
                                request_hash=hashlib.sha256(body).hexdigest(), actor="test"))
    with transaction.atomic():
        LoggedEvent.objects.bulk_create(rows)
    users = User.objects.bulk_create([User(username=f"friend{i:03d}", password="!") for i in range(count)])
    MemberLogin.objects.bulk_create([MemberLogin(user=user, member=members[i], invite_code=f"BULK{i:04d}")
                                     for i, user in enumerate(users)])


def test_a_member_pages_through_a_500_member_team_and_searches_it(live: Live, demo_shop: DemoShop) -> None:
    ann = demo_shop.ann
    assert ann.member is not None
    opened = live.open(ann, "/team?list=team", "en")
    bulk_team(ann.member, 500)
    live.settle()
    team = MemberState.objects.filter(team=ann.member).count()
    assert team == 504  # s1, s2, bob, s1kid and the 500
    page = opened.page
    opened.goto("/team?list=team")
    seen: list[str] = []
    pages = 0
    while True:
        names = page.locator("[data-person] [data-name]").all_inner_texts()
        assert 1 <= len(names) <= PAGE_SIZE
        seen += names
        pages += 1
        more = page.locator("a[rel=next]")
        if more.count() == 0:
            break
        more.click()
        page.wait_for_load_state()
    assert pages == -(-team // PAGE_SIZE) and len(seen) == len(set(seen)) == team
    page.fill("#team-q", "friend437")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**q=friend437*")
    assert page.locator("[data-person] [data-name]").all_inner_texts() == ["friend437"]
    assert page.locator("[data-found]").get_attribute("data-found") == "1"
    no_problems(opened)


def test_the_language_switch_changes_the_pages_language_and_keeps_it(live: Live, demo_shop: DemoShop) -> None:
    opened = live.open(demo_shop.ann, "/me")
    page = opened.page
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.locator(".tabbar").inner_text().split() == ["⌂", "商城", "⚇", "团队", "¥", "收益", "☺", "我的"]
    page.click("button.lang")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/me")
    assert page.locator(".tabbar").inner_text().split() == ["⌂", "Shop", "⚇", "Team", "¥", "Earnings", "☺", "Me"]
    opened.goto("/team")  # the choice stays, whatever the browser asks for (zh-CN)
    assert page.get_attribute("html", "lang") == "en"
    page.click("button.lang")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    assert page.url.endswith("/team")
    no_problems(opened)


# --- live income notices --------------------------------------------------------------------------------------


def test_the_referrers_open_page_shows_the_reward_notice_within_2_s_without_a_reload(
        live: Live, demo_shop: DemoShop, browser_settings: Any) -> None:
    browser_settings.NOTICE_STREAM_SECONDS = 20.0  # one response for the whole test (the test settings' is short)
    browser_settings.NOTICE_POLL_SECONDS = 0.5  # as served
    ann = demo_shop.ann
    assert ann.member is not None
    watching = live.open(ann, "/me")  # ann's page, open before anything happens
    mine = watching.page
    mine.evaluate("window.__notReloaded = true")
    mine.wait_for_function("document.body.dataset.noticesStream !== undefined")
    newest_before = MemberNotice.objects.filter(member=ann.member).order_by("-id").values_list("id", flat=True).first()

    visitor = live.open(None, f"/join/{ann.invite_code}")  # another phone: someone she invited
    page = visitor.page
    page.fill("#r-username", "newcomer")
    page.fill("#r-password", PASSWORD)
    page.click("text=注册并登录")
    page.wait_for_url("**/me")
    visitor.goto("/products/GIFT")
    page.click("form[data-buy] button[type=submit]")
    page.wait_for_url(re.compile(r"/orders/[A-Za-z0-9]"))
    with page.expect_response(lambda r: "/api/payments/demo/" in r.url and r.request.method == "POST") as paid:
        page.click("form[data-api^='/api/payments/demo/'] button[type=submit]")
    assert paid.value.ok, paid.value.text()
    answered = time.monotonic()  # the payment is answered: from here the notice has 2 s to reach ann's open page

    toast = mine.locator("#notice-toast")
    mine.wait_for_function("(() => { const t = document.getElementById('notice-toast');"
                           " return t && !t.hidden && t.textContent.includes('¥'); })()", timeout=2000)
    arrived = time.monotonic() - answered
    assert arrived < 2.0, f"the notice took {arrived:.2f} s"
    assert mine.evaluate("window.__notReloaded") is True  # the same page: no reload

    notice = MemberNotice.objects.filter(member=ann.member).exclude(id__lte=newest_before or 0).order_by("id").first()
    assert notice is not None and notice.order
    text = toast.inner_text()
    assert "¥" + format_fen(notice.amount) in text and "newcomer" in text, text
    unread = MemberNotice.objects.filter(member=ann.member, read_at__isnull=True).count()
    assert mine.locator("#notice-badge").inner_text() == str(unread)
    no_problems(watching, visitor)


def test_a_member_logs_in_through_the_login_page(live: Live, demo_shop: DemoShop) -> None:
    opened = live.open(None, "/login")
    log_in_through_the_page(opened, "bob", PASSWORD)
    assert opened.page.locator("[data-username]").inner_text() == "bob"
    no_problems(opened)
