"""Every HTML page of the back office (tests/office_pages.py), in both languages, in Chromium at 1280×800 on the demo
shop of tests/every_page.py: a full-page screenshot to tests/artifacts/screenshots/office/<lang>/<name>.png (to be
looked at), and a failure on a console error, a failed request, a request leaving the server (every asset is the
project's), an answer of 4xx/5xx or a page wider than the window. The referral tree's fragments and the CSV exports
of the table are fetched in the same context and must answer 200 with their type."""

from __future__ import annotations

from live_pages import ARTIFACTS, DESKTOP, Live, MemberPage
from office_client import office_user

from every_page import LANGS, build_demo_shop
from office_pages import OFFICE_HTML_PAGES, OFFICE_PAGES

SCREENSHOTS = ARTIFACTS / "screenshots" / "office"


def test_every_office_page_at_desktop_size_without_errors_or_overflow(live: Live, office_roles: None) -> None:
    """Both languages in one test: one demo shop (``office_roles`` makes the roles again after an earlier test's
    flush)."""
    shop = build_demo_shop()
    found: dict[str, list[str]] = {}
    for lang in LANGS:
        folder = SCREENSHOTS / lang
        folder.mkdir(parents=True, exist_ok=True)
        opened: dict[str, MemberPage] = {}
        for name, entry in sorted(OFFICE_HTML_PAGES.items()):
            if entry.role not in opened:
                user = None if entry.role == "visitor" else office_user(f"{entry.role}-{lang}", entry.role)
                opened[entry.role] = live.open_office(user, None, lang)
            page = opened[entry.role]
            path = entry.path(shop)
            before = len(page.problems)
            response = page.goto(path)
            page.page.wait_for_load_state("networkidle")
            problems = page.problems[before:]
            if response is None or response.status != 200:
                problems.append(f"{path} answered {response and response.status}")
            if page.page.get_attribute("html", "lang") != lang:
                problems.append(f"{path} is not in {lang}")
            width = page.page.evaluate("document.documentElement.scrollWidth")
            if width > DESKTOP["width"]:
                wide = page.page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
                    .filter(e => e.getBoundingClientRect().right > limit + 0.5)
                    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""",
                                          DESKTOP["width"])
                problems.append(f"{path} is {width} px wide (> {DESKTOP['width']}): {wide}")
            page.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            if problems:
                found[f"{lang} {name}"] = problems
        owner = opened["owner"]
        for name, entry in sorted(OFFICE_PAGES.items()):
            if entry.kind in ("csv", "fragment"):
                answer = owner.page.request.get(owner.base + entry.path(shop))
                expected = "text/csv" if entry.kind == "csv" else "text/html"
                if answer.status != 200 or not answer.headers.get("content-type", "").startswith(expected):
                    found[f"{lang} {name}"] = [f"answered {answer.status} {answer.headers.get('content-type')}"]
    assert found == {}, found
