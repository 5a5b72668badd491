"""The live parts of the pre-sale's and the blind box's pages (``pages/views/campaign_live.py``) and their stream
(``GET /api/campaigns/<id>/stream``, ``api/campaign_stream.py``): the page renders its parts as the stream sends
them, so a figure shown live is the figure a reload shows; the stream sends the parts at once and again at each
change, ends once the campaign closes or its lifetime has passed, carries no member id, and 404s what has no live
page."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import group_campaigns as gc
import pytest
from api_client import Caller, Register, make_shop
from django.test import Client
from django.utils import timezone, translation
from page_client import logged_in, page
from test_pages_blind_box import ADULT, start_set
from test_pages_blind_box import PRODUCTS as BOX_PRODUCTS
from test_pages_presale import create_presale

from liandong.service.store.models import CampaignState
from liandong.web.api.campaign_stream import campaign_events, campaign_states
from liandong.web.pages.views.campaign_live import live_state

pytest_plugins = ["api_fixtures"]


@pytest.fixture
def people(db: None, api_settings: Any, register_member: Register) -> list[Caller]:
    """A shop selling TEA and BOX, a pre-sale p1 (a tier every 2, a free draw every 3, closing at 5) and four
    adult members (100 seed coupons each)."""
    make_shop(plans={}, start=timezone.now() - dt.timedelta(days=1),
              products=gc.PRODUCTS + BOX_PRODUCTS)
    create_presale()
    return [register_member(name, birth_date=ADULT) for name in ("alice", "bob", "carol", "dave")]


def live_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="campaign-live-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no live data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def polls(moves: list[Callable[[], Any]]) -> Callable[[float], None]:
    """A ``sleep`` for the stream: between two polls the next move is made (then nothing)."""
    queue = iter(moves)

    def sleep(_seconds: float) -> None:
        next(queue, lambda: None)()

    return sleep


def state_parts(campaign: str, lang: str) -> dict[str, str]:
    with translation.override(lang):
        state = live_state(campaign)
    assert state is not None
    parts: dict[str, str] = state["parts"]
    return parts


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_pages_parts_are_the_streams_and_carry_the_engines_figures(people: list[Caller], lang: str) -> None:
    alice, bob = people[:2]
    gc.act(alice, "join_presale", campaign="p1")
    gc.act(bob, "join_presale", campaign="p1")
    start_set(alice)
    gc.act(bob, "open_blind_box", campaign="b1", take="prize")
    for campaign in ("p1", "b1"):
        _status, html = page(logged_in(bob), f"/campaigns/{campaign}", lang)
        data = live_data(html)
        parts = state_parts(campaign, lang)
        assert data["parts"] == parts and data["status"] == "open"
        assert data["stream"] == f"/api/campaigns/{campaign}/stream"
        for name, part in parts.items():
            assert part in html, f"the page holds its part {name} as the stream sends it"
    presale = CampaignState.objects.get(campaign="p1").view
    assert f'data-figure="participants">{presale["participants"]}<' in state_parts("p1", lang)["status"]
    box = CampaignState.objects.get(campaign="b1").view
    parts = state_parts("b1", lang)
    assert f'data-figure="opened">{box["opened"]}<' in parts["status"] and box["opened"] == 1
    assert ("¥" + box["starter_income"]) in parts["status"] and parts["opens"].count("data-open ") == 1
    assert "2" in parts["open_title"] and "¥5.00" in parts["open_button"]


def test_the_stream_sends_each_change_of_a_presale_and_ends_at_the_close(people: list[Caller]) -> None:
    alice, bob, carol, dave = people
    moves = [lambda: None, lambda: gc.act(alice, "join_presale", campaign="p1"), lambda: None,
             lambda: gc.act(bob, "join_presale", campaign="p1"), lambda: gc.act(carol, "join_presale", campaign="p1"),
             lambda: gc.act(dave, "join_presale", campaign="p1")]
    states = [s for s in campaign_states("p1", poll=0, lifetime=60, sleep=polls(moves)) if s is not None]
    counts = [re.search(r'data-figure="participants">(\d+)<', s["parts"]["status"]).group(1)  # type: ignore[union-attr]
              for s in states]
    assert counts == ["0", "1", "2", "3", "4"], "one message per change, none in between"
    assert all(s["status"] == "open" for s in states), "target 5: still open"
    free = CampaignState.objects.get(campaign="p1").view["free"]
    assert len(free) == 1 and "data-free-winners" in states[-2]["parts"]["free"], "the third join drew one free"
    text = json.dumps(states)
    for caller in people:
        assert caller.member not in text, "no member id in the stream"


def test_the_stream_of_a_blind_box_ends_with_the_win(people: list[Caller]) -> None:
    alice, bob = people[:2]
    start_set(alice, "b2", boxes=4, win_from=2, win_to=4)  # the rulebook's secret: the prize in box 2
    moves = [lambda: gc.act(bob, "open_blind_box", campaign="b2", take="prize"),
             lambda: gc.act(bob, "open_blind_box", campaign="b2", take="coupons")]
    states = [s for s in campaign_states("b2", poll=0, lifetime=60, sleep=polls(moves)) if s is not None]
    assert [s["status"] for s in states] == ["open", "open", "closed"]
    final = states[-1]
    assert "open_title" not in final["parts"] and 'data-closed-result' in final["parts"]["status"]
    assert final["parts"]["opens"].count("data-open ") == 2


def test_the_stream_ends_after_its_lifetime_and_keeps_the_connection_alive(people: list[Caller],
                                                                          settings: Any) -> None:
    now = [0.0]

    def sleep(_seconds: float) -> None:
        now[0] += 10.0

    settings.GROUP_STREAM_KEEPALIVE_SECONDS = 15
    chunks = list(campaign_events("p1", "en", poll=1, lifetime=60, sleep=sleep, clock=lambda: now[0]))
    assert chunks[0].startswith("retry:")
    assert sum(c.startswith("event: campaign") for c in chunks) == 1, "nothing changed: one state"
    assert any(c.startswith(": keepalive") for c in chunks) and now[0] <= 70


def test_the_endpoint_streams_a_closed_set_once_and_404s_what_has_no_live_page(people: list[Caller]) -> None:
    alice, bob = people[:2]
    start_set(alice, "b2", boxes=4, win_from=2, win_to=4)
    gc.act(bob, "open_blind_box", campaign="b2")
    gc.act(bob, "open_blind_box", campaign="b2")
    r = Client().get("/api/campaigns/b2/stream", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/event-stream")
    body = b"".join(r.streaming_content).decode()  # type: ignore[attr-defined]
    events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]
    assert len(events) == 1 and events[0]["status"] == "closed"
    assert events[0]["parts"] == state_parts("b2", "en")
    gc.create_group_buy("gb1")
    for campaign in ("nope", "gb1"):
        missing = Client().get(f"/api/campaigns/{campaign}/stream")
        assert missing.status_code == 404 and missing.json()["error"]["field"] == "campaign"
