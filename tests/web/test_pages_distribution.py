"""分销 (/distribution): promoter applications (apply, pending, rejected with the operator's reason, apply again,
approved) through the API and through the page's own form; every figure equals the API's for the same member
(``/api/me/plans/distribution``); bound buyers page in join order with binding date and expiry, by display name;
another member's buyers and commissions never show; both languages; a shop without the plan says so (404)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from api_client import Caller, FakeClock, Register, buy, make_operator, make_shop
from django.test import Client
from page_client import logged_in, page

from liandong.service.store.models import LoggedEvent
from liandong.web.pages.views import distribution as distribution_view

pytest_plugins = ["api_fixtures"]
LANGS = ("zh-hans", "en")
CONFIG = {"eligibility": "approved", "levels": 2, "rates": ["0.10", "0.05"], "binding_days": 30,
          "settle_after_days": 7}


def figure(html: str, name: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-figure="{name}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no figure {name}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(2))).strip()


def level_row(html: str, level: str) -> tuple[str, str]:
    found = re.search(rf'<tr data-level="{level}">.*?data-pending>([^<]+)<.*?data-settled>([^<]+)<', html, re.S)
    assert found, level
    return found.group(1), found.group(2)


def buyers_listed(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r"<strong data-name>([^<]*)</strong>", html)]


@pytest.fixture
def shop(db: None, api_settings: Any, fake_clock: FakeClock) -> Caller:
    make_shop(plans={"distribution": CONFIG})
    return make_operator()


def approve(operator: Caller, member: Caller) -> None:
    r = operator.post("/api/operator/actions/approve_promoter", {"member": member.member})
    assert r.status == 200, r.body


def test_apply_reject_with_a_reason_apply_again_and_approve(shop: Caller, register_member: Register) -> None:
    operator, ann = shop, register_member("ann")
    client = logged_in(ann)
    html = page(client, "/distribution", "en")[1]
    assert 'data-promoter="no"' in html and "data-apply" in html and "data-application=" not in html
    # through the API, as a member
    applied = ann.post("/api/actions/apply_promoter", {})
    assert applied.status == 200 and applied.body["event"] == {"member": ann.member}
    again = ann.post("/api/actions/apply_promoter", {})
    assert again.status == 422
    assert (again.body["error"]["code"], again.body["error"]["field"], again.body["error"]["value"]) == (
        "promoter_application_pending", "apply_promoter", ann.member)
    html = page(client, "/distribution", "en")[1]
    assert 'data-application="pending"' in html and "data-apply" not in html
    assert ann.get("/api/me/plans/distribution").body["application"]["status"] == "pending"
    # the operator rejects with a reason
    empty = operator.post("/api/operator/actions/reject_promoter", {"member": ann.member, "reason": ""})
    assert empty.status in (400, 422) and empty.body["error"]["field"].endswith("reason")
    reason = "Please add a photo of your shop <first> & try again"
    rejected = operator.post("/api/operator/actions/reject_promoter", {"member": ann.member, "reason": reason})
    assert rejected.status == 200, rejected.body
    read = ann.get("/api/me/plans/distribution").body
    assert read["application"]["status"] == "rejected" and read["application"]["reason"] == reason
    for lang in LANGS:
        html = page(client, "/distribution", lang)[1]
        assert 'data-application="rejected"' in html and "data-apply" in html
        found = re.search(r"<dd data-reason[^>]*>([^<]*)</dd>", html)
        assert found is not None and unescape(found.group(1)) == reason  # shown escaped, as written
    # through the page's own form: pages.js posts the session's JSON to the API with the page's key
    key = re.search(r'data-api="/api/actions/apply_promoter" data-key="([0-9a-f]+)"', html)
    assert key is not None
    r = client.post("/api/actions/apply_promoter", {}, content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=key.group(1))
    assert r.status_code == 200, r.content
    assert client.post("/api/actions/apply_promoter", {}, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=key.group(1)).status_code == 200  # a double tap: one event
    assert LoggedEvent.objects.filter(verb="apply_promoter").count() == 3  # applied, refused, applied
    assert 'data-application="pending"' in page(client, "/distribution", "en")[1]
    approve(operator, ann)
    html = page(client, "/distribution", "en")[1]
    assert 'data-promoter="yes"' in html and "data-apply" not in html and "data-application=" not in html
    assert ann.get("/api/me/plans/distribution").body["application"]["status"] == "approved"


def test_no_application_is_offered_when_the_shop_does_not_approve_promoters(
        db: None, api_settings: Any, register_member: Register) -> None:
    make_shop(plans={"distribution": {"eligibility": "after_purchase"}})
    ann = register_member("ann")
    html = page(logged_in(ann), "/distribution", "en")[1]
    assert 'data-eligibility="after_purchase"' in html and "data-apply" not in html
    r = ann.post("/api/actions/apply_promoter", {})
    assert r.status == 422 and r.body["error"]["code"] == "promoter_application_not_needed"
    assert "eligibility is after_purchase" in r.body["error"]["message"]


@pytest.fixture
def promoter_tree(shop: Caller, register_member: Register, fake_clock: FakeClock) -> dict[str, Caller]:
    """ann is approved; b1..b7 join through her link (bound to her for 30 days); bob (b1) is approved too and carl
    joins through his: carl's TEA pays bob level 1 and ann level 2; b2's TEA pays ann level 1."""
    ann = register_member("ann")
    approve(shop, ann)
    tree = {"ann": ann, "operator": shop}
    for n in range(1, 8):
        fake_clock.advance(3600)
        tree[f"b{n}"] = register_member(f"b{n}", inviter=ann)
    approve(shop, tree["b1"])
    tree["carl"] = register_member("carl", inviter=tree["b1"])
    buy(tree["carl"], "TEA")
    buy(tree["b2"], "TEA")
    return tree


@pytest.mark.parametrize("lang", LANGS)
def test_every_figure_of_the_distribution_page_is_the_apis(promoter_tree: dict[str, Caller], lang: str) -> None:
    ann = promoter_tree["ann"]
    read = ann.get("/api/me/plans/distribution").body
    html = page(logged_in(ann), "/distribution", lang)[1]
    assert 'data-promoter="yes"' in html
    assert figure(html, "bound_buyers") == str(read["bound_buyers"]) == "7"
    assert figure(html, "pending_total") == "¥" + read["commission_totals"]["pending"]
    assert figure(html, "settled_total") == "¥" + read["commission_totals"]["settled"]
    assert [level_row(html, str(line["level"])) for line in read["commissions"]] == [
        ("¥" + line["pending"], "¥" + line["settled"]) for line in read["commissions"]]
    assert [line["pending"] for line in read["commissions"]] == ["5.90", "2.95"]  # b2's TEA, carl's TEA
    assert level_row(html, "total") == ("¥8.85", "¥0.00")
    assert [m for m in re.findall(r'data-rate="(\d)">([^<]+)<', html)] == [("1", "10%"), ("2", "5%")]
    assert f'data-invite-code>{ann.invite_code}<' in html and f"/join/{ann.invite_code}" in html
    assert 'href="/me/poster" data-poster' in html
    heading = {"zh-hans": "我的各级佣金", "en": "My commissions by level"}[lang]
    assert f"<h2>{heading}</h2>" in html and f'<html lang="{lang}"' in html


def test_bound_buyers_page_in_join_order_with_binding_date_and_expiry(promoter_tree: dict[str, Caller],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distribution_view, "PAGE_SIZE", 3)
    ann = promoter_tree["ann"]
    client = logged_in(ann)
    seen: list[str] = []
    path: str | None = "/distribution"
    pages = 0
    while path is not None:
        status, html = page(client, path, "en")
        assert status == 200 and "My bound buyers (7)" in html
        names = buyers_listed(html)
        assert 1 <= len(names) <= 3
        seen += names
        found = re.search(r'href="([^"]*)" rel="next"', html)
        path = "/distribution" + unescape(found.group(1)) if found else None
        pages += 1
    assert pages == 3 and seen == [f"b{n}" for n in range(1, 8)]  # display names, never member ids
    assert not any(promoter_tree[n].member in html for n in seen if promoter_tree[n].member != n)
    # back from the last page
    prev = re.search(r'href="([^"]*)" rel="prev"', html)
    assert prev is not None
    assert buyers_listed(page(client, "/distribution" + unescape(prev.group(1)), "en")[1]) == ["b4", "b5", "b6"]
    # each buyer's binding, as the buyer's own read says (since, 30 days)
    first = page(client, "/distribution", "en")[1]
    b1 = promoter_tree["b1"].get("/api/me/plans/distribution").body["bound_to"]
    tz = dt.timezone(dt.timedelta(hours=8))
    since = dt.datetime.fromisoformat(b1["since"]).astimezone(tz).date()
    until = dt.datetime.fromisoformat(b1["until"]).astimezone(tz).date()
    assert until == since + dt.timedelta(days=30)
    assert f"Bound since {since:%Y-%m-%d} · until {until:%Y-%m-%d}" in unescape(first)
    assert "data-expired" not in first


def test_an_expired_binding_is_marked(promoter_tree: dict[str, Caller], fake_clock: FakeClock) -> None:
    fake_clock.advance(31 * 86400)
    html = page(logged_in(promoter_tree["ann"]), "/distribution", "en")[1]
    assert html.count("data-expired") == 7  # every binding was made 30 days ago or more
    assert "ended " in html and "until " not in re.sub(r"<[^>]+>", "", html.split("data-buyers", 1)[1])


def test_another_members_buyers_and_commissions_never_show(promoter_tree: dict[str, Caller]) -> None:
    bob = promoter_tree["b1"]
    read = bob.get("/api/me/plans/distribution").body
    html = page(logged_in(bob), "/distribution", "en")[1]
    assert buyers_listed(html) == ["carl"] and figure(html, "bound_buyers") == str(read["bound_buyers"]) == "1"
    assert level_row(html, "1") == ("¥" + read["commissions"][0]["pending"], "¥0.00") == ("¥5.90", "¥0.00")
    assert level_row(html, "2") == ("¥0.00", "¥0.00")
    assert "b2" not in buyers_listed(html) and "data-my-binding" in html and "bound to ann until" in html
    # a member who is nobody's promoter sees no buyers at all
    dave_html = page(logged_in(promoter_tree["carl"]), "/distribution", "en")[1]
    assert buyers_listed(dave_html) == [] and 'data-promoter="no"' in dave_html


def test_bad_page_cursors_are_a_400_and_anonymous_goes_to_log_in(promoter_tree: dict[str, Caller]) -> None:
    client = logged_in(promoter_tree["ann"])
    for query in ("?after=x", "?before=-1", "?after=1&before=5", "?after=9999999999"):
        status, html = page(client, "/distribution" + query, "en")
        assert status == 400 and "data-bad-query" in html, query
    assert page(Client(), "/distribution")[0] == 302


def test_a_shop_without_the_distribution_plan_says_so(db: None, api_settings: Any, register_member: Register) -> None:
    make_shop()
    ann = register_member("ann")
    client = logged_in(ann)
    for lang in LANGS:
        status, html = page(client, "/distribution", lang)
        assert status == 404 and 'data-plan-off="distribution"' in html
    assert 'data-link="distribution"' not in page(client, "/me")[1]


def test_me_links_the_distribution_page_when_the_plan_runs(promoter_tree: dict[str, Caller]) -> None:
    html = page(logged_in(promoter_tree["ann"]), "/me")[1]
    assert 'href="/distribution" data-link="distribution"' in html and 'data-link="points"' not in html


def test_a_revoked_promoter_reads_when_and_why(shop: Caller, register_member: Register) -> None:
    operator, ann = shop, register_member("ann")
    assert ann.post("/api/actions/apply_promoter", {}).status == 200
    approve(operator, ann)
    client = logged_in(ann)
    assert "data-revoked" not in page(client, "/distribution", "en")[1]
    reason = "Misleading claims <in> your posts & ads"
    revoked = operator.post("/api/operator/actions/revoke_promoter", {"member": ann.member, "reason": reason})
    assert revoked.status == 200, revoked.body
    read = ann.get("/api/me/plans/distribution").body
    assert read["promoter"] is False and read["revoked"]["reason"] == reason
    day = dt.datetime.fromisoformat(read["revoked"]["at"]).astimezone(
        dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    for lang in LANGS:
        html = page(client, "/distribution", lang)[1]
        assert 'data-promoter="no"' in html and "data-revoked" in html
        found = re.search(r"<dd data-revoked-reason[^>]*>([^<]*)</dd>", html)
        assert found is not None and unescape(found.group(1)) == reason  # escaped, as written
        assert day in re.search(r"<div [^>]*data-revoked>(.*?)</div>", html, re.S).group(1)  # type: ignore[union-attr]
    html = page(client, "/distribution", "en")[1]
    assert "The shop revoked your promoter approval on" in html
