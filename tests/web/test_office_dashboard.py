"""The dashboard (/office/dashboard): every figure equals what the ledger and the engine hold for a small shop built
through the API (sales, refunds, rewards by plan and rule, pools, payout ratio, joins and ranks, help funds, debts,
withdrawals waiting, points and their NAV); the periods and a bad custom period (400 naming the field and the
value); each chart's CSV holds exactly its numbers; finance may not open it; the figures rebuilt from the log equal
the ones the worker kept."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from api_client import Register, buy, make_operator, make_shop
from django.contrib.staticfiles import finders
from django.db.models import Sum
from django.test import Client
from django.utils import timezone, translation
from office_client import office_browser

from liandong.engine.ledger import REWARD_RULES
from liandong.engine.money import format_fen
from liandong.engine.registry import new_engine
from liandong.service.daily_figures import replay
from liandong.service.feed import shop_of
from liandong.service.store.models import (
    Balance,
    DailyFigure,
    LedgerEntry,
    LoggedEvent,
    MemberState,
    ShopSetup,
    WithdrawalState,
)
from liandong.service.verify import verify
from liandong.web.api import reads as api_reads
from liandong.web.office import dashboard_reads

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
PLANS = {"chain21": {}, "points": {}}


@pytest.fixture
def shop(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """alice buys the gift pack (an agent); bob and carl, her referrals, buy it too (100.00 direct rewards each);
    carl's order is refunded (his reward to alice reversed, his rank lost); dora buys tea; alice asks to withdraw
    50.00."""
    make_shop(plans=PLANS, start=timezone.now() - dt.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    buy(bob)
    carl = register_member("carl", inviter=alice)
    carl_order = buy(carl)
    dora = register_member("dora", inviter=bob)
    buy(dora, "TEA")
    assert make_operator("api-op").post(f"/api/operator/orders/{carl_order}/refund").status == 200
    r = alice.post("/api/withdrawals", {"amount": "50.00", "payee": "alipay:13800000000"})
    assert r.status == 201, r.body
    return {"alice": alice, "bob": bob, "carl": carl, "dora": dora}


def get(client: Client, path: str, lang: str = "en") -> tuple[int, str]:
    r = client.get(path, HTTP_ACCEPT_LANGUAGE=lang)
    return r.status_code, r.content.decode()


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{re.escape(name)}"[^>]*>(.*?)</div>', html, re.S)
    assert found is not None, f"no figure {name}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def yuan(fen: int) -> str:
    return ("-¥" if fen < 0 else "¥") + format_fen(abs(fen))


def csv_rows(client: Client, chart: str, query: str) -> list[list[str]]:
    r = client.get(f"/office/dashboard/{chart}.csv?{query}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def sales_entries() -> tuple[int, int, int, int]:
    """From the ledger: (paid in, postings, taken back, postings) of @platform/sales."""
    rows = LedgerEntry.objects.filter(owner="@platform", book="sales")
    paid = rows.filter(amount__gt=0).aggregate(s=Sum("amount"))["s"] or 0
    back = rows.filter(amount__lt=0).aggregate(s=Sum("amount"))["s"] or 0
    return paid, rows.filter(amount__gt=0).count(), -back, rows.filter(amount__lt=0).count()


def rewards_by_rule() -> dict[str, int]:
    """From the ledger: what members were credited by each reward rule, less reversals."""
    found = (LedgerEntry.objects.filter(transaction__rule__in=REWARD_RULES, unit="fen")
             .exclude(owner__startswith="@").values_list("transaction__rule").annotate(s=Sum("amount")))
    return {rule: amount for rule, amount in found if amount}


# --- the figures --------------------------------------------------------------------------------------------------


def test_every_figure_of_today_equals_the_ledger_and_the_engine(shop: dict[str, Any]) -> None:
    status, html = get(office_browser("owner"), "/office/dashboard?period=today")
    assert status == 200
    paid, orders, back, refunds = sales_entries()
    assert (paid, orders, back, refunds) == (3 * 69900 + 5900, 4, 69900, 1)
    assert figure(html, "sales") == yuan(paid) and f"{orders} orders" in html
    assert figure(html, "refunds") == yuan(back) and figure(html, "refund_count") == "1"
    net = Balance.objects.get(owner="@platform", book="sales").amount
    assert figure(html, "net_sales") == yuan(net) == yuan(paid - back)
    by_rule = rewards_by_rule()
    rewards = sum(by_rule.values())
    assert by_rule["direct_reward"] == 10000  # bob's pays alice; carl's was reversed
    assert figure(html, "rewards") == yuan(rewards)
    row = re.search(r'<tr data-reward="chain21:direct_reward">.*?</tr>', html, re.S)
    assert row is not None and yuan(10000) in row.group(0) and "direct reward" in row.group(0)
    pools = sum(Balance.objects.filter(owner="@pool").values_list("amount", flat=True))
    assert pools > 0 and figure(html, "pools") == yuan(pools)
    assert figure(html, "payout_ratio") == dashboard_reads.ratio_text(
        dashboard_reads.payout_ratio(net, rewards, pools))
    assert figure(html, "margin") == yuan(net - rewards - pools)
    # members: four joined, three reached agent (alice, bob, carl), carl lost it, alice reached partner (two agents)
    assert figure(html, "joined") == "4" == str(MemberState.objects.count())
    assert figure(html, "reached:chain21:agent") == "3" and "1 lost" in html
    assert figure(html, "held:chain21:agent") == str(MemberState.objects.filter(rank="agent").count()) == "1"
    assert figure(html, "reached:chain21:partner") == "1" == figure(html, "held:chain21:partner")
    assert MemberState.objects.get(member=shop["alice"].member).rank == "partner"


def test_the_balances_now_are_the_ledgers(shop: dict[str, Any]) -> None:
    _status, html = get(office_browser("owner"), "/office/dashboard")
    for book, amount in Balance.objects.filter(owner="@pool").values_list("book", "amount"):
        assert figure(html, f"pool:{book}") == yuan(amount)
    help_funds = Balance.objects.filter(book="help_fund").exclude(owner__startswith="@").aggregate(
        s=Sum("amount"))["s"] or 0
    assert figure(html, "help_funds") == yuan(help_funds)
    points = api_reads.shop_read("points")
    assert points is not None and figure(html, "points_nav") == points["nav"]
    assert figure(html, "points_outstanding") == points["outstanding"]
    waiting = WithdrawalState.objects.filter(status="requested")
    assert figure(html, "pending_withdrawals_amount") == yuan(sum(w.amount for w in waiting)) == "¥50.00"
    assert "1 withdrawal waiting" in html
    owing = Balance.objects.filter(book="available", amount__lt=0).exclude(owner__startswith="@")
    assert figure(html, "owing") == yuan(-sum(b.amount for b in owing))
    assert figure(html, "escrow") == yuan(sum(Balance.objects.filter(owner="@escrow")
                                              .values_list("amount", flat=True)))


def test_a_debt_shows_with_the_members_who_owe(db: None, api_settings: Any, register_member: Register) -> None:
    """alice withdraws her reward, then bob's order is refunded: alice owes the 100.00 taken back."""
    make_shop(start=timezone.now() - dt.timedelta(days=1))
    alice = register_member("alice")
    buy(alice)
    bob_order = buy(register_member("bob", inviter=alice))
    assert alice.post("/api/withdrawals", {"amount": "100.00", "payee": "alipay:1"}).status == 201
    assert make_operator("api-op").post(f"/api/operator/orders/{bob_order}/refund").status == 200
    owing = Balance.objects.get(owner=alice.member, book="available").amount
    assert owing == -10000
    _status, html = get(office_browser("owner"), "/office/dashboard")
    assert figure(html, "owing") == "¥100.00" and "1 member owes" in html


def test_the_periods_sum_their_days(shop: dict[str, Any]) -> None:
    browser = office_browser("read-only")
    today = api_reads.today()
    for query in ("period=today", "period=7", "period=30", "",
                  f"period=custom&from={(today - dt.timedelta(days=3)).isoformat()}&to={today.isoformat()}"):
        status, html = get(browser, f"/office/dashboard?{query}")
        assert status == 200 and figure(html, "sales") == yuan(sales_entries()[0]), query
    past = (today - dt.timedelta(days=40)).isoformat(), (today - dt.timedelta(days=35)).isoformat()
    status, html = get(browser, f"/office/dashboard?period=custom&from={past[0]}&to={past[1]}")
    assert status == 200 and figure(html, "sales") == "¥0.00" and figure(html, "joined") == "0"
    assert figure(html, "payout_ratio") == "—"
    assert 'data-period="custom"' in html and past[0] in html
    rows = csv_rows(browser, "sales", f"period=custom&from={past[0]}&to={past[1]}")
    assert [r[0] for r in rows[1:]] == [(today - dt.timedelta(days=40 - i)).isoformat() for i in range(6)]


@pytest.mark.parametrize(("query", "field", "value"), [
    ("period=week", "period", "week"),
    ("period=custom&to=2026-03-01", "from", ""),
    ("period=custom&from=2026-03-01", "to", ""),
    ("period=custom&from=2026-13-01&to=2026-12-01", "from", "2026-13-01"),
    ("period=custom&from=2026-03-01&to=01/03/2026", "to", "01/03/2026"),
    ("period=custom&from=2026-03-05&to=2026-03-01", "to", "2026-03-01"),
    ("period=custom&from=2024-01-01&to=2026-03-01", "to", "2026-03-01"),
])
def test_a_bad_period_is_a_400_naming_the_field_and_the_value(api_shop: None, query: str, field: str,
                                                               value: str) -> None:
    browser = office_browser("owner")
    status, html = get(browser, f"/office/dashboard?{query}")
    assert status == 400 and f'data-bad-filter="{field}"' in html and f"“{value}”" in html
    assert "data-chart" not in html
    r = browser.get(f"/office/dashboard/sales.csv?{query}")
    assert r.status_code == 400 and field in r.content.decode()


# --- the charts ---------------------------------------------------------------------------------------------------


def test_each_chart_has_a_csv_of_exactly_its_numbers(shop: dict[str, Any]) -> None:
    browser = office_browser("owner")
    today = api_reads.today()
    status, html = get(browser, "/office/dashboard?period=7")
    assert status == 200
    specs = re.search(r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html, re.S)
    assert specs is not None
    charts = json.loads(specs.group(1))
    days = [(today - dt.timedelta(days=6 - i)).isoformat() for i in range(7)]
    paid, orders, back, refunds = sales_entries()
    sales = csv_rows(browser, "sales", "period=7")
    assert sales[0] == ["day", "sales", "refunds", "net_sales", "orders", "refunded_orders"]
    assert [r[0] for r in sales[1:]] == days == charts["sales"]["x"]
    assert sales[-1][1:] == [format_fen(paid), format_fen(back), format_fen(paid - back), str(orders), str(refunds)]
    assert all(r[1:] == ["0.00", "0.00", "0.00", "0", "0"] for r in sales[1:-1])
    assert [s["y"] for s in charts["sales"]["series"]] == [[r[i] for r in sales[1:]] for i in (1, 2, 3)]
    rewards = csv_rows(browser, "rewards", "period=7")
    by_rule = rewards_by_rule()
    header = rewards[0]
    assert header[0] == "day" and header[-1] == "total"
    assert {h.split(":")[1]: rewards[-1][i] for i, h in enumerate(header[1:-1], 1)} == {
        rule: format_fen(amount) for rule, amount in by_rule.items()} | {
        h.split(":")[1]: "0.00" for h in header[1:-1] if h.split(":")[1] not in by_rule}
    assert rewards[-1][-1] == format_fen(sum(by_rule.values()))
    assert [s["y"] for s in charts["rewards"]["series"]] == [[r[i] for r in rewards[1:]]
                                                             for i in range(1, len(header) - 1)]
    members = csv_rows(browser, "members", "period=7")
    assert members[0] == ["day", "joined", "chain21:agent", "chain21:partner"]
    assert members[-1] == [today.isoformat(), "4", "3", "1"]
    payout = csv_rows(browser, "payout", "period=7")
    assert payout[0] == ["day", "net_sales", "rewards", "to_pools", "margin_after_rewards", "payout_ratio",
                         "sales_without_cost", "cost_of_goods", "gross_margin", "payout_ratio_to_gross_margin"]
    net, total = paid - back, sum(by_rule.values())
    pools = sum(Balance.objects.filter(owner="@pool").values_list("amount", flat=True))
    # the shop's products have no cost: every sale is without one, no gross margin, no ratio to it
    assert payout[-1] == [today.isoformat(), format_fen(net), format_fen(total), format_fen(pools),
                          format_fen(net - total - pools),
                          dashboard_reads.ratio_decimal(dashboard_reads.payout_ratio(net, total, pools)),
                          format_fen(net), "0.00", "0.00", ""]
    assert payout[1][5] == ""  # no sales that day: no ratio
    assert charts["payout"]["series"][0]["y"] == [r[5] for r in payout[1:]]
    assert charts["payout"]["series"][1]["y"] == [r[9] for r in payout[1:]]
    assert 'href="/office/dashboard/sales.csv?period=7"' in html
    assert browser.get("/office/dashboard/nothing.csv").status_code == 404


def test_the_charting_library_is_served_by_the_project(api_shop: None) -> None:
    _status, html = get(office_browser("owner"), "/office/dashboard")
    src = re.search(r'<script src="([^"]*plotly[^"]*)"', html)
    assert src is not None and src.group(1) == "/static/office/vendor/plotly.min.js"
    assert "cdn" not in html.lower()
    found = finders.find("office/vendor/plotly.min.js")
    assert found
    with open(found, encoding="utf-8") as js:
        assert "plotly" in js.read(2000).lower()


# --- who may open it ----------------------------------------------------------------------------------------------


def test_finance_may_not_open_the_dashboard_nor_its_csvs(shop: dict[str, Any]) -> None:
    finance = office_browser("finance", "fiona")
    status, html = get(finance, "/office/dashboard")
    assert status == 403 and 'data-forbidden="view_office"' in html
    assert finance.get("/office/dashboard/sales.csv").status_code == 403
    _status, home = get(finance, "/office/")
    assert 'data-nav="dashboard"' not in home
    for role in ("owner", "operator", "read-only"):
        _status, home = get(office_browser(role), "/office/")
        assert 'data-nav="dashboard"' in home, role


def test_both_languages(shop: dict[str, Any]) -> None:
    browser = office_browser("owner")
    status, html = get(browser, "/office/dashboard", "zh-hans")
    assert status == 200 and '<html lang="zh-hans">' in html
    status, html = get(browser, "/office/dashboard", "en")
    assert status == 200 and "Download CSV" in html and "Payout ratio" in html


# --- kept by the worker, rebuilt from the log ---------------------------------------------------------------------


def test_the_figures_rebuilt_from_the_log_equal_the_kept_ones(shop: dict[str, Any]) -> None:
    assert verify().ok
    setup = ShopSetup.objects.get(id=1)
    engine = new_engine(shop_of(setup.plans, setup.timezone, setup.start))
    rebuilt = replay(engine, LoggedEvent.objects.order_by("position").values_list(
        "position", "verb", "payload", "created_at"), setup.auto_close_days)
    kept = {(r.day, r.figure, r.plan, r.key): (r.amount, r.count) for r in DailyFigure.objects.all()
            if r.amount or r.count}
    assert {k: tuple(v) for k, v in rebuilt.totals.items() if any(v)} == kept
    assert kept[(api_reads.today(), "joined", "", "")] == (0, 4)


def test_verify_names_a_kept_figure_that_differs(shop: dict[str, Any]) -> None:
    row = DailyFigure.objects.get(figure="sales")
    DailyFigure.objects.filter(id=row.id).update(amount=row.amount + 1)
    report = verify()
    assert not report.ok
    assert any(f"daily figure {row.day:%Y-%m-%d} sales" in d and str(row.amount) in d for d in report.differences)


def test_the_page_reads_a_constant_number_of_queries(shop: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    browser = office_browser("owner")
    get(browser, "/office/dashboard?period=30")
    with django_assert_max_num_queries(40):
        status, _html = get(browser, "/office/dashboard?period=30")
    assert status == 200



def test_the_migration_builds_the_figures_of_a_log_applied_before_it(shop: dict[str, Any]) -> None:
    """Migration 0011 on a database whose log the worker applied before the table existed: the rows it builds are
    the ones the worker kept."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("liandong.service.store.migrations.0011_daily_figures")
    kept = sorted(DailyFigure.objects.values_list("day", "figure", "plan", "key", "amount", "count"))
    DailyFigure.objects.all().delete()
    migration.fill_daily_figures(apps, SimpleNamespace(connection=connection))
    built = sorted(DailyFigure.objects.values_list("day", "figure", "plan", "key", "amount", "count"))
    assert built == [row for row in kept if row[4] or row[5]] and len(built) > 10


# --- the cost of goods and the gross margin ------------------------------------------------------------------------


def set_gift_cost(cost: str) -> None:
    r = make_operator(f"costs-{cost}").request("PUT", "/api/operator/products/GIFT",
                                               {"price": "699.00", "gift_pack": True, "cost": cost})
    assert r.status == 200 and r.body["cost"] == cost, r.body


@pytest.fixture
def costed(db: None, api_settings: Any, register_member: Register) -> dict[str, Any]:
    """The gift pack costs 300.00 when alice and bob (her referral) buy it, 350.00 when carl (hers too) does; tea
    has no cost (dora buys it); bob's order is refunded after the change: 300.00 comes back, the cost when paid."""
    make_shop(plans=PLANS, start=timezone.now() - dt.timedelta(days=1))
    set_gift_cost("300.00")
    alice = register_member("alice")
    buy(alice)
    bob = register_member("bob", inviter=alice)
    bob_order = buy(bob)
    set_gift_cost("350.00")
    buy(register_member("carl", inviter=alice))
    buy(register_member("dora", inviter=bob), "TEA")
    assert make_operator("api-op").post(f"/api/operator/orders/{bob_order}/refund").status == 200
    return {"alice": alice}


def test_the_gross_margin_counts_each_orders_cost_when_paid(costed: dict[str, Any]) -> None:
    translation.activate("en")
    browser = office_browser("owner")
    status, html = get(browser, "/office/dashboard?period=today")
    assert status == 200
    net = Balance.objects.get(owner="@platform", book="sales").amount
    assert net == 2 * 69900 + 5900
    cost = 30000 + 35000  # alice's at 300.00, carl's at 350.00; bob's 300.00 taken back with his refund
    gross = net - 5900 - cost
    rewards = sum(rewards_by_rule().values())
    pools = sum(Balance.objects.filter(owner="@pool").values_list("amount", flat=True))
    assert rewards + pools > 0
    assert figure(html, "cost_of_goods") == yuan(cost)
    assert figure(html, "gross_margin") == yuan(gross) == yuan(74800)
    assert figure(html, "gross_payout_ratio") == dashboard_reads.ratio_text(Fraction(rewards + pools, gross))
    assert figure(html, "without_cost_share").startswith(dashboard_reads.ratio_text(Fraction(5900, net)))
    assert figure(html, "without_cost") == yuan(5900)
    assert 'data-note="without_cost"' in html and "without a cost" in html
    payout = csv_rows(browser, "payout", "period=today")
    assert payout[1][6:] == [format_fen(5900), format_fen(cost), format_fen(gross),
                             dashboard_reads.ratio_decimal(Fraction(rewards + pools, gross))]
    today = api_reads.today()
    kept = {r.figure: (r.amount, r.count) for r in DailyFigure.objects.filter(
        day=today, figure__in=("cost_of_goods", "sales_without_cost"))}
    assert kept == {"cost_of_goods": (cost, 2), "sales_without_cost": (5900, 1)}
    assert verify().ok


def test_the_operators_product_list_shows_the_cost_and_the_shop_does_not(costed: dict[str, Any]) -> None:
    listed = {p["sku"]: p for p in make_operator("lister").get("/api/operator/products").body}
    assert listed["GIFT"]["cost"] == "350.00" and listed["TEA"]["cost"] is None
    public = costed["alice"].get("/api/products/GIFT").body
    assert "cost" not in public
    gone = make_operator("withdrawer").request("DELETE", "/api/operator/products/GIFT")
    assert gone.status == 200 and gone.body["cost"] == "350.00" and gone.body["active"] is False


def test_verify_names_a_kept_cost_of_goods_that_differs(costed: dict[str, Any]) -> None:
    row = DailyFigure.objects.get(figure="cost_of_goods")
    DailyFigure.objects.filter(id=row.id).update(amount=row.amount + 1)
    report = verify()
    assert not report.ok
    assert any("cost_of_goods" in d for d in report.differences)


def test_the_cost_migration_refills_only_its_figures(costed: dict[str, Any]) -> None:
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("liandong.service.store.migrations.0015_cost_of_goods")
    kept = sorted(DailyFigure.objects.values_list("day", "figure", "plan", "key", "amount", "count"))
    DailyFigure.objects.filter(figure__in=migration.FIGURES).delete()
    migration.fill_cost_of_goods(apps, SimpleNamespace(connection=connection))
    assert sorted(DailyFigure.objects.values_list("day", "figure", "plan", "key", "amount", "count")) == kept


def test_a_campaigns_escrow_is_the_ledgers(db: None, api_settings: Any, register_member: Register) -> None:
    """A group-buy seat paid and waiting for its group: its price is in the campaign's escrow."""
    import group_campaigns as gc

    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=gc.PRODUCTS)
    gc.create_group_buy()
    gc.act(register_member("alice"), "start_group_buy", campaign="gb1")
    held = Balance.objects.get(owner="@escrow", book="gb1").amount
    assert held == 9900
    _status, html = get(office_browser("owner"), "/office/dashboard")
    assert figure(html, "escrow") == "¥99.00" and "1 campaign" in html


def test_the_distribution_promoter_rank_is_named_in_both_languages() -> None:
    from django.utils import translation

    from liandong.web.office.views.dashboard import rank_name

    with translation.override("en"):
        assert rank_name("promoter") == "Promoter"
    with translation.override("zh-hans"):
        assert rank_name("promoter") == "推广员"  # the catalogue has this msgid already
