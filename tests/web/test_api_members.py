"""Members through the API: registering with an invite, logging in (token and session, rate-limited), and reading
one's own profile, balances, rank, team and statement (what the worker committed, in the engine's words)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from api_client import PASSWORD, Caller, Register, buy, make_operator
from django.test import Client

from liandong.service.store.models import LoggedEvent
from liandong.web.accounts.models import ApiToken

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


def test_register_with_invite_code_logs_a_join_naming_the_inviter(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    bob = register_member("bob", inviter=alice)
    me = bob.get("/api/me")
    assert me.status == 200
    assert me.body["referrer"] == alice.member and me.body["joined"] is True and me.body["rank"] == "member"
    join = LoggedEvent.objects.get(verb="join", payload__member=bob.member)
    assert join.payload == {"member": bob.member, "referrer": alice.member}
    assert join.actor == f"member:{bob.member}"


def test_register_through_an_invite_link_query(api_shop: None, register_member: Register,
                                               anonymous_caller: Caller) -> None:
    alice = register_member("alice")
    body = {"username": "carol", "password": PASSWORD}
    r = anonymous_caller.post(f"/api/auth/register?invite={alice.invite_code}", body)
    assert r.status == 201
    assert r.body["referrer"] == alice.member


@pytest.mark.parametrize("code", ["NOPE2345", "bad code!", "X" * 40, "１２３４"])
def test_an_unknown_or_malformed_invite_code_is_the_same_400_not_valid(api_shop: None, anonymous_caller: Caller,
                                                                       code: str) -> None:
    body = {"username": "dave", "password": PASSWORD, "invite_code": code}
    r = anonymous_caller.post("/api/auth/register", body)
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"]) == ("invite_invalid", "invite_code")
    assert r.body["error"]["message"] == f"invite code {r.body['error']['value']} is not valid"
    assert not LoggedEvent.objects.filter(verb="join").exists()


def test_taken_username_is_a_409(api_shop: None, register_member: Register, anonymous_caller: Caller) -> None:
    register_member("alice")
    r = anonymous_caller.post("/api/auth/register", {"username": "alice", "password": PASSWORD})
    assert r.status == 409
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == ("exists", "username",
                                                                                            "alice")


def test_weak_password_is_a_400_that_does_not_echo_it(api_shop: None, anonymous_caller: Caller) -> None:
    r = anonymous_caller.post("/api/auth/register", {"username": "erin", "password": "abc"})
    assert r.status == 400
    assert (r.body["error"]["code"], r.body["error"]["field"], r.body["error"]["value"]) == (
        "password_rejected", "password", None)
    assert r.body["error"]["message"].startswith("password is not allowed: This password is too short.")
    assert "abc" not in r.body["error"]["message"]


def test_a_token_is_stored_only_as_its_hash(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    assert alice.token is not None and alice.token.startswith("ld_")
    stored = ApiToken.objects.get(user__username="alice")
    assert stored.token_hash == hashlib.sha256(alice.token.encode()).hexdigest()
    assert not ApiToken.objects.filter(token_hash=alice.token).exists()


def test_a_revoked_token_no_longer_authenticates(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    assert alice.request("DELETE", "/api/auth/token").status == 204
    r = alice.get("/api/me")
    assert r.status == 401
    assert (r.body["error"]["code"], r.body["error"]["field"]) == ("unauthorized", "Authorization")


def test_session_login_reads_me_and_needs_csrf_for_posts(api_shop: None, register_member: Register) -> None:
    register_member("alice")
    browser = Caller(Client(enforce_csrf_checks=True))
    login = browser.post("/api/auth/login", {"username": "alice", "password": PASSWORD})
    assert login.status == 200 and login.body["operator"] is False
    assert browser.get("/api/me").body["username"] == "alice"
    refused = browser.post("/api/orders", {"sku": "GIFT"})
    assert refused.status == 403 and refused.body["error"]["code"] == "csrf_failed"
    browser.headers["X-CSRFToken"] = browser.client.cookies["csrftoken"].value
    assert browser.post("/api/orders", {"sku": "GIFT"}).status == 201


def test_five_failed_logins_then_429_even_with_the_right_password(api_shop: None, register_member: Register,
                                                                  anonymous_caller: Caller) -> None:
    register_member("alice")
    register_member("bob")
    for _ in range(5):
        wrong = anonymous_caller.post("/api/auth/token", {"username": "alice", "password": "wrong-password"})
        assert wrong.status == 401 and wrong.body["error"]["code"] == "login_failed"
    blocked = anonymous_caller.post("/api/auth/token", {"username": "alice", "password": PASSWORD})
    assert blocked.status == 429
    assert (blocked.body["error"]["code"], blocked.body["error"]["value"]) == ("rate_limited", "alice")
    assert 880 <= int(blocked.headers["Retry-After"]) <= 900  # LOGIN_LOCKOUT_MINUTES after the last failure
    assert anonymous_caller.post("/api/auth/login", {"username": "alice", "password": PASSWORD}).status == 429
    assert anonymous_caller.post("/api/auth/token", {"username": "bob", "password": PASSWORD}).status == 201


def test_a_successful_login_clears_the_failures(api_shop: None, register_member: Register,
                                               anonymous_caller: Caller) -> None:
    register_member("alice")
    for _ in range(4):
        anonymous_caller.post("/api/auth/token", {"username": "alice", "password": "wrong-password"})
    assert anonymous_caller.post("/api/auth/token", {"username": "alice", "password": PASSWORD}).status == 201
    for _ in range(4):
        anonymous_caller.post("/api/auth/token", {"username": "alice", "password": "wrong-password"})
    assert anonymous_caller.post("/api/auth/token", {"username": "alice", "password": PASSWORD}).status == 201


@pytest.fixture
def partner_tree(api_shop: None, register_member: Register) -> dict[str, Caller]:
    """A buys; A1 and A2 (A's referrals) buy, so A is a partner with seeds A1, A2; B (A's) buys: A +300."""
    a = register_member("a")
    buy(a)
    tree = {"A": a}
    for name in ("A1", "A2", "B"):
        tree[name] = register_member(name.lower(), inviter=a)
        buy(tree[name])
    return tree


def test_my_balances_after_a_partners_direct_reward(partner_tree: dict[str, Caller]) -> None:
    # 100 + 100 as an agent, then 300 as a partner whose seeds are not partners: 240 available + 60 help fund
    r = partner_tree["A"].get("/api/me/balances")
    assert r.status == 200
    assert r.body == {"member": partner_tree["A"].member, "available": "440.00", "pending": "0.00",
                      "help_fund": "60.00", "withdrawing": "0.00", "withdrawn": "0.00", "other": r.body["other"]}


def test_my_rank_and_progress_to_partner(partner_tree: dict[str, Caller]) -> None:
    a = partner_tree["A"].get("/api/me/rank").body
    assert (a["rank"], a["direct_agents"], a["promote_after"], a["agents_to_partner"]) == ("partner", 3, 2, 0)
    assert a["promoted_at"] is not None and a["team"] is None
    b = partner_tree["B"].get("/api/me/rank").body
    assert (b["rank"], b["direct_agents"], b["agents_to_partner"], b["team"]) == ("agent", 0, 2,
                                                                                  partner_tree["A"].member)


def test_my_team_seeds_and_what_releases_the_help_fund(partner_tree: dict[str, Caller]) -> None:
    ids = {name: c.member for name, c in partner_tree.items()}
    team = partner_tree["A"].get("/api/me/team").body
    assert team["leader"] is True
    assert [m["member"] for m in team["members"]] == [ids["A1"], ids["A2"], ids["B"]]
    assert [(s["member"], s["rank"], s["promoted"]) for s in team["seeds"]] == [(ids["A1"], "agent", False),
                                                                                (ids["A2"], "agent", False)]
    assert team["help_fund"]["balance"] == "60.00" and team["help_fund"]["released"] is False
    assert team["help_fund"]["waiting_for"] == [ids["A1"], ids["A2"]]
    assert ids["A1"] in team["help_fund"]["releases_when"]


def test_my_statement_explains_every_entry_in_the_engines_words(partner_tree: dict[str, Caller]) -> None:
    a = partner_tree["A"]
    lines = a.get("/api/me/statement").body["lines"]
    money = [(line["rule"], line["book"], line["amount"], line["balance_after"]) for line in lines
             if line["book"] in ("available", "help_fund")]
    assert money == [("direct_reward", "available", "100.00", "100.00"),
                     ("direct_reward", "available", "100.00", "200.00"),
                     ("direct_reward", "available", "240.00", "440.00"),
                     ("direct_reward", "help_fund", "60.00", "60.00")]
    last = next(line for line in lines if line["amount"] == "240.00")
    buyer = partner_tree["B"].member
    assert "direct reward → " not in last["text"]
    assert f"+240.00 direct reward · order {last['order']} by {buyer} (your referral)" in last["text"]
    assert "直推奖" in last["text_zh"] and last["label_zh"] == "直推奖"


def test_statement_pages_with_after(partner_tree: dict[str, Caller]) -> None:
    a = partner_tree["A"]
    every = a.get("/api/me/statement").body["lines"]
    first = a.get("/api/me/statement?limit=2").body
    assert [line["entry"] for line in first["lines"]] == [line["entry"] for line in every[:2]]
    rest = a.get(f"/api/me/statement?after={first['next_after']}&limit=500").body
    assert [line["entry"] for line in first["lines"] + rest["lines"]] == [line["entry"] for line in every]
    assert rest["next_after"] is None


def test_another_member_reads_only_its_own_data(partner_tree: dict[str, Caller]) -> None:
    a, b = partner_tree["A"], partner_tree["B"]
    assert b.get("/api/me/balances").body["member"] == b.member
    assert b.get("/api/me/balances").body["available"] == "0.00"
    a_order = a.get("/api/me/orders").body["orders"][0]["order"]
    hidden = b.get(f"/api/orders/{a_order}")
    assert hidden.status == 404 and hidden.body["error"]["value"] == a_order
    assert all(o["member"] == b.member for o in b.get("/api/me/orders").body["orders"])


def test_an_operator_who_is_not_a_member_has_no_me(api_shop: None, api_operator: Caller) -> None:
    r = api_operator.get("/api/me/balances")
    assert r.status == 403
    assert (r.body["error"]["code"], r.body["error"]["value"]) == ("not_a_member", "operator")


def test_staff_without_the_permission_is_403_naming_it(api_shop: None) -> None:
    clerk = make_operator("clerk", permissions=())
    r = clerk.post("/api/operator/close-day", {"day": "2026-01-01"})
    assert r.status == 403
    assert r.body["error"]["value"] == "the permission accounts.close_day"


def test_statement_newest_first_pages_back_to_the_oldest(partner_tree: dict[str, Caller]) -> None:
    a = partner_tree["A"]
    every = [line["entry"] for line in a.get("/api/me/statement?limit=500").body["lines"]]
    seen: list[int] = []
    after = 0
    while True:
        page = a.get(f"/api/me/statement?order=newest&limit=3&after={after}").body
        seen += [line["entry"] for line in page["lines"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == every[::-1] and len(every) > 3
    wrong = a.get("/api/me/statement?order=sideways")
    assert wrong.status == 400 and wrong.body["error"]["field"] == "order"


def test_register_keeps_an_optional_phone_and_email_shown_to_the_member_only(api_shop: None,
                                                                             register_member: Register) -> None:
    from liandong.web.accounts.models import MemberLogin

    alice = register_member("alice", phone="+86 138-0013-8000", email=" Alice.B+shop@Example.com ")
    login = MemberLogin.objects.get(member=alice.member)
    assert (login.phone, login.email) == ("13800138000", "Alice.B+shop@Example.com")
    me = alice.get("/api/me").body
    assert me["phone"] == "13800138000" and me["email"] == "Alice.B+shop@Example.com"
    bob = register_member("bob", inviter=alice, phone="13900139000")
    assert bob.get("/api/me").body["phone"] == "13900139000" and bob.get("/api/me").body["email"] is None
    team = alice.get("/api/me/team")
    assert team.status == 200 and "13900139000" not in str(team.body)  # another member never reads it
    assert "13900139000" not in str(alice.get("/api/me").body)
    join = LoggedEvent.objects.get(verb="join", payload__member=alice.member)
    assert "phone" not in join.payload and "email" not in join.payload  # the join stays as it was
    assert not LoggedEvent.objects.filter(verb="observe_signals").exists()  # no fraud holds: no signals


@pytest.mark.parametrize(("field", "value"), [("phone", "1380013800"), ("phone", "23800138000"),
                                              ("phone", "+1 138 0013 8000"), ("phone", "138.0013.8000"),
                                              ("email", "not-an-address"), ("email", "a@b")])
def test_a_bad_phone_or_email_is_a_400_naming_it_and_creates_nothing(api_shop: None, anonymous_caller: Caller,
                                                                      field: str, value: str) -> None:
    from django.contrib.auth import get_user_model

    r = anonymous_caller.post("/api/auth/register", {"username": "erin", "password": PASSWORD, field: value})
    assert r.status == 400, r.body
    error = r.body["error"]
    assert error["code"] == "invalid" and error["field"] == field and error["value"] == value
    assert error["message"].startswith(f"{field} {value}: ")
    assert not get_user_model().objects.filter(username="erin").exists()
    assert not LoggedEvent.objects.filter(verb="join").exists()


def test_the_contacts_go_in_the_signals_logged_before_the_join_when_fraud_holds_run(
        db: None, api_settings: Any, register_member: Register) -> None:
    from api_client import make_shop
    from django.utils import timezone

    make_shop(plans={"chain21": {}, "fraud_holds": {"self_referral": {"levels": 3}}},
              start=timezone.now() - dt.timedelta(days=1))
    ann = register_member("ann", phone="138 0013 8000", email="A.B+promo@GoogleMail.com")
    signals = LoggedEvent.objects.get(verb="observe_signals", payload__member=ann.member)
    join = LoggedEvent.objects.get(verb="join", payload__member=ann.member)
    assert signals.position < join.position
    assert signals.payload["phone"] == "13800138000" and signals.payload["email"] == "ab@gmail.com"
