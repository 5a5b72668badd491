"""The browser tests: Debian's Chromium (``/usr/bin/chromium``, never Playwright's own builds) driven by Playwright's
sync API at phone size, on a live server over the test database with the engine's worker running in a thread, so
that what the pages append (registrations, orders, payments, withdrawals) is applied as in production.

- ``live``: the server and the worker. Data made before the first page opens is applied in the request that made it
  (``LIANDONG_INLINE_WORKER``, as the API tests do, so ``tests/web/api_client.py`` helpers work); opening the first
  page starts the worker (``Worker().run_forever`` with a stop event) and from then on the pages' requests wait for
  it; ``live.settle()`` waits until it has applied the whole log. The demo payment provider is on (``DEBUG``).
- ``live.open(member, path, lang)``: a new phone-sized context (390×844, a mobile user agent, ``zh-CN`` or ``en-US``),
  logged in as ``member`` (a Caller, by its session cookie) or a visitor (``None``); a ``MemberPage`` whose ``problems``
  collects console errors, page errors, failed requests and 4xx/5xx answers.
- Chromium missing: the tests are skipped with a message, and fail under ``CI=true`` (``scripts/ensure-chromium``
  installs it in ``make test``). Every test here is marked ``browser``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management.commands import flush

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))  # the API tests' client and fixtures

from api_client import PAYMENT_SECRET
from draw_fixtures import draws_shop, phone  # noqa: F401  (the draw page's fixtures)
from live_pages import CHROMIUM, Live
from office_client import ensure_office_roles

from liandong.service.store.guard import erasing_allowed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_triggers() -> Iterator[None]:
    """As in tests/web/conftest.py: Django's flush after each test (a live server commits) may empty the log."""
    original = flush.Command.handle
    if getattr(original, "erases", False):  # tests/web's fixture did it already in this process
        yield
        return

    def handle(self: flush.Command, **options: Any) -> Any:
        with erasing_allowed(options.get("database") or "default"):
            return original(self, **options)

    handle.erases = True  # type: ignore[attr-defined]
    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: run scripts/ensure-chromium (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are synchronous all the same.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_settings(settings: Any) -> Iterator[Any]:
    """The API tests' settings (``api_settings``) and the demo payment provider."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LIANDONG_INLINE_WORKER = True
    settings.API_OUTCOME_WAIT_SECONDS = 5.0
    settings.PAYMENT_SECRET = PAYMENT_SECRET
    settings.DEBUG = True  # the demo payment provider
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def office_roles(live_server: Any) -> None:
    """The back office's roles made again (a live server's flush after an earlier test removed them)."""
    ensure_office_roles()


@pytest.fixture
def live(live_server: Any, chromium: Any, browser_settings: Any) -> Iterator[Live]:
    opened = Live(live_server.url, chromium, browser_settings)
    yield opened
    opened.close()
