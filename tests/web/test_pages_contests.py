"""The team contests and leaderboards in the web: the back office creates a contest through its validated form
(a bad field is a 400 naming it, an engine refusal is shown, an applied one is audited), the members' pages show the
contest's rules and standings (and the standings part the page reads again while open), a member joins a team, and
the leaderboards page shows the top, the viewer's own rank, and initials when the operator hides names.

Numbers: TEA 59.00, distribution 10% on level 1. bob (invited by alice, so bound to her) joins the red team (alice
captains it) and buys TEA twice: red 118.00, blue (carl) 0.00; alice: sales of bound buyers 118.00, commission 11.80.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from api_client import Caller, FakeClock, Register, buy, make_operator, make_shop
from django.test import Client
from django.utils import timezone
from office_client import messages_of, office_browser, post
from page_client import logged_in

from liandong.service.store.models import ContestNotice
from liandong.web.accounts.models import AuditLog

pytest_plugins = ["api_fixtures"]
pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI)  # a Wednesday


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(NOW)
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def people(db: None, api_settings: Any, clock: FakeClock, register_member: Register) -> dict[str, Caller]:
    make_shop(plans={"distribution": {"rates": ["0.10"]}, "contests": {}}, start=NOW - dt.timedelta(days=1))
    clock.advance()
    alice = register_member("alice")
    clock.advance()
    bob = register_member("bob", inviter=alice)
    clock.advance()
    carl = register_member("carl")
    return {"alice": alice, "bob": bob, "carl": carl}


def contest_form(people: dict[str, Caller], **over: str) -> dict[str, str]:
    return {"contest": "pk1", "name": "March PK", "start": "2026-03-04T10:01:00", "end": "2026-03-11T10:00:00",
            "metric": "sales", "joining": "invite",
            "teams": f"red, Red team, {people['alice'].member}\nblue, Blue team, {people['carl'].member}",
            "prizes": "1, cash 20.00\n2, coupons 3, each", **over}


def text(client: Client, path: str) -> tuple[int, str]:
    r = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    return r.status_code, r.content.decode()


def test_the_office_form_validates_and_creates_an_audited_contest(people: dict[str, Caller]) -> None:
    office = office_browser("operator")
    status, html = post(office, "/office/contests/create", **contest_form(people, end="2026-03-04T09:00:00"))
    assert status == 400 and 'data-error="end"' in html and "after the start" in html
    status, html = post(office, "/office/contests/create", **contest_form(people, prizes="1, gold 5"))
    assert status == 400 and 'data-error="prizes"' in html
    status, html = post(office, "/office/contests/create",
                        **contest_form(people, teams="red, R, nobody\nblue, B, nobody2"))
    assert status == 400 and any("captain nobody is not a member" in m for _k, m in messages_of(html)), html
    status, html = post(office, "/office/contests/create", **contest_form(people))
    assert status == 200, html
    assert ("success", "Contest March PK created; its rules freeze at its start.") in messages_of(html)
    assert 'data-contest="pk1"' in html
    audits = list(AuditLog.objects.filter(action="create_contest").order_by("id"))
    assert len(audits) == 2  # the refused try (unknown captains) is audited too
    audit = audits[-1]
    assert audit.target == "pk1" and audit.before is None and audit.after["status"] == "scheduled"
    assert post(office_browser("finance", "fin"), "/office/contests/create", **contest_form(people))[0] == 403


def test_members_see_the_rules_join_a_team_and_the_standings_move(people: dict[str, Caller],
                                                                  clock: FakeClock) -> None:
    office = office_browser("operator")
    assert post(office, "/office/contests/create", **contest_form(people))[0] == 200
    bob = people["bob"]
    page = logged_in(bob)
    status, html = text(page, "/contests")
    assert status == 200 and 'data-contest="pk1"' in html and "Not started" in html
    status, html = text(page, "/contests/pk1")
    assert status == 200 and 'data-prize="1"' in html and "¥20.00" in html and "data-join-team" not in html
    alice_page = text(logged_in(people["alice"]), "/contests/pk1")[1]
    assert f"/contests/pk1?invite={people['alice'].invite_code}" in alice_page  # the captain's invite link
    status, html = text(page, f"/contests/pk1?invite={people['alice'].invite_code}")
    assert "alice invites you to the team Red team." in html
    assert f'name="captain" value="{people["alice"].invite_code}"' in html and "data-join-team" in html
    assert "data-join-team" not in text(page, f"/contests/pk1?invite={bob.invite_code}")[1]  # bob captains none
    clock.advance(120)  # past the start
    joined = bob.post("/api/actions/join_contest_team", {"contest": "pk1", "captain": people["alice"].invite_code})
    assert joined.status == 200, joined.body
    buy(bob, "TEA")
    clock.advance()
    buy(bob, "TEA")
    status, html = text(page, "/contests/pk1")
    assert 'data-my-team>Red team<' in html and 'data-join-team' not in html
    assert 'data-my-team>Red team<' in text(logged_in(people["alice"]), "/contests/pk1")[1]  # the captain
    r = page.get("/contests/pk1/standings", HTTP_ACCEPT_LANGUAGE="en")
    part = json.loads(r.content)
    assert part["status"] == "running"
    assert '<tr data-team="red" data-rank="1" data-mine' in part["html"]
    assert '<td class="num" data-figure>118.00</td>' in part["html"]
    assert text(page, "/contests/nope")[0] == 404
    # the day's close tells every team member (captains too) the day's standings
    clock.advance(86400)
    closed = make_operator("closer").post("/api/operator/close-day", {"day": "2026-03-04"})
    assert closed.status == 200, closed.body
    told = {n.member: (n.team, [(s["team"], s["figure"]) for s in n.standings])
            for n in ContestNotice.objects.filter(contest="pk1", day=dt.date(2026, 3, 4))}
    standings = [("red", "118.00"), ("blue", "0.00")]
    assert told == {people["alice"].member: ("red", standings), people["bob"].member: ("red", standings),
                    people["carl"].member: ("blue", standings)}
    status, html = text(page, "/contests/pk1")
    assert 'data-notice-day="2026-03-04"' in html and "#1 Red team 118.00" in html


def test_the_leaderboard_shows_the_top_and_my_rank_and_hides_names_when_asked(people: dict[str, Caller],
                                                                              clock: FakeClock) -> None:
    buy(people["bob"], "TEA")
    clock.advance()
    buy(people["bob"], "TEA")
    alice = logged_in(people["alice"])
    status, html = text(alice, "/leaderboards?board=sales&period=all")
    assert status == 200
    assert '<tr data-rank="1" data-me' in html and "alice" in html and "¥118.00" in html
    assert 'data-figure="my_rank">1<' in html
    status, html = text(alice, "/leaderboards?board=commission&period=day")
    assert "¥11.80" in html
    status, html = text(logged_in(people["carl"]), "/leaderboards?board=sales&period=week")
    assert "You are not on this board yet" in html and "alice" in html
    office = office_browser("operator")
    status, html = post(office, "/office/contests/board-setting", hide_names="1")
    assert ("success", "Leaderboards show initials only.") in messages_of(html)
    status, html = text(logged_in(people["carl"]), "/leaderboards?board=sales&period=week")
    assert "alice" not in html and "<td data-name>a*</td>" in html
    assert AuditLog.objects.filter(action="leaderboard_setting").count() == 1
    status, html = text(alice, "/leaderboards?board=money")
    assert status == 400
