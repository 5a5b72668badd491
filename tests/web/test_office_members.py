"""The back office's members pages: search by name, phone, invite code and member id; a member's page whose figures
are the projections' and the ledger's; the referral tree a level at a time; re-parenting (a reason required, the
owner's) and the promoter revoke, each an event with its audit row; who may see and do what."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from api_client import Caller, Register, buy, make_shop
from django.utils import timezone
from office_client import messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import Balance, LoggedEvent, MemberHistory, MemberState, ReferralCount
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

PLANS = {"chain21": {}, "distribution": {"eligibility": "approved", "settle_after_days": 0}}


@pytest.fixture
def shop(db: None, api_settings: Any, register_member: Register) -> dict[str, Caller]:
    """ann (agent) referred ben and cat (agents: ann is promoted); ben referred dan; eve joined alone; the phone-
    number login 13800138000 was referred by eve."""
    make_shop(plans=PLANS, start=timezone.now() - timezone.timedelta(days=1))
    ann = register_member("ann")
    buy(ann)
    ben = register_member("ben", inviter=ann)
    buy(ben)
    cat = register_member("cat", inviter=ann)
    buy(cat)
    dan = register_member("dan", inviter=ben)
    eve = register_member("eve")
    phone = register_member("13800138000", inviter=eve)
    return {"ann": ann, "ben": ben, "cat": cat, "dan": dan, "eve": eve, "phone": phone}


def found(html: str) -> set[str]:
    table = re.search(r"<table class=\"data\" data-members>.*?</table>", html, re.S)
    return set(re.findall(r'<tr data-member="([^"]+)"', table.group(0))) if table else set()


def test_members_are_found_by_name_phone_invite_code_and_id(shop: dict[str, Caller]) -> None:
    owner = office_browser("owner")
    for query, who in (("ann", "ann"), ("138 0013 8000", "phone"), ("+86 138-0013-8000", "phone"),
                       (shop["cat"].invite_code or "", "cat"), ((shop["cat"].invite_code or "").lower(), "cat"),
                       (shop["dan"].member or "", "dan")):
        status, html = page(owner, f"/office/members?q={query.replace('+', '%2B').replace(' ', '+')}", "en")
        assert status == 200
        assert found(html) == {shop[who].member}, query
    _status, html = page(owner, "/office/members?q=nobody-like-this", "en")
    assert found(html) == set() and "No member matches this search." in html
    _status, html = page(owner, "/office/members", "en")
    assert found(html) == {c.member for c in shop.values()}


def test_the_member_page_shows_the_projections_and_the_ledger(shop: dict[str, Caller]) -> None:
    ann = shop["ann"].member
    assert ann is not None
    status, html = page(office_browser("read-only"), f"/office/members/{ann}", "en")
    assert status == 200
    held = {b.book: b.amount for b in Balance.objects.filter(owner=ann)}
    assert held["available"] > 0
    shown = dict(re.findall(r'data-figure="([a-z_]+)">¥([\d.,-]+)<', html))
    assert shown["available"] == f"{held['available'] / 100:.2f}" and shown["debt"] == "0.00"
    assert shown["help_fund"] == f"{held.get('help_fund', 0) / 100:.2f}"
    # the rank history: a gift pack made ann an agent, two direct agents a partner
    kinds = re.findall(r'<tr data-kind="([a-z_]+)"', html.split("data-rank-history")[1].split("</table>")[0])
    assert kinds == ["promoted", "rank_gained"]
    assert ReferralCount.objects.get(member=ann).descendants == 3
    assert "2 referrals · 3 in its tree" in html
    # the statement: ann's two direct rewards, newest first
    assert html.count('<tr data-entry="') == 2 and "direct reward" in html
    assert "data-reparent" not in html  # read-only: no actions


def test_the_tree_opens_a_level_at_a_time_with_each_nodes_counts(shop: dict[str, Caller]) -> None:
    owner = office_browser("owner")
    ann, ben = shop["ann"].member, shop["ben"].member
    status, html = page(owner, f"/office/members/{ann}/tree", "en")
    assert status == 200
    rows = re.findall(r'<li data-member="([^"]+)" data-referrals="(\d+)" data-descendants="(\d+)"', html)
    assert rows == [(ben, "1", "1"), (shop["cat"].member, "0", "0")]
    assert f'data-lazy="/office/members/{ben}/tree"' in html  # ben's level opens on demand
    _status, level = page(owner, f"/office/members/{ben}/tree", "en")
    assert re.findall(r'<li data-member="([^"]+)"', level) == [shop["dan"].member]
    assert page(owner, "/office/members/nobody/tree", "en")[0] == 404
    _status, team = page(owner, f"/office/members/{ann}/team", "en")
    assert 'data-team-size="3"' in team  # ben, cat and dan (who joined after ann's promotion)


def test_reparenting_needs_a_reason_and_is_an_event_with_its_audit_row(shop: dict[str, Caller]) -> None:
    owner = office_browser("owner", "olivia")
    ben, eve = shop["ben"].member, shop["eve"].member
    assert ben is not None and eve is not None
    _status, html = post(owner, f"/office/members/{ben}/reparent", referrer=eve, reason="  ")
    assert messages_of(html)[0][0] == "error" and not LoggedEvent.objects.filter(verb="reparent_member").exists()
    earned = Balance.objects.get(owner=shop["ann"].member, book="available").amount
    _status, html = post(owner, f"/office/members/{ben}/reparent", referrer=shop["eve"].invite_code or "",
                         reason="registered through the wrong link")
    assert messages_of(html)[0][0] == "success", messages_of(html)
    assert MemberState.objects.get(member=ben).referrer == eve
    assert Balance.objects.get(owner=shop["ann"].member, book="available").amount == earned  # stays
    assert (ReferralCount.objects.get(member=eve).descendants, ReferralCount.objects.get(member=shop["ann"].member)
            .descendants) == (3, 1)
    event = LoggedEvent.objects.get(verb="reparent_member")
    assert event.actor == "operator:olivia" and event.payload["reason"] == "registered through the wrong link"
    row = AuditLog.objects.get(event_position=event.position)
    assert (row.action, row.target, row.before["referrer"], row.after["referrer"]) == (
        "reparent_member", ben, shop["ann"].member, eve)
    assert MemberHistory.objects.filter(member=ben, kind="reparented").exists()
    _status, page_html = page(owner, f"/office/members/{ben}", "en")
    assert row_of(page_html, "kind", "reparented") and "registered through the wrong link" in page_html
    # a loop is the engine's refusal, shown as the message
    _status, html = post(owner, f"/office/members/{eve}/reparent", referrer=shop["dan"].member or "",
                         reason="test")
    assert messages_of(html)[0][0] == "error" and "loop" in messages_of(html)[0][1]


@pytest.mark.parametrize("role", ["operator", "read-only", "finance"])
def test_only_the_owner_may_reparent(shop: dict[str, Caller], role: str) -> None:
    r = office_browser(role).post(f"/office/members/{shop['ben'].member}/reparent",
                                  {"key": "ab" * 16, "referrer": shop["eve"].member, "reason": "x"})
    assert r.status_code == 403 and not LoggedEvent.objects.filter(verb="reparent_member").exists()


def test_finance_sees_no_member_pages(shop: dict[str, Caller]) -> None:
    finance = office_browser("finance")
    assert finance.get("/office/members").status_code == 403
    assert finance.get(f"/office/members/{shop['ann'].member}").status_code == 403


def test_a_promoter_is_revoked_with_a_reason_from_the_member_page(shop: dict[str, Caller]) -> None:
    operator = office_browser("operator", "oscar")
    cat = shop["cat"].member
    assert cat is not None
    _status, html = post(operator, f"/office/promoters/{cat}/approve")
    assert messages_of(html)[0][0] == "success"
    _status, html = page(operator, f"/office/members/{cat}", "en")
    assert "data-revoke" in html and 'data-promoter="yes"' in html
    _status, html = post(operator, f"/office/promoters/{cat}/revoke", reason="")
    assert messages_of(html)[0][0] == "error" and not LoggedEvent.objects.filter(verb="revoke_promoter").exists()
    _status, html = post(operator, f"/office/promoters/{cat}/revoke", reason="misleading claims",
                         next=f"/office/members/{cat}")
    assert messages_of(html)[0][0] == "success" and 'data-promoter="no"' in html
    assert "misleading claims" in html
    event = LoggedEvent.objects.get(verb="revoke_promoter")
    row = AuditLog.objects.get(event_position=event.position)
    assert (row.actor, row.before["promoter"], row.after["promoter"], row.after["revoked"]["reason"]) == (
        "oscar", True, False, "misleading claims")
    assert shop["cat"].get("/api/me/plans/distribution").body["revoked"]["reason"] == "misleading claims"
    assert office_browser("read-only").post(f"/office/promoters/{cat}/revoke", {"reason": "x"}).status_code == 403


def test_the_approved_promoters_list_offers_the_revoke(shop: dict[str, Caller]) -> None:
    owner = office_browser("owner")
    ben = shop["ben"].member
    assert ben is not None
    post(owner, f"/office/promoters/{ben}/approve")
    _status, html = page(owner, "/office/promoters?list=approved", "en")
    assert f'action="/office/promoters/{ben}/revoke"' in row_of(html, "member", ben)
    _status, html = page(office_browser("read-only"), "/office/promoters?list=approved", "en")
    assert "data-revoke" not in html
    _status, html = post(owner, f"/office/promoters/{ben}/revoke", reason="no longer sells here",
                         next="/office/promoters?list=approved")
    assert messages_of(html)[0][0] == "success" and f'data-member="{ben}"' not in html
    _status, html = post(owner, f"/office/promoters/{ben}/revoke", reason="again")
    assert messages_of(html)[0][0] == "error" and "not an approved promoter" in messages_of(html)[0][1]


def test_the_migration_fills_the_counts_and_the_history_the_worker_writes(shop: dict[str, Caller]) -> None:
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from liandong.service.verify import verify

    post(office_browser("owner"), f"/office/members/{shop['ben'].member}/reparent", referrer=shop["eve"].member or "",
         reason="wrong link")
    fill = __import__("liandong.service.store.migrations.0013_referral_counts_member_history",
                      fromlist=["fill"]).fill

    def counts() -> list[tuple[Any, ...]]:
        return sorted(row for row in ReferralCount.objects.values_list("member", "referrals", "descendants",
                                                                       "team_size") if any(row[1:]))

    def history() -> list[tuple[Any, ...]]:
        return sorted((m, p, k, str(d)) for m, p, k, d in MemberHistory.objects.values_list("member", "position",
                                                                                           "kind", "detail"))

    written, told = counts(), history()
    assert written and any(kind == "reparented" for _m, _p, kind, _d in told)
    ReferralCount.objects.all().delete()
    MemberHistory.objects.all().delete()
    fill(apps, SimpleNamespace(connection=connection))  # what the migration's RunPython hands it
    assert (counts(), history()) == (written, told)
    assert verify().differences == []


def test_a_level_and_the_search_page_by_keyset(shop: dict[str, Caller], monkeypatch: pytest.MonkeyPatch) -> None:
    from liandong.web.office import member_reads

    monkeypatch.setattr(member_reads, "PEOPLE_PAGE", 1)
    owner = office_browser("owner")
    ann, ben, cat = shop["ann"].member, shop["ben"].member, shop["cat"].member
    _status, html = page(owner, f"/office/members/{ann}/tree", "en")
    assert re.findall(r'<li data-member="([^"]+)"', html) == [ben]
    more = re.search(r'data-more href="([^"]+)"', html)
    assert more is not None
    _status, html = page(owner, unescape(more.group(1)), "en")
    assert re.findall(r'<li data-member="([^"]+)"', html) == [cat] and "data-more" not in html
    _status, html = page(owner, "/office/members", "en")
    assert found(html) == {ann}
    after = re.search(r'rel="next" href="([^"]+)"', html)
    assert after is not None
    _status, html = page(owner, "/office/members" + unescape(after.group(1)), "en")
    assert found(html) == {ben}


@pytest.mark.parametrize(("role", "status", "acts"), [("owner", 200, {"reparent", "revoke"}),
                                                      ("operator", 200, {"revoke"}), ("read-only", 200, set()),
                                                      ("finance", 403, set())])
def test_each_role_opens_a_members_page_and_its_levels_as_its_permissions_allow(
        shop: dict[str, Caller], role: str, status: int, acts: set[str]) -> None:
    ann, cat = shop["ann"].member, shop["cat"].member
    post(office_browser("owner", "approver"), f"/office/promoters/{cat}/approve")
    browser = office_browser(role)
    for path in (f"/office/members/{ann}", f"/office/members/{ann}/tree", f"/office/members/{ann}/team",
                 f"/office/members?q={ann}"):
        assert browser.get(path).status_code == status, path
    if status == 200:
        assert page(browser, f"/office/members/{cat}", "zh-hans")[0] == 200  # the default language renders too
        _status, html = page(browser, f"/office/members/{cat}", "en")
        assert {act for act in ("reparent", "revoke") if f"data-{act}" in html} == acts
        _status, html = page(browser, "/office/", "en")
        assert 'data-nav="members"' in html
    else:
        _status, html = page(browser, "/office/", "en")
        assert 'data-nav="members"' not in html


def test_a_member_without_a_login_is_found_by_its_number(shop: dict[str, Caller]) -> None:
    from liandong.service.log import append_event
    from liandong.service.worker import drain

    append_event("join", {"member": "imported-7"}, key="import:7", request_hash="h", actor="system")
    drain()
    number = MemberState.objects.get(member="imported-7").join_index + 1
    _status, html = page(office_browser("owner"), f"/office/members?q=Member+No.+{number}", "en")
    assert found(html) == {"imported-7"}
    _status, html = page(office_browser("owner"), f"/office/members?q=Member+No.+{number - 1}", "en")
    assert found(html) == set()  # the member before it has a login: it shows (and is found) by its username


def test_the_search_by_phone_matches_the_stored_phone_and_the_member_page_shows_the_contacts(
        shop: dict[str, Caller], register_member: Register) -> None:
    fay = register_member("fay", inviter=shop["eve"], phone="+86 139-0013-9000", email="fay@example.com")
    owner = office_browser("owner")
    for query in ("13900139000", "139 0013 9000", "+86 139-0013-9000", "0013 9000"):
        status, html = page(owner, f"/office/members?q={query.replace('+', '%2B').replace(' ', '+')}", "en")
        assert status == 200
        assert found(html) == {fay.member}, query
    _status, html = page(owner, "/office/members?q=138+0013+8000", "en")
    assert found(html) == {shop["phone"].member}  # the phone-number login, by its username still
    status, html = page(office_browser("read-only"), f"/office/members/{fay.member}", "en")
    assert status == 200
    assert 'data-fact="phone">13900139000<' in html and 'data-fact="email">fay@example.com<' in html
    assert "Mobile phone" in html and "E-mail" in html
    html = page(office_browser("read-only"), f"/office/members/{shop['eve'].member}", "en")[1]
    assert 'data-fact="phone">—<' in html and 'data-fact="email">—<' in html
