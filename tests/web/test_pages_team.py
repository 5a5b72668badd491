"""我的团队 (/team) and 我的 (/me): every figure equals the API's for the same member; a 500-member team pages and
searches without loading the whole team; a member sees only its own team; transposition is shown as the operator's,
possible or refused with the engine's reason; both languages; bad query values are a 400 page."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from api_client import Caller, FakeClock, Register, buy, make_operator, make_shop
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from page_client import logged_in, page

from liandong.service.store.models import LoggedEvent, MemberState
from liandong.service.worker import drain
from liandong.web.accounts.models import MemberLogin
from liandong.web.api.errors import ApiError
from liandong.web.pages.views.team import PAGE_SIZE

pytest_plugins = ["api_fixtures"]




def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html)
    assert found is not None, name
    return unescape(found.group(1)).strip()


def names_listed(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r"<strong data-name>([^<]*)</strong>", html)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]*)" rel="{rel}"', html)
    return "/team" + unescape(found.group(1)) if found else None


@pytest.fixture
def partner_tree(api_shop: None, register_member: Register) -> dict[str, Caller]:
    """ann buys; her referrals s1, s2 and bob buy: ann is a partner with seeds s1, s2; bob's gift pack pays her
    300.00 (240.00 available + 60.00 help fund)."""
    ann = register_member("ann")
    buy(ann)
    tree = {"ann": ann}
    for name in ("s1", "s2", "bob"):
        tree[name] = register_member(name, inviter=ann)
        buy(tree[name])
    return tree


def test_the_team_page_shows_the_apis_figures_in_both_languages(partner_tree: dict[str, Caller],
                                                                 register_member: Register) -> None:
    ann = partner_tree["ann"]
    buy(register_member("s1kid", inviter=partner_tree["s1"]))  # s1: 1 of 2 agents
    api_team, api_rank = ann.get("/api/me/team").body, ann.get("/api/me/rank").body
    for lang in ("zh-hans", "en"):
        status, html = page(logged_in(ann), "/team", lang)
        assert status == 200
        assert 'data-rank="partner"' in html
        assert figure(html, "help_fund") == figure(html, "help_fund_balance") == "¥" + api_team["help_fund"]["balance"]
        assert figure(html, "help_fund") == "¥100.00"  # 60.00 of bob's direct reward, 40.00 of s1kid's team reward
        assert figure(html, "direct_agents") == str(api_rank["direct_agents"]) == "3"
        assert figure(html, "team_size") == str(len(api_team["members"])) == "4"  # s1, s2, bob, s1kid
        assert figure(html, "direct_referrals") == "3"
        seeds = re.findall(r"<li data-seed>.*?</li>", html, re.S)
        assert [re.search(r"<strong>([^<]*)</strong>", s).group(1) for s in seeds] == ["s1", "s2"]  # type: ignore[union-attr]
        assert [s["direct_agents"] for s in api_team["seeds"]] == [1, 0]
        member_ids = [c.member for c in partner_tree.values()]
        assert not any(m in html for m in member_ids if m)  # people by name, never by id
        assert "s1, s2" in html  # what releases the help fund, by display name
    zh, en = page(logged_in(ann), "/team")[1], page(logged_in(ann), "/team", "en")[1]
    assert "2 个代理中的 1 个" in zh and "2 个代理中的 0 个" in zh and "帮扶基金" in zh and "种子" in zh
    assert "1 of 2 agents" in en and "0 of 2 agents" in en and "20%" in en and "It is released when" in en
    assert names_listed(en) == ["s1", "s2", "bob", "s1kid"]  # the team, in join order
    referrals = page(logged_in(ann), "/team?list=referrals", "en")[1]
    assert names_listed(referrals) == ["s1", "s2", "bob"]


def test_the_help_fund_is_shown_released_when_every_seed_is_a_partner(partner_tree: dict[str, Caller],
                                                                      register_member: Register) -> None:
    ann = partner_tree["ann"]
    for seed in ("s1", "s2"):
        for n in (1, 2):
            buy(register_member(f"{seed}k{n}", inviter=partner_tree[seed]))
    api_team = ann.get("/api/me/team").body
    assert api_team["help_fund"]["released"] is True
    html = page(logged_in(ann), "/team", "en")[1]
    assert "data-help-fund-released" in html and figure(html, "help_fund") == "¥" + api_team["help_fund"]["balance"]
    assert html.count("data-seed-promoted") == 2
    assert 'data-state="all_partners"' in html


def test_an_agent_sees_whose_team_it_is_in_and_what_is_left_to_lead_one(partner_tree: dict[str, Caller]) -> None:
    bob = partner_tree["bob"]
    rank = bob.get("/api/me/rank").body
    assert rank["rank"] == "agent" and rank["team"] == partner_tree["ann"].member
    status, html = page(logged_in(bob), "/team", "en")
    assert status == 200 and 'data-rank="agent"' in html
    assert "You are in the team of ann." in html and "0 of 2 agents" in html
    assert 'data-list="referrals"' in html and "You have not invited anyone yet." in html
    assert "data-seeds" not in html and "data-transpose" not in html
    assert "You lead no team yet" in page(logged_in(bob), "/team?list=team", "en")[1]


def test_a_member_sees_only_their_own_team(partner_tree: dict[str, Caller]) -> None:
    ann, bob = partner_tree["ann"], partner_tree["bob"]
    for query in (f"?member={ann.member}", f"?team={ann.member}", f"?leader={ann.member}&list=team",
                  f"?list=referrals&referrer={ann.member}", "?list=team&after=0"):
        status, html = page(logged_in(bob), "/team" + query, "en")
        assert status == 200
        assert names_listed(html) == [] and not re.search(r">[^<]*\bs1\b", html)
        assert figure(html, "direct_referrals") == "0"
    assert page(Client(), "/team")[0] == 302  # a visitor logs in first


@pytest.mark.parametrize("query", ["?after=abc", "?after=-1", "?before=1.5", "?list=everyone", "?after=1&before=3",
                                   "?q=" + "x" * 151, "?after=１２"])
def test_a_bad_query_value_is_a_400_page_naming_it(partner_tree: dict[str, Caller], query: str) -> None:
    status, html = page(logged_in(partner_tree["ann"]), "/team" + query, "en")
    assert status == 400 and "data-bad-query" in html
    field = query[1:].split("=")[0] if "&" not in query else "before"
    assert f'data-error-for="{field}"' in html


# --- a 500-member team ----------------------------------------------------------------------------------------


def bulk_joins(referrer: str, count: int, with_login: int) -> list[str]:
    """``count`` members referred by ``referrer``, logged at once (one INSERT) and applied; the first
    ``with_login`` get a login named friend000, friend001, …; the others are known to the engine only."""
    members = [f"t5{i:04d}" for i in range(count)]
    rows = []
    for member in members:
        fields = {"member": member, "referrer": referrer}
        body = json.dumps({"verb": "join", **fields}, sort_keys=True).encode()
        rows.append(LoggedEvent(key=f"test:bulk-join:{member}", verb="join", payload=fields,
                                request_hash=hashlib.sha256(body).hexdigest(), actor="test"))
    with transaction.atomic():
        LoggedEvent.objects.bulk_create(rows)
    drain()
    users = User.objects.bulk_create([User(username=f"friend{i:03d}", password="!") for i in range(with_login)])
    MemberLogin.objects.bulk_create([MemberLogin(user=user, member=members[i], invite_code=f"BULK{i:04d}")
                                     for i, user in enumerate(users)])
    return members


@pytest.fixture
def big_team(partner_tree: dict[str, Caller]) -> Iterator[dict[str, Caller]]:
    ann = partner_tree["ann"]
    bulk_joins(ann.member, 500, with_login=450)
    yield partner_tree


def test_a_500_member_team_pages_through_every_member_once(big_team: dict[str, Caller]) -> None:
    ann = big_team["ann"]
    client = logged_in(ann)
    total = len(ann.get("/api/me/team").body["members"])
    assert total == 503 and MemberState.objects.filter(team=ann.member).count() == 503
    seen: list[str] = []
    path: str | None = "/team?list=team"
    pages = 0
    while path is not None:
        with CaptureQueriesContext(connection) as queries:
            status, html = page(client, path, "en")
        assert status == 200
        rows = names_listed(html)
        assert 1 <= len(rows) <= PAGE_SIZE  # one page at most: the team is never loaded whole
        assert len(queries) <= 25  # as many for any team: none per member
        seen += rows
        pages += 1
        path = link(html, "next")
        if pages == 2:
            back = link(html, "prev")
            assert back is not None and names_listed(page(client, back, "en")[1]) == seen[:PAGE_SIZE]
    assert pages == -(-503 // PAGE_SIZE) and len(seen) == len(set(seen)) == 503
    assert seen[:4] == ["s1", "s2", "bob", "friend000"]
    assert seen[-1] == "Member No. 504"  # ann is No. 1; the last 50 have no login here
    assert figure(page(client, "/team", "en")[1], "team_size") == "503"


def test_search_finds_a_member_on_a_later_page(big_team: dict[str, Caller]) -> None:
    client = logged_in(big_team["ann"])
    first = names_listed(page(client, "/team?list=team", "en")[1])
    assert "friend437" not in first
    status, html = page(client, "/team?list=team&q=friend437", "en")
    assert status == 200 and names_listed(html) == ["friend437"] and 'data-found="1"' in html
    html = page(client, "/team?list=referrals&q=FRIEND43", "en")[1]  # any part of the name, any case
    assert names_listed(html) == [f"friend43{n}" for n in range(10)]
    many = page(client, "/team?list=team&q=friend1", "en")[1]  # friend100 … friend199, paged
    assert 'data-found="100"' in many and len(names_listed(many)) == PAGE_SIZE
    later = link(many, "next")
    assert later is not None and "q=friend1" in later
    assert all(name.startswith("friend1") for name in names_listed(page(client, later, "en")[1]))
    # a member without a login is found by its number, as the page names it
    assert names_listed(page(client, "/team?list=team&q=第 480 位会员")[1]) == ["第 480 位会员"]
    assert names_listed(page(client, "/team?list=team&q=No. 480", "en")[1]) == ["Member No. 480"]
    assert "Nobody here has that name." in page(client, "/team?q=nobody-like-this", "en")[1]


# --- transposition --------------------------------------------------------------------------------------------


@pytest.fixture
def clocked_tree(db: None, api_settings: Any, fake_clock: FakeClock, register_member: Register) -> dict[str, Caller]:
    """On a shop clock the test moves: ann a partner (seeds s1, s2) at the start; bob, whom she referred, a
    partner too (with bob1, bob2)."""
    make_shop()
    tree: dict[str, Caller] = {}

    def member(name: str, inviter: Caller | None = None) -> Caller:
        fake_clock.advance(60)
        tree[name] = register_member(name, inviter=inviter)
        buy(tree[name])
        return tree[name]

    ann = member("ann")
    for name in ("s1", "s2", "bob"):
        member(name, ann)
    return tree


def test_transposition_is_refused_until_its_day_then_the_partner_requests_it(
        clocked_tree: dict[str, Caller], fake_clock: FakeClock, register_member: Register) -> None:
    ann = clocked_tree["ann"]
    html = page(logged_in(ann), "/team", "en")[1]
    assert 'data-state="too_early"' in html
    assert "Not yet: it is less than 30 days since you became a partner. Possible from 2026-01-31." in html
    assert "By then one of the members you invited must be a partner" in html
    for name in ("bob1", "bob2"):  # bob becomes a partner: one who could take a seed's place
        fake_clock.advance(60)
        buy(register_member(name, inviter=clocked_tree["bob"]))
    html = page(logged_in(ann), "/team", "en")[1]
    assert 'data-state="too_early"' in html and "By then" not in html
    fake_clock.advance(31 * 86400)
    zh = page(logged_in(ann), "/team")[1]
    assert 'data-state="possible"' in zh
    html = page(logged_in(ann), "/team", "en")[1]
    seeds = re.search(r"data-transpose-seeds>([^<]*)<", html)
    partners = re.search(r"data-transpose-with>([^<]*)<", html)
    assert seeds is not None and partners is not None
    assert (seeds.group(1), partners.group(1)) == ("s1, s2", "bob")
    assert "/api/operator/" not in html  # no form a member cannot use
    form = re.search(r'<form[^>]*data-api="/api/actions/transpose".*?</form>', html, re.S)
    assert form is not None
    options = re.findall(r'<select id="t-(seed|with)" name="(?:seed|with)">(.*?)</select>', form.group(0), re.S)
    offered = {field: re.findall(r'<option value="([^"]+)">([^<]+)</option>', body) for field, body in options}
    s1, s2, bob = (clocked_tree[n] for n in ("s1", "s2", "bob"))
    assert offered == {"seed": [(s1.invite_code, "s1"), (s2.invite_code, "s2")], "with": [(bob.invite_code, "bob")]}
    # a partner who is not hers cannot be named: the engine refuses with its reason, nothing changes
    stranger = register_member("stranger")
    session = Caller(logged_in(ann))  # as the page sends it: her session (her token of a month ago has expired)
    refused = session.post("/api/actions/transpose", {"seed": s1.invite_code, "with": stranger.invite_code})
    assert refused.status == 422 and refused.body["error"]["field"] == "with", refused.body
    # what the page offers is what the engine accepts: the form's request, as the page sends it
    r = session.post("/api/actions/transpose", {"seed": s1.invite_code, "with": bob.invite_code})
    assert r.status == 200, r.body
    assert r.body["event"]["partner"] == ann.member and r.body["event"]["seed"] == s1.member
    html = page(logged_in(ann), "/team", "en")[1]
    seed_names = [re.search(r"<strong>([^<]*)</strong>", s).group(1)  # type: ignore[union-attr]
                  for s in re.findall(r"<li data-seed>.*?</li>", html, re.S)]
    assert seed_names == ["bob", "s2"] and 'data-state="no_partner"' in html
    seen_by_operator = make_operator().get(f"/api/operator/members/{ann.member}").body["reads"]["chain21"]
    assert seen_by_operator["help_fund_waiting_for"] == [clocked_tree["s2"].member]  # (ann's token has expired)


# --- 我的 (me) ------------------------------------------------------------------------------------------------


def test_me_shows_what_each_rank_earns_as_the_plan_publishes_it(partner_tree: dict[str, Caller]) -> None:
    ann = partner_tree["ann"]
    earns = ann.get("/api/me/plans/chain21").body["earns"]
    html = page(logged_in(ann), "/me", "en")[1]
    for key, value in (("direct_reward.agent", earns["agent"]["direct_reward"]),
                       ("direct_reward.partner", earns["partner"]["direct_reward"]),
                       ("self_rebate.agent", earns["agent"]["self_rebate"]),
                       ("self_rebate.partner", earns["partner"]["self_rebate"]),
                       ("team_reward", earns["partner"]["team_reward"])):
        assert re.search(rf'data-term="{re.escape(key)}">¥{re.escape(value)}<', html), key
    assert earns["partner"]["peer_rate"] == "0.10" and 'data-term="peer_rate">10%<' in html
    assert "5% of every order goes into the pool" in html and "20% of each reward" in html
    assert figure(html, "help_fund") == "¥" + ann.get("/api/me/balances").body["help_fund"]
    assert "You are a partner" in html


def test_a_member_whose_gift_pack_was_refunded_is_told_so(partner_tree: dict[str, Caller]) -> None:
    operator = make_operator()
    s1, ann = partner_tree["s1"], partner_tree["ann"]
    order = s1.get("/api/me/orders").body["orders"][0]["order"]
    assert operator.post(f"/api/operator/orders/{order}/refund").status == 200
    assert s1.get("/api/me/rank").body["rank"] == "member"
    status, html = page(logged_in(s1), "/me", "en")
    assert status == 200 and 'data-rank="member"' in html and "data-rank-refunded" in html
    assert "Buy a gift pack to be an agent again." in html
    assert "礼包已退款" in page(logged_in(s1), "/me")[1]
    # a partner whose gift pack is refunded keeps its promotion
    order = ann.get("/api/me/orders").body["orders"][0]["order"]
    assert operator.post(f"/api/operator/orders/{order}/refund").status == 200
    rank = ann.get("/api/me/rank").body
    assert rank["rank"] == "member" and rank["promoted_at"] is not None
    html = page(logged_in(ann), "/me", "en")[1]
    assert "and that stays: buy a gift pack and you are a partner again" in html
    assert page(logged_in(ann), "/team", "en")[0] == 200


def test_a_member_with_agents_of_their_own_is_told_a_gift_pack_makes_them_a_partner(
        api_shop: None, register_member: Register) -> None:
    cat = register_member("cat")  # never buys
    for name in ("c1", "c2"):
        buy(register_member(name, inviter=cat))
    rank = cat.get("/api/me/rank").body
    assert (rank["rank"], rank["direct_agents"], rank["agents_to_partner"]) == ("member", 2, 0)
    html = page(logged_in(cat), "/me", "en")[1]
    assert "2 of 2 agents" in html and "their gift packs pay you nothing" in html
    assert "your gift pack makes you a partner at once" in html
    buy(cat)
    assert cat.get("/api/me/rank").body["rank"] == "partner"


def test_a_shop_without_chain21_shows_no_rank_and_no_team_but_the_referrals(
        db: None, api_settings: Any, register_member: Register) -> None:
    make_shop(plans={"points": {}})
    dan = register_member("dan")
    register_member("eve", inviter=dan)
    for path in ("/me", "/team"):
        for lang in ("zh-hans", "en"):
            status, html = page(logged_in(dan), path, lang)
            assert status == 200 and "data-rank=" not in html and 'data-figure="help_fund"' not in html
    html = page(logged_in(dan), "/team", "en")[1]
    assert names_listed(html) == ["eve"] and "data-seeds" not in html and 'class="tabs"' not in html
    assert "data-next-rank" not in page(logged_in(dan), "/me", "en")[1]


def test_paging_reads_are_bounded(big_team: dict[str, Caller]) -> None:
    from liandong.web.api import reads

    ann = big_team["ann"].member
    first = reads.team_page(ann, limit=50)
    assert len(first["members"]) == 50 and first["total"] == 503 and first["prev_before"] is None
    second = reads.team_page(ann, after=first["next_after"], limit=50)
    assert second["members"][0]["join_index"] > first["members"][-1]["join_index"]
    assert reads.team_page(ann, before=second["prev_before"], limit=50)["members"] == first["members"]
    with pytest.raises(ApiError, match="limit"):
        reads.team_page(ann, limit=51)
