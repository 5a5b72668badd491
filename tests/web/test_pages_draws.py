"""The public draw page ``/draws/<campaign>`` and its ``record.json``: no login; before the close the commitment and
the entries so far; after it the secret, the results, the winners by display name and the verify button; several
draws (one per group) each in its own section; no id, order, invite code or contact detail in the page's text; the
404 page for anything not published; both languages; and the record is what ``liandong verify-draw`` accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import draw_campaigns as dc
import pytest
from django.test import Client
from page_client import page
from typer.testing import CliRunner

from liandong.cli import app
from liandong.engine.draw import DrawRecord, verify_draw_file, verify_record
from liandong.service.store.models import CampaignState, EventOutcome
from liandong.service.worker import drain

LANGS = ("zh-hans", "en")
HEADING = {"zh-hans": "公开抽签", "en": "Public draw"}
VERIFY = {"zh-hans": "在本浏览器中验证", "en": "Verify in this browser"}
PENDING = {"zh-hans": "密钥在结束时公布。", "en": "The secret is published at the close."}


@pytest.fixture
def shop(db: None) -> None:
    dc.shop_with_members()


def applied_everything() -> None:
    refused = list(EventOutcome.objects.filter(applied=False).values_list("event_id", "refusal"))
    assert not refused, refused


def page_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="draw-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no draw data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def visible_text(html: str) -> str:
    """The page as a reader sees it: no script blocks, no tags, no attributes."""
    html = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def section(html: str, draw: str) -> str:
    found = re.search(rf'<section class="card draw" data-draw="{re.escape(draw)}".*?</section>', html, re.S)
    assert found, f"no section {draw}"
    return found.group(0)


def names_in(block: str, marker: str) -> list[str]:
    found = re.search(rf"<ol [^>]*{marker}[^>]*>(.*?)</ol>", block, re.S)
    assert found, f"no list {marker}"
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


@pytest.mark.parametrize("lang", LANGS)
def test_before_the_close_the_page_shows_the_commitment_and_the_entries_so_far(shop: None, lang: str) -> None:
    dc.group_buy(fill=False)
    applied_everything()
    status, html = page(Client(), "/draws/gb1", lang)
    assert status == 200
    assert f'<html lang="{lang}">' in html
    assert HEADING[lang] in html
    view = CampaignState.objects.get(campaign="gb1").view
    assert view["commitment"] == "ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5"
    assert view["commitment"] in visible_text(html)
    assert PENDING[lang] in html
    assert dc.SECRET not in html  # the campaign's secret is not out
    group = section(html, "gb1/gb1-g1")
    assert names_in(group, "data-entries") == ["alice", "bob", "carol"]
    assert view["group_views"][0]["commitment"] in group
    assert view["group_views"][0]["secret"] is None and "data-draw-secret" not in group
    assert "data-verify-button" not in html and "data-no-draw-yet" in html  # nothing to verify yet
    assert Client().get("/draws/gb1/record.json").status_code == 404


@pytest.mark.parametrize("lang", LANGS)
def test_after_the_close_the_secret_results_and_winners_by_name(shop: None, lang: str) -> None:
    dc.red_envelope(close=True)
    applied_everything()
    status, html = page(Client(), "/draws/re1", lang)
    assert status == 200
    view = CampaignState.objects.get(campaign="re1").view
    assert view["status"] == "closed" and view["secret"] == dc.SECRET
    text = visible_text(html)
    assert dc.SECRET in text and PENDING[lang] not in html
    assert VERIFY[lang] in html and 'data-verify-button' in html
    assert 'href="/draws/re1/record.json"' in html
    drawn = section(html, "re1/r1")
    pick, split = view["draws"]
    assert pick["campaign"] == "re1/r1" and split["campaign"] == "re1/r1/envelope"
    names = {"m7q2ka": "alice", "m7q2kb": "bob", "m7q2ke": {"zh-hans": "第 5 位会员", "en": "Member No. 5"}[lang]}
    assert names_in(drawn, "data-entries") == [names[m] for m in pick["entries"]]
    assert names_in(drawn, "data-winners") == [names[m] for m in pick["result"]]
    shares = re.findall(r"<tr><td>(.*?)</td><td class=\"num money\">(.*?)</td></tr>", drawn)
    assert shares == [(names[m], amount) for m, amount in zip(split["entries"], split["result"], strict=True)]
    assert pick["secret"] in drawn  # the group's secret
    # the page's data holds exactly the published records, for the browser to recompute
    data = page_data(html)
    assert data["secret"] == dc.SECRET and data["commitment"] == view["commitment"]
    assert [s["draw"] for s in data["sections"]] == ["re1/r1", "re1/r2"]
    assert data["sections"][0]["records"] == view["draws"]
    assert data["sections"][1]["records"] == []


def test_a_campaign_with_several_draws_lists_each(shop: None) -> None:
    dc.red_envelope(close=False)
    dc.group_buy(campaign="gb2")
    applied_everything()
    _, html = page(Client(), "/draws/re1", "en")
    assert re.findall(r'<section class="card draw" data-draw="([^"]+)"', html) == ["re1/r1", "re1/r2"]
    assert 'data-verdict-for="re1/r1"' in html and 'data-verdict-for="re1/r2"' not in html  # r2 is still open
    assert names_in(section(html, "re1/r2"), "data-entries") == ["carol"]
    assert "The secret is published at the close." in html  # the campaign is open; its drawn group is verifiable
    assert "data-verify-button" in html


def test_the_page_shows_no_ids_orders_invite_codes_or_contact_details(shop: None) -> None:
    dc.red_envelope(close=True)
    dc.group_buy()
    dc.blind_box(opens=10)
    dc.presale()
    applied_everything()
    for campaign in ("re1", "gb1", "b1", "p1"):
        for lang in LANGS:
            status, html = page(Client(), f"/draws/{campaign}", lang)
            assert status == 200
            text = visible_text(html)
            for member in dc.MEMBERS:
                assert member not in text, (campaign, member)
            assert not re.search(r"\bord-", html), campaign
            for secret_thing in ("SECRETCODE9", "@example.com", *dc.INVITE_CODES.values()):
                assert secret_thing not in html, (campaign, secret_thing)
            assert "invite_code" not in html and "start_order" not in html


def test_the_blind_box_page_shows_the_window_before_and_the_prize_box_after(shop: None) -> None:
    dc.blind_box(campaign="b0", opens=3)
    applied_everything()
    _, html = page(Client(), "/draws/b0", "en")
    assert "The prize is in one of boxes 7–24." in html and "Boxes opened so far: 3." in html
    assert "data-verify-button" not in html and "prize-box" not in html and dc.SECRET not in html
    dc.blind_box(campaign="b1", opens=10, starter="m7q2kb")  # the rulebook's vector: box 10 for b1 and this secret
    applied_everything()
    _, html = page(Client(), "/draws/b1", "en")
    assert "The prize was in box 10. Opened by frank." in visible_text(html)
    assert page_data(html)["sections"][0]["records"][0]["result"] == 10


def test_the_presale_page_counts_entries_then_shows_its_free_draws(shop: None) -> None:
    dc.presale(joins=3, target=6)
    applied_everything()
    _, html = page(Client(), "/draws/p1", "en")
    assert "Participants so far: 3." in html
    free_so_far = CampaignState.objects.get(campaign="p1").view["free"]
    assert len(free_so_far) == 1  # drawn at the 2nd join
    names = dict(zip(dc.MEMBERS, ["alice", "bob", "carol", "dave", "Member No. 5", "frank"], strict=True))
    assert names_in(html, "data-winners-so-far") == [names[free_so_far[0]]]
    assert "data-verify-button" not in html
    view = CampaignState.objects.get(campaign="p1").view
    assert view["draws"] == []  # published at the close
    for n, member in enumerate(list(dc.MEMBERS)[3:6], start=3):
        dc.log("join_presale", member=member, campaign="p1", order=f"ord-p1-{n}")
    drain()
    applied_everything()
    view = CampaignState.objects.get(campaign="p1").view
    assert view["status"] == "closed" and len(view["draws"]) == 3
    _, html = page(Client(), "/draws/p1", "en")
    assert html.count('data-operation="pick"') == 3 and "data-verify-button" in html
    free = [r["result"][0] for r in view["draws"]]
    assert free[0] == free_so_far[0]
    shown = [names_in(block, "data-winners") for block in html.split('<div class="record"')[1:]]
    assert shown == [[names[m]] for m in free]


def test_record_json_is_what_liandong_verify_draw_accepts(shop: None, tmp_path: Path) -> None:
    dc.red_envelope(close=True)
    dc.group_buy(campaign="gb1")
    applied_everything()
    for campaign in ("re1", "gb1"):
        response = Client().get(f"/draws/{campaign}/record.json")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")
        assert f'filename="draws-{campaign}.json"' in response["Content-Disposition"]
        records = json.loads(response.content)
        assert records == CampaignState.objects.get(campaign=campaign).view["draws"]
        file = tmp_path / f"draws-{campaign}.json"
        file.write_bytes(response.content)
        assert verify_draw_file(file) == (0, f"{len(records)} record{'s' if len(records) > 1 else ''} verified")
        result = CliRunner().invoke(app, ["verify-draw", str(file)])
        assert result.exit_code == 0, result.output
        assert all(verify_record(DrawRecord.from_json(r)) == [] for r in records)
    # a record changed after download is caught by the same code path
    tampered = json.loads(Client().get("/draws/re1/record.json").content)
    tampered[0]["entries"][0] = "m7q2kf"
    file = tmp_path / "tampered.json"
    file.write_text(json.dumps(tampered))
    code, message = verify_draw_file(file)
    assert code == 1 and "record 0" in message


@pytest.mark.parametrize("path", ["/draws/nope", "/draws/gb-draft", "/draws/a.b:c-", "/draws/" + "x" * 300,
                                  "/draws/%E4%B8%AD", "/draws/gb1%00"])
@pytest.mark.parametrize("lang", LANGS)
def test_anything_not_published_is_the_404_page(shop: None, path: str, lang: str) -> None:
    dc.draft_group_buy("gb-draft")
    status, html = page(Client(), path, lang)
    assert status == 404
    assert "data-problem" in html and f'<html lang="{lang}">' in html
    record = Client().get(path + "/record.json")
    assert record.status_code == 404
    assert record.json()["code"] == "not_found"


def test_the_page_needs_no_login_and_takes_only_get(shop: None) -> None:
    dc.group_buy()
    client = Client()
    assert client.get("/draws/gb1").status_code == 200
    assert client.post("/draws/gb1").status_code == 405
    assert client.post("/draws/gb1/record.json").status_code == 405
