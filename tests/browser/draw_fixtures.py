"""Fixtures of the draw page's browser tests (``test_draw_verify.py``): Debian's Chromium through Playwright (never a
downloaded browser), a phone-sized page, the Django live server, and the draw campaigns of
``tests/web/draw_campaigns.py``. Kept apart from ``tests/browser/conftest.py`` (the shared live-server fixtures) so
the two can be reconciled; load with ``pytest_plugins = ["draw_fixtures"]``.

Screenshots go to ``$LIANDONG_TEST_ARTIFACTS/draws`` (default ``var/test-artifacts/draws``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))  # draw_campaigns

import draw_campaigns as campaigns  # after the path: tests/web

__all__ = ["ARTIFACTS", "campaigns", "screenshot"]

# Playwright's sync API keeps an event loop running in this thread; the test's own database writes are sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(os.environ.get("LIANDONG_TEST_ARTIFACTS", "var/test-artifacts")) / "draws"


@pytest.fixture(autouse=True, scope="session")
def _draws_flush_past_append_only_triggers() -> Iterator[None]:
    """The live server's database is emptied by Django's flush after each test; the ledger's append-only triggers
    allow that only inside ``erasing_allowed()`` (as ``tests/web/conftest.py`` does for its tests)."""
    from django.core.management.commands import flush

    from liandong.service.store.guard import erasing_allowed

    original = flush.Command.handle

    def handle(self: flush.Command, **options: Any) -> Any:
        with erasing_allowed(options.get("database") or "default"):
            return original(self, **options)

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def draws_browser() -> Iterator[Any]:
    """Debian's Chromium, headless (``apt-get install chromium`` provides /usr/bin/chromium)."""
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def phone(draws_browser: Any) -> Iterator[Callable[..., Any]]:
    """``phone(lang="zh-hans", init_script=None)``: a new phone-sized page whose browser asks for ``lang``."""
    contexts: list[Any] = []

    def open_page(lang: str = "zh-hans", init_script: str | None = None) -> Any:
        context = draws_browser.new_context(viewport=PHONE, locale="zh-CN" if lang.startswith("zh") else "en-US",
                                            extra_http_headers={"Accept-Language": lang})
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def draws_shop(transactional_db: None) -> None:
    """The draw campaigns' shop and members, committed (the live server reads them from another thread)."""
    campaigns.shop_with_members()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
