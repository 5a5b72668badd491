"""The back office's door: its own login (limited and locked out like every login form), log out, the roles as
groups holding the operator permissions, who may open which page and who may act, and the command that makes an
office user."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from api_client import PASSWORD, Register
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from office_client import ROLES, office_browser, office_user
from page_client import logged_in, page

from liandong.service.store.models import LoggedEvent
from liandong.web.accounts.models import OFFICE_ROLES, AuditLog
from liandong.web.office.access import office_user_of
from liandong.web.office.models import BlindBoxOffer

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str, next_path: str = "") -> Any:
    data = {"username": username, "password": password, **({"next": next_path} if next_path else {})}
    return client.post("/office/login", data, HTTP_ACCEPT_LANGUAGE="en")


# --- logging in and out ---------------------------------------------------------------------------------------------


def test_an_office_user_logs_in_and_sees_its_name_and_role_then_logs_out(api_shop: None) -> None:
    office_user("fiona", "finance")
    browser = Client()
    assert browser.get("/office/withdrawals")["Location"] == "/office/login?next=%2Foffice%2Fwithdrawals"
    r = login(browser, "fiona", PASSWORD, "/office/withdrawals")
    assert r.status_code == 302 and r["Location"] == "/office/withdrawals"
    for lang, role in (("en", "Finance"), ("zh-hans", "财务")):
        status, html = page(browser, "/office/", lang)
        assert status == 200
        assert 'data-office-user="fiona"' in html and f"<span class=\"role\" data-role>{role}</span>" in html
    assert browser.post("/office/logout")["Location"] == "/office/login"
    assert browser.get("/office/").status_code == 302


def test_a_login_never_sends_to_another_site(api_shop: None) -> None:
    office_user("olga", "operator")
    for target in ("//evil.example/x", "https://evil.example/", "/me"):
        assert login(Client(), "olga", PASSWORD, target)["Location"] == "/office/"


def test_a_members_login_does_not_open_the_back_office(api_shop: None, register_member: Register) -> None:
    alice = register_member("alice")
    browser = Client()
    r = login(browser, "alice", PASSWORD)
    assert r.status_code == 403 and "do not open the back office" in r.content.decode()
    assert browser.get("/office/").status_code == 302  # not logged in
    member_session = logged_in(alice)
    status, html = page(member_session, "/office/", "en")
    assert status == 403 and "not an operator" in html


def test_wrong_passwords_lock_the_office_login_out_even_for_the_right_one(api_shop: None) -> None:
    office_user("boss", "owner")
    browser = Client()
    answers = [login(browser, "boss", "wrong-password").status_code for _ in range(5)]
    assert answers == [401] * 4 + [429]
    right = login(browser, "boss", PASSWORD)
    assert right.status_code == 429 and 1 <= int(right["Retry-After"]) <= 900
    html = right.content.decode()
    assert "data-locked" in html and "Too many failed logins" in html
    assert browser.get("/office/").status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")  # the lockout is per username and address
    assert login(elsewhere, "boss", PASSWORD).status_code == 302


def test_many_usernames_from_one_address_are_locked_out(api_shop: None, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_CLIENT = 6
    office_user("boss", "owner")
    sprayer = Client(REMOTE_ADDR="10.0.0.66")
    assert [login(sprayer, f"user{n}", "wrong-password").status_code for n in range(6)] == [401] * 6
    assert login(sprayer, "boss", PASSWORD).status_code == 429


def test_the_member_login_and_the_office_login_count_together(api_shop: None, register_member: Register) -> None:
    """One limit for one person, whichever form it tries: failures at the API's login count at the office's."""
    office_user("boss", "owner")
    browser = Client()
    for _ in range(5):
        r = browser.post("/api/auth/login", {"username": "boss", "password": "wrong-password"},
                         content_type="application/json", headers={"Idempotency-Key": uuid.uuid4().hex})
        assert r.status_code in (401, 429)
    assert login(browser, "boss", PASSWORD).status_code == 429


# --- roles ------------------------------------------------------------------------------------------------------------


def test_the_roles_are_groups_holding_their_permissions(db: None) -> None:
    for role, codenames in OFFICE_ROLES.items():
        held = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert held == set(codenames), role
    assert "view_office" not in OFFICE_ROLES["finance"] and "configure_plan" not in OFFICE_ROLES["operator"]
    assert OFFICE_ROLES["read-only"] == ("view_office",)


#: page -> the status each role gets on GET (owner, operator, finance, read-only)
PAGES = {
    "/office/": (200, 200, 200, 200),
    "/office/withdrawals": (200, 200, 200, 200),
    "/office/withdrawals/payouts.csv": (200, 403, 200, 403),  # payee accounts: only who decides withdrawals
    "/office/promoters": (200, 200, 403, 200),
    "/office/audit": (200, 200, 403, 200),
    "/office/campaigns": (200, 200, 403, 200),
    "/office/campaigns/new/group_buy": (200, 200, 403, 200),
    "/office/campaigns/new/blind_box": (200, 200, 403, 200),
    "/office/campaigns/no-such-campaign": (404, 404, 403, 404),
    "/office/campaigns/offers/{offer}": (200, 200, 403, 200),  # a blind-box offer, made by the test
    "/office/campaigns/offers/999": (404, 404, 403, 404),
    "/office/orders": (200, 200, 403, 200),
    "/office/days": (200, 200, 403, 200),
    "/office/plans": (200, 200, 403, 200),
    "/office/plans/chain21": (200, 200, 403, 200),
    "/office/plans/previews/1": (404, 404, 403, 404),  # no such preview: past the door, a 404
    "/office/dashboard": (200, 200, 403, 200),
    "/office/dashboard/sales.csv": (200, 200, 403, 200),
    "/office/members": (200, 200, 403, 200),
    "/office/members?q=nobody": (200, 200, 403, 200),
    "/office/reconciliation": (200, 200, 200, 200),  # the upload form; matching a bill (POST): decide_withdrawal
    "/office/holds": (200, 200, 200, 200),  # the fraud holds: decide_withdrawal acts, view_office reads
    "/office/contests": (200, 200, 403, 200),
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_the_pages_its_permissions_allow(api_shop: None, role: str) -> None:
    browser = office_browser(role)
    offer = BlindBoxOffer.objects.create(params={"prize_sku": "TEA"}, created_by="owner")
    for path, statuses in PAGES.items():
        path = path.format(offer=offer.pk)
        assert browser.get(path).status_code == statuses[ROLES.index(role)], (role, path)
    _status, html = page(browser, "/office/", "en")
    names = ("home", "withdrawals", "holds", "promoters", "audit", "campaigns", "orders", "days", "plans",
             "reconciliation")
    shown = {name for name in names if f'data-nav="{name}"' in html}
    expected = {"home", "withdrawals", "holds", "reconciliation"} if role == "finance" else set(names)
    assert shown == expected


def test_the_403_page_names_what_is_missing(api_shop: None) -> None:
    status, html = page(office_browser("finance", "fiona"), "/office/promoters", "en")
    assert status == 403 and 'data-forbidden="manage_promoters"' in html
    assert "fiona (Finance) may not do this" in html and "decide promoter applications" in html


@pytest.mark.parametrize("role", ["read-only", "operator"])
def test_who_may_not_decide_withdrawals_cannot_act_on_them(api_shop: None, role: str) -> None:
    browser = office_browser(role)
    before = LoggedEvent.objects.count()
    for path in ("/office/withdrawals/w1/approve", "/office/withdrawals/w1/reject",
                 "/office/withdrawals/w1/mark-paid", "/office/withdrawals/approve"):
        r = browser.post(path, {"key": "ab" * 16, "reason": "x", "reference": "x", "withdrawal": "w1"})
        assert r.status_code == 403, path
    assert LoggedEvent.objects.count() == before and not AuditLog.objects.exists()


def test_finance_cannot_change_a_plan(api_shop: None) -> None:
    """The plan settings need ``configure_plan``, which finance does not hold: its session is refused by the API
    the plan settings page acts through, and the office's rule refuses to show such a page."""
    finance = office_user("fiona", "finance")
    assert not office_user_of(finance).may_read("configure_plan")
    assert office_user_of(office_user("owen", "owner")).may_act("configure_plan")
    browser = Client()
    browser.force_login(finance)
    r = browser.post("/api/operator/plans/chain21", {"config": {}}, content_type="application/json",
                     headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 403


# --- the command ------------------------------------------------------------------------------------------------------


def test_the_command_makes_and_changes_an_office_user(api_shop: None, register_member: Register) -> None:
    user = office_user("fiona", "finance")
    assert user.is_staff and list(user.groups.values_list("name", flat=True)) == ["finance"]
    assert user.check_password(PASSWORD)
    call_command("office_user", "fiona", "--role", "read-only")  # a role change keeps the password
    user = User.objects.get(username="fiona")
    assert list(user.groups.values_list("name", flat=True)) == ["read-only"] and user.check_password(PASSWORD)
    register_member("alice")
    with pytest.raises(CommandError, match="a member's login"):
        call_command("office_user", "alice", "--role", "owner")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("office_user", "fiona", "--role", "cashier")
    with pytest.raises(CommandError, match="not set"):
        call_command("office_user", "newbie", "--role", "owner", "--password-env", "LIANDONG_NO_SUCH_VARIABLE")
