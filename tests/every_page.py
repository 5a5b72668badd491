"""Every member page (each url name of ``liandong.web.pages.urls``) and how to reach it on a demo shop with data.

``PAGES`` maps a url name to a ``Page``: how to build its path from the ``DemoShop`` that ``build_demo_shop()`` made,
who looks at it (``member``: ann, logged in; ``visitor``: nobody logged in) and what it answers (``html`` pages are
walked, in both languages, by tests/web/test_pages_i18n.py and screenshot by tests/browser/test_page_screenshots.py; the
PNG, the CSV and the log-out action are listed so that the table is complete, and checked for their status only).
tests/test_every_page_table.py fails when a url name of the pages is missing here: a new page gets its line, and so its
walk and its screenshots.

The demo shop (``build_demo_shop``, through the REST API as the pages act, on the database of the test): chain21 on
the gift pack, distribution on the tea (anyone is a promoter, two levels; a 1% withdrawal fee), points on everything;
ann bought a gift pack, her referrals s1, s2 and bob did too (ann is a partner with seeds s1 and s2), bob bought
tea through her (ann's level-1 commission), s1 brought s1kid (ann's team reward), all two days ago; that day was
closed (points released, a NAV); the next day bob bought tea again and ann asked to withdraw 50.00, and the
operator published a group-buy lottery on the tea (``gb-demo``): s2 started a group, bob joined it.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent / "web"))  # the API tests' client (tests/web/api_client.py)

from api_client import Caller, buy, make_operator, make_shop, register, signed_webhook
from django.utils import timezone

from liandong.service.store.models import CampaignState
from liandong.web.office.models import BlindBoxOffer
from liandong.web.office.offers import engine_params

DEMO_PLANS: dict[str, dict[str, Any]] = {
    "chain21": {"skus": ["GIFT"]},
    "distribution": {"levels": 2, "rates": ["0.10", "0.05"], "skus": ["TEA"], "withdrawal_fee_rate": "0.01"},
    "points": {},
    "contests": {},  # team contests (leaderboards branch): the demo runs one, pk-demo
}


@dataclass
class DemoShop:
    """The members of the demo shop by username, ann's gift-pack order and her invite code."""

    members: dict[str, Caller] = field(default_factory=dict)
    order: str = ""
    campaign: str = ""
    group: str = ""
    offer: int = 0
    contest: str = ""

    @property
    def ann(self) -> Caller:
        return self.members["ann"]


@contextmanager
def shop_clock(start: dt.datetime) -> Iterator[Callable[[float], None]]:
    """``django.utils.timezone.now`` at ``start`` inside the block (the events are logged at it), moved forward by
    the function it gives (seconds); the real clock again after it."""
    original = timezone.now
    now = [start]

    def advance(seconds: float) -> None:
        now[0] += dt.timedelta(seconds=seconds)

    timezone.now = lambda: now[0]  # type: ignore[assignment]
    try:
        yield advance
    finally:
        timezone.now = original  # type: ignore[assignment]


def build_demo_shop() -> DemoShop:
    """The demo shop above, its story told on a clock that starts three days ago (a day can be closed only once
    it is over). Needs the settings of the API tests with the log applied in each request
    (``LIANDONG_INLINE_WORKER``), as ``api_settings`` sets them."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    today = timezone.now().astimezone(shanghai).date()
    start = dt.datetime.combine(today - dt.timedelta(days=2), dt.time(9, 0), shanghai)
    shop = DemoShop()
    with shop_clock(start) as advance:
        make_shop(plans=DEMO_PLANS, start=start)
        operator = make_operator()
        ann = shop.members["ann"] = register("ann")
        shop.order = buy(ann)
        for name in ("s1", "s2", "bob"):
            advance(600)
            shop.members[name] = register(name, inviter=ann)
            buy(shop.members[name])
        buy(shop.members["bob"], "TEA")
        advance(600)
        shop.members["s1kid"] = register("s1kid", inviter=shop.members["s1"])
        buy(shop.members["s1kid"])
        advance(86400)
        closed = operator.post("/api/operator/close-day", {"day": start.date().isoformat()})
        assert closed.status == 200, closed.body
        buy(shop.members["bob"], "TEA")
        asked = ann.post("/api/withdrawals", {"amount": "50.00", "payee": "ann@example.com"})
        assert asked.status in (200, 201), asked.body
    # now, after the story (not on its clock), so that the group is still open:
    shop.campaign = "gb-demo"  # a group-buy lottery on the tea, published; s2 starts a group, bob joins it
    created = operator.post("/api/operator/actions/create_group_buy",
                            {"campaign": shop.campaign, "params": {"sku": "TEA"}})
    assert created.status == 200, created.body
    take_seat(shop.members["s2"], "start_group_buy", {"campaign": shop.campaign})
    view = CampaignState.objects.get(campaign=shop.campaign).view
    shop.group = str(view["group_views"][0]["group"])
    take_seat(shop.members["bob"], "join_group_buy", {"group": shop.group})
    shop.offer = publish_offer({"prize_sku": "TEA"})  # a blind-box offer members may start a set on
    # a team contest (战队PK) running for a week: ann's red team against s1's blue, bob joins red
    shop.contest = "pk-demo"
    begin = timezone.now() + dt.timedelta(minutes=1)  # a start the clock has not passed when it is logged
    created = operator.post("/api/operator/actions/create_contest", {
        "contest": shop.contest, "name": "PK", "start": begin.isoformat(),
        "end": (begin + dt.timedelta(days=7)).isoformat(), "metric": "sales",
        "teams": [{"id": "red", "name": "Red", "captain": shop.ann.member},
                  {"id": "blue", "name": "Blue", "captain": shop.members["s1"].member}],
        "prizes": [{"rank": 1, "cash": "10.00"}]})
    assert created.status == 200, created.body
    joined = shop.members["bob"].post("/api/actions/join_contest_team",
                                      {"contest": shop.contest, "captain": shop.ann.invite_code})
    assert joined.status == 200, joined.body
    return shop


def publish_offer(terms: dict[str, Any]) -> int:
    """A published blind-box offer on ``terms`` (the engine's model fills the rest), as the back office makes it."""
    params = engine_params(terms)
    assert isinstance(params, dict), params
    offer = BlindBoxOffer.objects.create(params=params, status="published", published_at=timezone.now(),
                                         created_by="operator")
    return offer.pk


def take_seat(caller: Caller, verb: str, body: dict[str, Any]) -> None:
    """A paid campaign action as a member's page takes it: the order it answers, paid by the provider's webhook."""
    order = caller.post(f"/api/actions/{verb}", body)
    assert order.status == 201, order.body
    paid = signed_webhook(caller, {"payment_id": f"pay-{order.body['order']}", "order": order.body["order"],
                                   "amount": order.body["amount"], "status": "succeeded"})
    assert paid.status == 200, paid.body


Viewer = Literal["member", "visitor"]
Kind = Literal["html", "image", "csv", "json", "action"]


@dataclass(frozen=True)
class Page:
    path: Callable[[DemoShop], str]
    viewer: Viewer = "member"
    kind: Kind = "html"


PAGES: dict[str, Page] = {
    "home": Page(lambda s: "/"),
    "product": Page(lambda s: "/products/GIFT"),
    "orders": Page(lambda s: "/orders"),
    "order": Page(lambda s: f"/orders/{s.order}"),
    "join": Page(lambda s: f"/join/{s.ann.invite_code}", viewer="visitor"),
    "register": Page(lambda s: "/register", viewer="visitor"),
    "login": Page(lambda s: "/login", viewer="visitor"),
    "logout": Page(lambda s: "/logout", kind="action"),
    "me": Page(lambda s: "/me"),
    "poster": Page(lambda s: "/me/poster"),
    "poster_png": Page(lambda s: "/me/poster.png", kind="image"),
    "team": Page(lambda s: "/team"),
    "earnings": Page(lambda s: "/earnings"),
    "earnings_bill": Page(lambda s: "/earnings/bill"),
    "statement_csv": Page(lambda s: "/earnings/statement.csv", kind="csv"),
    "withdraw": Page(lambda s: "/withdraw"),
    "points": Page(lambda s: "/points"),
    "distribution": Page(lambda s: "/distribution"),
    "inbox": Page(lambda s: "/inbox"),
    "campaigns": Page(lambda s: "/campaigns"),
    "blind_box_offer": Page(lambda s: f"/campaigns/offers/{s.offer}"),
    "campaign": Page(lambda s: f"/campaigns/{s.campaign}"),
    "group": Page(lambda s: f"/campaigns/{s.campaign}/groups/{s.group}"),
    "group_poster": Page(lambda s: f"/campaigns/{s.campaign}/groups/{s.group}/poster.png", kind="image"),
    "draw": Page(lambda s: f"/draws/{s.campaign}", viewer="visitor"),
    # a draw's record answers 404 until a draw is done (tests/web/test_pages_draws.py reads it after one)
    "draw_record": Page(lambda s: f"/draws/{s.campaign}/record.json", viewer="visitor", kind="json"),
    # the proof of liabilities of the closed day (public; ann sees her leaf), and her inclusion path in it
    "liabilities": Page(lambda s: "/liabilities"),
    "liabilities_proof": Page(lambda s: "/liabilities/proof.json", kind="json"),
    "leaderboards": Page(lambda s: "/leaderboards"),
    "contests": Page(lambda s: "/contests"),
    "contest": Page(lambda s: f"/contests/{s.contest}"),
    "contest_standings": Page(lambda s: f"/contests/{s.contest}/standings", kind="json"),
    "liabilities_roots": Page(lambda s: "/liabilities/roots.json", viewer="visitor", kind="json"),
}

#: The pages a person looks at: walked in both languages and screenshot.
HTML_PAGES: dict[str, Page] = {name: p for name, p in PAGES.items() if p.kind == "html"}
LANGS = ("zh-hans", "en")
