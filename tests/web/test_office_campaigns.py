"""The back office's campaigns: the list, a draft of each kind an operator may create (validated, saved with
``publish: false``), its preview of what members will see and the audit's checks of its terms, editing until
published, publishing, the engine's refusal of an edit afterwards, closing, an audit row for every action, and who
may see and act."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import group_campaigns as gc
import pytest
from api_client import Register, make_shop
from django.test import Client
from django.utils import timezone
from office_client import cell, messages_of, office_browser, post, row_of
from page_client import page

from liandong.service.store.models import CampaignState, LoggedEvent
from liandong.service.worker import drain
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db

#: TEA (99.00, a 10.00 red envelope) and a car worth more than the 50,000-yuan prize cap.
PRODUCTS: list[dict[str, Any]] = [*gc.PRODUCTS, {"sku": "CAR", "price": "60000.00", "name": "A small car"}]
GROUP_BUY = {"campaign": "gb1", "sku": "TEA", "group_size": "5", "winners": "2", "loser_bonus": "10.00",
             "winner_fund": "price", "unlock_on_join": "0.10", "unlock_on_invite": "0.05", "expire_hours": "24"}


@pytest.fixture
def shop(db: None, api_settings: Any) -> None:
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1), products=PRODUCTS)


@pytest.fixture
def operator(shop: None) -> Client:
    return office_browser("operator", "olga")


def params_of(campaign: str) -> dict[str, Any]:
    found: dict[str, Any] = CampaignState.objects.get(campaign=campaign).view["params"]
    return found


def status_of(campaign: str) -> str:
    return CampaignState.objects.get(campaign=campaign).status


def check_status(html: str, check: str) -> str:
    found = re.search(rf'data-check="{check}" data-status="([a-z/]+)"', html)
    assert found is not None, f"no check {check}"
    return found.group(1)


def create_draft(browser: Client, **fields: str) -> tuple[int, str]:
    return post(browser, "/office/campaigns/new/group_buy", **{**GROUP_BUY, **fields})


# --- a draft ----------------------------------------------------------------------------------------------------------


def test_an_operator_saves_a_draft_and_sees_what_members_will_see_and_the_audits_checks(operator: Client) -> None:
    status, html = create_draft(operator)
    assert status == 200
    assert ("success", "Draft gb1 saved: check what members will see and the audit's checks, then publish it.") in (
        messages_of(html))
    assert status_of("gb1") == "draft" and params_of("gb1")["winners"] == 2 and params_of("gb1")["loser_bonus"] == (
        "10.00")
    logged = LoggedEvent.objects.filter(verb="create_group_buy").get()
    assert logged.payload["publish"] is False and logged.actor == "operator:olga"
    row = AuditLog.objects.get(action="create_group_buy")
    assert row.actor == "olga" and row.target == "gb1" and row.before is None and row.after["status"] == "draft"
    assert "secret" not in row.detail["params"]  # the service adds the draw's secret to the log, not the audit
    # the preview: the members' rules block, from the engine's view of these terms (price = the product's now)
    preview = html.split("data-preview", 1)[1]
    assert 'data-rules="group_buy"' in preview and "¥99.00" in preview and 'data-rule="winners">2<' in preview
    assert CampaignState.objects.get(campaign="gb1").view["commitment"] in preview
    # the audit's checks, run for these terms
    assert check_status(html, "largest_prize") == "pass" and check_status(html, "frozen_rules") == "pass"
    assert check_status(html, "draw_odds") in ("pass", "warn")
    assert "400 groups or box sets" in html
    # members do not see a draft
    assert Client().get("/campaigns/gb1").status_code == 404


def test_a_prize_above_the_cap_fails_the_audits_check(operator: Client) -> None:
    create_draft(operator, winner_fund="60000.01")
    _status, html = page(operator, "/office/campaigns/gb1", "en")
    assert check_status(html, "largest_prize") == "fail"
    assert "60000.01: a winner's shopping fund" in unescape(html)


def test_a_bad_value_names_the_field_and_the_value_and_changes_nothing(operator: Client) -> None:
    events = LoggedEvent.objects.count()
    for field, value in (("winners", "5"), ("loser_bonus", "10.001"), ("unlock_on_join", "1.5"), ("sku", "")):
        r = operator.post("/office/campaigns/new/group_buy", {**GROUP_BUY, field: value, "key": "ab" * 16},
                          HTTP_ACCEPT_LANGUAGE="en")
        html = r.content.decode()
        assert r.status_code == 400, field
        assert f'data-field-error="{field}"' in html and f'data-form-error="{field}"' in html, field
        if value:
            assert f"“{value}”" in html, field
            assert f'name="{field}" value="{value}"' in html  # the form keeps what was typed
    r = operator.post("/office/campaigns/new/group_buy", {**GROUP_BUY, "campaign": "has space"},
                      HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and 'data-form-error="campaign"' in r.content.decode()
    assert LoggedEvent.objects.count() == events and not AuditLog.objects.exists()
    assert not CampaignState.objects.exists()


def test_a_draft_is_edited_until_published_then_its_terms_are_read_only(operator: Client) -> None:
    create_draft(operator)
    status, html = post(operator, "/office/campaigns/gb1/edit", winners="1", loser_bonus="12.50")
    assert status == 200 and ("success", "Draft gb1 changed.") in messages_of(html)
    assert params_of("gb1")["winners"] == 1 and params_of("gb1")["loser_bonus"] == "12.50"
    edited = AuditLog.objects.get(action="update_campaign")
    assert edited.before["params"]["winners"] == 2 and edited.after["params"]["winners"] == 1
    bad = operator.post("/office/campaigns/gb1/edit", {"winners": "9", "key": "cd" * 16}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and 'data-field-error="winners"' in bad.content.decode()
    assert params_of("gb1")["winners"] == 1

    status, html = post(operator, "/office/campaigns/gb1/publish")
    assert status == 200 and status_of("gb1") == "open"
    assert AuditLog.objects.get(action="publish_campaign").after["status"] == "open"
    assert 'data-terms' in html and 'data-campaign-form' not in html and "data-publish" not in html
    assert 'data-term="winners">1<' in html

    status, html = post(operator, "/office/campaigns/gb1/edit", winners="2")
    refusal = [text for kind, text in messages_of(html) if kind == "error"]
    assert refusal and "frozen" in refusal[0] and "cannot change" in refusal[0]
    assert params_of("gb1")["winners"] == 1
    assert AuditLog.objects.filter(action="update_campaign").count() == 2  # the refused attempt is audited too
    assert Client().get("/campaigns/gb1").status_code == 200  # now members see it


def test_each_kind_an_operator_creates_gets_its_form(operator: Client) -> None:
    deadline = (timezone.now() + dt.timedelta(days=10)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    status, html = post(operator, "/office/campaigns/new/presale", campaign="ps1", sku="TEA", price="100.00",
                        tier_size="10", tier_rebate="5.00", max_tiers="3", free_every="5", target="50",
                        deadline=deadline.strftime("%Y-%m-%dT%H:%M"), unit_cost="30.00")
    assert status == 200 and status_of("ps1") == "draft"
    assert params_of("ps1")["deadline"].startswith(deadline.strftime("%Y-%m-%dT%H:%M")) and (
        params_of("ps1")["deadline"].endswith("+08:00"))
    assert 'data-rules="presale"' in html and check_status(html, "largest_prize") == "pass"
    status, html = post(operator, "/office/campaigns/new/red_envelope", campaign="re1", sku="TEA", max_size="8")
    assert status == 200 and status_of("re1") == "draft" and 'data-rules="red_envelope"' in html
    # a red envelope on a product without one: the engine refuses it at publishing, and the page says why
    post(operator, "/office/campaigns/new/red_envelope", campaign="re2", sku="CAR")
    status, html = post(operator, "/office/campaigns/re2/publish")
    assert status_of("re2") == "draft"
    assert any("red_envelope" in text for kind, text in messages_of(html) if kind == "error")


def test_blind_box_terms_are_checked_and_saved_as_an_offer(operator: Client) -> None:
    """The engine has no operator create for a blind box (a member's start creates each set): the form checks terms
    and saves a draft offer (tests/web/test_office_blind_box_offers.py), never an event."""
    status, html = page(operator, "/office/campaigns/new/blind_box", "en")
    assert status == 200 and "data-offer-intro" in html and "data-audit-checks" not in html
    events = LoggedEvent.objects.count()
    query = "check=1&prize_sku=CAR&boxes=24&win_from=7&win_to=24&open_price=5.00&starter_share=4.50"
    status, html = page(operator, f"/office/campaigns/new/blind_box?{query}", "en")
    assert status == 200 and check_status(html, "largest_prize") == "fail" and "60000.00" in html
    assert "the prize is in one of boxes 7–24" in html and 'data-rules="blind_box"' in html
    status, html = page(operator, "/office/campaigns/new/blind_box?check=1&prize_sku=TEA&win_from=30", "en")
    assert status == 400 and ('data-field-error="win_to"' in html or 'data-field-error="win_from"' in html)
    assert not AuditLog.objects.exists(), "checking saves nothing"
    assert operator.post("/office/campaigns/new/blind_box", {"prize_sku": "TEA"}).status_code == 302
    assert LoggedEvent.objects.count() == events and AuditLog.objects.get().action == "create_blind_box_offer"


# --- a published campaign ---------------------------------------------------------------------------------------------


def test_a_campaigns_page_shows_its_groups_by_name_and_closing_pays_them_back(
        operator: Client, register_member: Register) -> None:
    gc.create_group_buy("gb1")
    alice = register_member("alice")
    gc.act(alice, "start_group_buy", campaign="gb1")
    status, html = page(operator, "/office/campaigns/gb1", "en")
    assert status == 200 and 'data-figure="escrow">¥99.00<' in html
    group = gc.group_ids("gb1")[0]
    assert cell(row_of(html, "group", group), "members") == "alice"
    assert 'href="/draws/gb1"' in html and "data-close" in html

    status, html = post(operator, "/office/campaigns/gb1/close")
    assert status == 200 and status_of("gb1") == "closed"
    assert ("success", "gb1 is closed: its open groups were dissolved and paid back, its secret published.") in (
        messages_of(html))
    closed = AuditLog.objects.get(action="close_group_buy")
    assert closed.before["status"] == "open" and closed.after["status"] == "closed"
    assert closed.after["escrow"] == "0.00" and closed.after["group_views"][0]["status"] == "dissolved"
    assert "data-close" not in html and 'data-figure="escrow">¥0.00<' in html


def test_the_list_shows_every_campaign_with_its_figures_and_filters(operator: Client) -> None:
    gc.create_group_buy("gb1")
    create_draft(operator, campaign="gb2")
    status, html = page(operator, "/office/campaigns", "en")
    assert status == 200
    published, draft = row_of(html, "campaign", "gb1"), row_of(html, "campaign", "gb2")
    assert cell(published, "status") == "Published, open" and cell(draft, "status") == "Draft"
    assert cell(published, "kind") == "Group-buy lottery" and cell(published, "escrow") == "¥0.00"
    assert cell(published, "participants") == "0" and cell(published, "expiry") == "groups fill within 24 h"
    _status, html = page(operator, "/office/campaigns?status=draft", "en")
    assert 'data-campaign="gb2"' in html and 'data-campaign="gb1"' not in html
    _status, html = page(operator, "/office/campaigns?kind=presale", "en")
    assert "data-empty" in html
    status, html = page(operator, "/office/campaigns?kind=lottery", "en")
    assert status == 400 and 'data-bad-filter="kind"' in html and "“lottery”" in html
    assert page(operator, "/office/campaigns/nope", "en")[0] == 404
    assert page(operator, "/office/campaigns/new/lottery", "en")[0] == 404


# --- who may ----------------------------------------------------------------------------------------------------------


def test_read_only_sees_the_pages_but_cannot_act(shop: None) -> None:
    gc.create_group_buy("gb1")
    viewer = office_browser("read-only")
    status, html = page(viewer, "/office/campaigns/gb1", "en")
    assert status == 200 and "data-close" not in html and "data-new" not in page(viewer, "/office/campaigns")[1]
    events = LoggedEvent.objects.count()
    for path in ("/office/campaigns/new/group_buy", "/office/campaigns/gb1/edit", "/office/campaigns/gb1/publish",
                 "/office/campaigns/gb1/close"):
        assert viewer.post(path, {**GROUP_BUY, "campaign": "gb9", "key": "ab" * 16}).status_code == 403, path
    assert LoggedEvent.objects.count() == events and not AuditLog.objects.exists()


def test_finance_cannot_see_campaigns(shop: None) -> None:
    finance = office_browser("finance", "fiona")
    for path in ("/office/campaigns", "/office/campaigns/new/group_buy", "/office/campaigns/gb1"):
        status, html = page(finance, path, "en")
        assert status == 403 and 'data-forbidden="run_campaigns"' in html, path
    assert 'data-nav="campaigns"' not in page(finance, "/office/", "en")[1]
    assert 'data-nav="campaigns"' in page(office_browser("operator"), "/office/", "en")[1]


def test_a_draft_on_a_product_the_shop_does_not_sell_says_what_the_engine_refuses(operator: Client) -> None:
    """A draft may name any product (the engine checks it at publishing): its page says why nothing can be shown."""
    status, html = create_draft(operator, sku="NOPE")
    assert status == 200 and status_of("gb1") == "draft"
    assert "data-preview-refused" in html and "NOPE" in html.split("data-preview-refused", 1)[1][:400]
    assert "data-audit-problem" in html
    status, html = post(operator, "/office/campaigns/gb1/publish")
    assert status_of("gb1") == "draft" and any(kind == "error" for kind, _text in messages_of(html))


def test_the_probe_runs_fewer_draws_for_large_groups_and_box_sets() -> None:
    from liandong.web.office.campaign_reads import draws_for

    assert draws_for("group_buy", {"group_size": "5"}) == 400 and draws_for("blind_box", {"win_to": 24}) == 400
    assert draws_for("group_buy", {"group_size": 100}) == 100 and draws_for("blind_box", {"win_to": "1000"}) == 20
    assert draws_for("red_envelope", {}) == 400 and draws_for("group_buy", {"group_size": "x"}) == 400


def test_a_presales_and_a_blind_boxs_pages_show_who_takes_part_by_name(
        operator: Client, register_member: Register, log_event: Any) -> None:
    deadline = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0).isoformat()
    log_event("create_presale", campaign="p1", params={"sku": "TEA", "price": "99.00", "tier_size": 2,
                                                        "tier_rebate": "5.00", "max_tiers": 2, "free_every": 3,
                                                        "target": 5, "deadline": deadline, "secret": gc.SECRET})
    drain()
    alice = register_member("alice", birth_date="1990-05-01")
    bob = register_member("bob", birth_date="1990-05-01")
    gc.act(alice, "join_presale", campaign="p1")
    status, html = page(operator, "/office/campaigns/p1", "en")
    assert status == 200 and "data-entries" in html and 'data-figure="participants">1<' in html
    assert cell(html, "name") == "alice" and "data-close" not in html and "data-no-close" in html
    log_event("start_blind_box", member=alice.member, campaign="b1", order="ord-b1-start",
              params={"prize_sku": "TEA", "secret": gc.SECRET})
    drain()
    gc.act(bob, "open_blind_box", campaign="b1", take="prize")
    status, html = page(operator, "/office/campaigns/b1", "en")
    assert status == 200 and cell(html, "starter") == "alice" and "<td>bob</td>" in html
    assert 'data-rules="blind_box"' in html and "data-no-close" in html
    _status, html = page(operator, "/office/campaigns?kind=blind_box", "en")
    assert cell(row_of(html, "campaign", "b1"), "participants") == "1"


def test_a_drawn_groups_records_are_listed_with_the_link_to_the_public_page(
        operator: Client, register_member: Register) -> None:
    gc.create_group_buy("gb1", group_size=2, winners=1)
    alice, bob = register_member("alice"), register_member("bob")
    gc.act(alice, "start_group_buy", campaign="gb1")
    gc.act(bob, "join_group_buy", group=gc.group_ids("gb1")[0])
    status, html = page(operator, "/office/campaigns/gb1", "en")
    group = row_of(html, "group", gc.group_ids("gb1")[0])
    assert status == 200 and cell(group, "members") == "alice, bob" and cell(group, "winners") in ("alice", "bob")
    assert html.count("data-draw-record") == 1 and "1 draw record published." in html
    assert 'href="/draws/gb1"' in html
    paid = re.search(r'data-figure="paid_out">(.*?)</div>', html, re.S)
    assert paid is not None and "Shopping funds" in paid.group(1) and "¥99.00" in paid.group(1)
