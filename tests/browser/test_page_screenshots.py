"""Every member page of tests/every_page.py, in both languages, in Chromium at 390 px: a full-page screenshot to
tests/artifacts/screenshots/<lang>/<name>.png (to be looked at), and a failure on a console error, a failed request,
an answer of 4xx/5xx (any asset) or a page wider than the phone (``document.scrollWidth > 390``). The PNG, the CSV
and the log-out action of the table are fetched in the same context and must answer 200 (or the log-out's
redirect) with their type."""

from __future__ import annotations

import pytest
from live_pages import ARTIFACTS, PHONE, Live

from every_page import HTML_PAGES, LANGS, PAGES, DemoShop, build_demo_shop

SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture
def demo_shop(live: Live) -> DemoShop:
    return build_demo_shop()


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_at_phone_size_without_errors_or_overflow(live: Live, demo_shop: DemoShop, lang: str) -> None:
    folder = SCREENSHOTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[str]] = {}
    member = visitor = None
    for name, entry in sorted(HTML_PAGES.items()):
        path = entry.path(demo_shop)
        if entry.viewer == "member":
            member = member or live.open(demo_shop.ann, None, lang)
            opened = member
        else:
            visitor = visitor or live.open(None, None, lang)
            opened = visitor
        before = len(opened.problems)
        response = opened.goto(path)
        opened.page.wait_for_load_state("networkidle")
        problems = opened.problems[before:]
        if response is None or response.status != 200:
            problems.append(f"{path} answered {response and response.status}")
        if opened.page.get_attribute("html", "lang") != lang:
            problems.append(f"{path} is not in {lang}")
        width = opened.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide = opened.page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""",
                                        PHONE["width"])
            problems.append(f"{path} is {width} px wide (> {PHONE['width']}): {wide}")
        opened.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        if problems:
            found[name] = problems
    assert member is not None
    for name, entry in sorted(PAGES.items()):
        if entry.kind in ("image", "csv"):
            answer = member.page.request.get(member.base + entry.path(demo_shop))
            expected = "image/png" if entry.kind == "image" else "text/csv"
            if answer.status != 200 or not answer.headers.get("content-type", "").startswith(expected):
                found[name] = [f"answered {answer.status} {answer.headers.get('content-type')}"]
    assert found == {}, found
