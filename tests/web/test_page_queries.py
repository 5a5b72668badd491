"""Every member page reads a page, not a team or a statement: its SQL query count for a member with a large team, many
referrals, bound buyers, orders, withdrawals and a long statement is no more than for a member with a few of each.

Two leaders in one shop (chain21, points and distribution running): *big*, with 70 referrals (each bringing one more:
a team of 140), 30 orders and 25 withdrawals; *little*, with 3 referrals (a team of 6), 3 orders and 3 withdrawals.
Each page is rendered once as each (after one render to warm Django's caches), with the same kind of address (a
deep page asks for the page after the first item of the list). ``bench/pages.py`` measures the time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import log_event, make_shop
from liandong.service.store.models import LedgerEntry, MemberState, OrderState
from liandong.service.worker import drain
from liandong.web.accounts.models import MemberLogin

PLANS = {"chain21": {}, "points": {},
         "distribution": {"eligibility": "anyone", "levels": 2, "rates": ["0.05", "0.02"], "binding_days": 30}}
PRODUCTS = [{"sku": "GIFT", "price": "699.00", "gift_pack": True}, {"sku": "TEA", "price": "59.00"}]


def grow(leader: str, referrals: int, orders: int, withdrawals: int) -> None:
    """``leader`` buys a gift pack; each referral buys one and brings one member who buys one; then the leader's
    own everyday orders and withdrawals of 10.00 each."""
    log_event("join", member=leader)
    log_event("pay", member=leader, sku="GIFT", order=f"{leader}-gift")
    for n in range(referrals):
        child, grandchild = f"{leader}-r{n}", f"{leader}-r{n}-c"
        log_event("join", member=child, referrer=leader)
        log_event("pay", member=child, sku="GIFT", order=f"{child}-gift")
        log_event("join", member=grandchild, referrer=child)
        log_event("pay", member=grandchild, sku="GIFT", order=f"{grandchild}-gift")
    for n in range(orders):
        log_event("pay", member=leader, sku="TEA", order=f"{leader}-tea{n}")
    for n in range(withdrawals):
        log_event("withdraw", member=leader, amount="10.00", withdrawal=f"{leader}-w{n}", payee="alipay:138")


@pytest.fixture
def shop(db: None, settings: object) -> Iterator[dict[str, Client]]:
    make_shop(plans=PLANS, start=timezone.now() - dt.timedelta(hours=2), products=PRODUCTS)
    grow("big", referrals=70, orders=30, withdrawals=25)
    grow("little", referrals=3, orders=3, withdrawals=3)
    drain()
    clients = {}
    for state in MemberState.objects.all():
        user = User.objects.create_user(f"u-{state.member}", password="!")
        MemberLogin.objects.create(user=user, member=state.member, invite_code=f"C{state.join_index:06d}")
        if state.member in ("big", "little"):
            clients[state.member] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            clients[state.member].force_login(user)
    yield clients


def addresses(member: str) -> dict[str, str]:
    """Every member page, as ``member`` sees it."""
    code = MemberLogin.objects.get(member=member).invite_code
    own = OrderState.objects.filter(member=member).order_by("paid_at").values_list("order", flat=True).first()
    credited = f"{member}-r0-gift"
    first_in_team = MemberState.objects.filter(team=member).order_by("join_index").values_list(
        "join_index", flat=True).first()
    newest_entry = LedgerEntry.objects.filter(owner=member, unit="fen").order_by("-id").values_list(
        "id", flat=True).first()
    month = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    return {
        "home": "/", "product": "/products/GIFT", "orders": "/orders", "order (own)": f"/orders/{own}",
        "order (credited)": f"/orders/{credited}", "join": f"/join/{code}", "me": "/me", "poster": "/me/poster",
        "team": "/team?list=team", "team search": "/team?list=team&q=r1", "referrals": "/team?list=referrals",
        "team deep page": f"/team?list=team&after={first_in_team}",
        "earnings": "/earnings", "earnings filtered": f"/earnings?kind=direct_reward&month={month}",
        "earnings deep page": f"/earnings?after={newest_entry}", "bill": f"/earnings/bill?month={month}",
        "statement.csv": "/earnings/statement.csv", "withdraw": "/withdraw", "points": "/points",
        "distribution": "/distribution", "distribution deep page": "/distribution?after=0",
    }


def queries(client: Client, path: str) -> int:
    client.get(path)  # Django's own first-use queries (content types, …) are not the page's
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


def test_the_team_and_statement_sizes_differ_as_intended(shop: dict[str, Client]) -> None:
    sizes = {m: (MemberState.objects.filter(team=m).count(), MemberState.objects.filter(bound_promoter=m).count(),
                 LedgerEntry.objects.filter(owner=m, unit="fen").count()) for m in ("big", "little")}
    assert sizes["big"][0] >= 100 and sizes["little"][0] <= 10
    assert sizes["big"][1] > 40 and sizes["little"][1] == 3  # more than a page of bound buyers (20)
    assert sizes["big"][2] > 10 * sizes["little"][2] and sizes["big"][2] > 200


def test_no_member_page_reads_more_for_a_larger_team_or_statement(shop: dict[str, Client]) -> None:
    big, little = addresses("big"), addresses("little")
    counts = {name: (queries(shop["big"], big[name]), queries(shop["little"], little[name])) for name in big}
    grows = {name: found for name, found in counts.items() if found[0] > found[1]}
    assert not grows, f"query counts (big, little) that grow: {grows}; all: {counts}"
