"""The draw page's "Verify in this browser" (``static/liandong/draw-verify.js``), run in Debian's Chromium: the
rulebook's test vectors, 20 seeded random draws against the engine's results, the page's own verdict on real
campaigns, a tampered entry or secret shown as a mismatch, and a clear message where WebCrypto is not offered."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from typing import Any

import pytest
from draw_fixtures import campaigns as dc
from draw_fixtures import screenshot

from liandong.engine.draw import DrawRecord, draw_pick, draw_position, draw_split, verify_record

pytestmark = pytest.mark.browser

S = "00" * 31 + "01"


def record(**fields: Any) -> dict[str, Any]:
    return {"commitment": None, "secret": None, "entries": [], **fields}


#: The rulebook's test vectors (shared/spec/campaigns.md "The fair draw") as records: what recompute must give.
VECTORS: list[tuple[dict[str, Any], Any]] = [
    (record(campaign="g1", operation="pick", k=2, entries=["e1", "e2", "e3", "e4", "e5"], secret=S),
     ["e1", "e5"]),
    (record(campaign="r1", operation="split_random", amount="10.00", entries=["a", "b", "c"], secret=S),
     ["6.61", "2.43", "0.96"]),
    (record(campaign="x", operation="split_equal", amount="10.00", entries=["p", "q", "r"]),
     ["3.34", "3.33", "3.33"]),
    (record(campaign="b1", operation="position", window=[7, 24], secret=S), 10),
    (record(campaign="r2", operation="split_random", amount="0.05", entries=list("abcde"),
            secret=hashlib.sha256(b"liandong").hexdigest()), ["0.01"] * 5),
]


def open_draw_page(phone: Callable[..., Any], live_server: Any, campaign: str, lang: str = "en",
                   init_script: str | None = None) -> Any:
    page = phone(lang, init_script)
    response = page.goto(f"{live_server.url}/draws/{campaign}")
    assert response is not None and response.status == 200
    page.wait_for_function("window.LiandongDraw !== undefined")
    return page


def verify(page: Any) -> str:
    """Press the button and wait for the verdict ("matches", "mismatch", "error")."""
    page.click("[data-verify-button]")
    page.wait_for_selector("[data-verify-summary][data-verdict]")
    verdict: str = page.get_attribute("[data-verify-summary]", "data-verdict")
    return verdict


def tamper(page: Any, change: str) -> None:
    """Change the page's data block: ``change`` is JS run on ``data`` (the parsed block)."""
    page.evaluate(f"""() => {{
        const el = document.getElementById("draw-data");
        const data = JSON.parse(el.textContent);
        {change};
        el.textContent = JSON.stringify(data);
    }}""")


def test_the_browser_recomputes_the_rulebooks_test_vectors(phone: Callable[..., Any], live_server: Any,
                                                          draws_shop: None) -> None:
    dc.group_buy()
    page = open_draw_page(phone, live_server, "gb1")
    assert page.evaluate(f"LiandongDraw.commitment('{S}')") == \
        "ec4916dd28fc4c10d78e287ca5d9cc51ee1ae73cbfde08c6b37324cbfaac8bc5"
    for rec, expected in VECTORS:
        assert page.evaluate("r => LiandongDraw.recompute(r)", rec) == expected, rec
        full = {**rec, "result": expected}
        if rec["secret"] is not None:
            full["commitment"] = page.evaluate("s => LiandongDraw.commitment(s)", rec["secret"])
        assert page.evaluate("r => LiandongDraw.verifyRecord(r)", full) == []
        assert verify_record(DrawRecord.from_json(full)) == []  # the engine agrees the vector record holds


def random_draw(rng: random.Random, n: int) -> dict[str, Any]:
    """One random draw made by the engine, as its published record."""
    secret = f"{rng.getrandbits(256):064x}"
    campaign = rng.choice(["gb", "re", "ps", "bb", "活动"]) + f"{n}/" + rng.choice(["g1", "r7", "x"])
    people = rng.randint(1, 30)
    entries = [rng.choice(["m", "张", "é", "u"]) + f"{rng.getrandbits(24):x}" for _ in range(people)]
    entries = list(dict.fromkeys(entries))
    op = ["pick", "split_random", "split_equal", "position"][n % 4]
    if op == "pick":
        return draw_pick(secret, campaign, entries, rng.randint(0, len(entries))).to_json()
    if op == "position":
        first = rng.randint(1, 30)
        return draw_position(secret, campaign, first, first + rng.randint(0, 40)).to_json()
    amount = rng.randint(len(entries), 100_000)
    return draw_split(secret, campaign, entries, amount, "random" if op == "split_random" else "equal").to_json()


def test_twenty_seeded_random_draws_recompute_to_the_engines_result(phone: Callable[..., Any], live_server: Any,
                                                                    draws_shop: None) -> None:
    dc.group_buy()
    page = open_draw_page(phone, live_server, "gb1")
    rng = random.Random(20260515)
    draws = [random_draw(rng, n) for n in range(20)]
    assert {d["operation"] for d in draws} == {"pick", "split_random", "split_equal", "position"}
    recomputed = page.evaluate("rs => Promise.all(rs.map(r => LiandongDraw.recompute(r)))", draws)
    assert recomputed == [d["result"] for d in draws]
    problems = page.evaluate("rs => Promise.all(rs.map(r => LiandongDraw.verifyRecord(r)))", draws)
    assert problems == [[]] * 20
    # another secret (the commitment kept) is caught in every record, by the browser as by the engine
    resecret = [{**d, "secret": f"{rng.getrandbits(256):064x}"} for d in draws]
    found = page.evaluate("rs => Promise.all(rs.map(r => LiandongDraw.verifyRecord(r)))", resecret)
    assert all(any(p["what"] == "commitment" for p in one) for one in found)
    # one entry replaced: the browser and the engine agree on whether the result still follows
    reentered = [{**d, "entries": [d["entries"][0] + "x", *d["entries"][1:]]} for d in draws if d["entries"]]
    found = page.evaluate("rs => Promise.all(rs.map(r => LiandongDraw.verifyRecord(r)))", reentered)
    engine = [verify_record(DrawRecord.from_json(d)) for d in reentered]
    assert [bool(one) for one in found] == [bool(one) for one in engine]
    assert sum(bool(one) for one in found) >= len(reentered) // 2  # most changes show (not those a draw ignores)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_page_verifies_a_closed_campaign_and_shows_a_tampered_one_as_a_mismatch(
        phone: Callable[..., Any], live_server: Any, draws_shop: None, lang: str) -> None:
    dc.red_envelope(close=True)
    page = open_draw_page(phone, live_server, "re1", lang)
    assert verify(page) == "matches"
    assert page.get_attribute('[data-verdict-for="re1/r1"]', "data-verdict") == "matches"
    if lang == "en":
        assert page.inner_text("[data-verify-summary]").startswith("Matches: all 2 draw records recompute")
    screenshot(page, f"re1-verified-{lang}")
    screenshot(page, "campaign-draw-verified", lang)
    # a changed entry: the draw no longer gives the result shown
    tamper(page, 'data.sections[0].records[0].entries[0] = "m7q2kf"')
    assert verify(page) == "mismatch"
    assert page.get_attribute('[data-verdict-for="re1/r1"]', "data-verdict") == "mismatch"
    if lang == "en":
        text = page.inner_text("[data-verify-summary]")
        assert text.startswith("Does not match. What differs:")
        assert "Record 1 (re1/r1): recomputed" in text and "but the record says bob." in text and "m7q2k" not in text
    screenshot(page, f"re1-tampered-entry-{lang}")
    screenshot(page, "campaign-draw-tampered", lang)


def test_a_tampered_secret_shows_which_commitment_differs(phone: Callable[..., Any], live_server: Any,
                                                          draws_shop: None) -> None:
    dc.red_envelope(close=True)
    dc.group_buy()  # gb1's group is drawn, the campaign still open
    page = open_draw_page(phone, live_server, "gb1")
    assert verify(page) == "matches"
    other = "ab" * 32
    tamper(page, f'data.sections[0].records[0].secret = "{other}"')
    assert verify(page) == "mismatch"
    text = page.inner_text("[data-verify-summary]")
    assert f"sha256 of the secret is {hashlib.sha256(bytes.fromhex(other)).hexdigest()}" in text
    # the campaign's secret published at the close must give every group's secret
    page = open_draw_page(phone, live_server, "re1")
    tamper(page, f'data.secret = "{other}"')
    assert verify(page) == "mismatch"
    text = page.inner_text("[data-verify-summary]")
    assert "sha256 of the campaign's secret is" in text and "this group's secret is" in text


def test_a_blind_box_and_a_presale_verify(phone: Callable[..., Any], live_server: Any, draws_shop: None) -> None:
    dc.blind_box(opens=10)
    dc.presale(joins=6, target=6)
    for campaign in ("b1", "p1"):
        page = open_draw_page(phone, live_server, campaign)
        assert verify(page) == "matches", page.inner_text("[data-verify-summary]")
        screenshot(page, f"{campaign}-verified-en")
    tamper(page, 'data.sections[0].records[1].result = ["nobody"]')
    assert verify(page) == "mismatch"


def test_without_webcrypto_the_page_says_why_and_points_to_verify_draw(
        phone: Callable[..., Any], live_server: Any, draws_shop: None) -> None:
    """What plain http from another host looks like: the browser offers no crypto.subtle."""
    dc.red_envelope(close=True)
    hide = "Object.defineProperty(window, 'isSecureContext', {get: () => false});"
    page = open_draw_page(phone, live_server, "re1", "en", init_script=hide)
    assert page.get_attribute("[data-verify-summary]", "data-verdict") == "unavailable"
    assert page.is_disabled("[data-verify-button]")
    text = page.inner_text("[data-verify-summary]")
    assert "only on a secure page" in text and "liandong verify-draw" in text
    assert page.get_attribute("[data-record-link]", "href") == "/draws/re1/record.json"
    screenshot(page, "re1-no-webcrypto-en")
