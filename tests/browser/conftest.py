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
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management.commands import flush
from django.db import connections
from django.test import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))  # the API tests' client and fixtures

from api_client import PAYMENT_SECRET, Caller

from liandong.service.store.guard import erasing_allowed
from liandong.service.store.models import LoggedEvent, WorkerPosition
from liandong.service.worker import Worker

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
MOBILE_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/156.0.0.0 Mobile Safari/537.36")
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


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


@dataclass
class MemberPage:
    """One open page (its own browser context) and what went wrong on it."""

    page: Any
    base: str
    problems: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def path(self) -> str:
        return str(self.page.url).removeprefix(self.base)

    def watch(self) -> None:
        def console(msg: Any) -> None:
            if msg.type == "error":
                self.problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

        def answered(response: Any) -> None:
            if response.status >= 400:
                self.problems.append(f"{response.status} {response.request.method} {response.url}")

        self.page.on("console", console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(
            f"request failed: {request.method} {request.url} ({request.failure})"))
        self.page.on("response", answered)


class Live:
    """The live server, the worker, and pages opened on them."""

    def __init__(self, url: str, browser: Any, settings: Any) -> None:
        self.url, self.browser, self.settings = url, browser, settings
        self.contexts: list[Any] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread: threading.Thread | None = None

    # --- the worker ---
    def start_worker(self) -> None:
        if self.thread is not None:
            return
        self.settings.LIANDONG_INLINE_WORKER = False
        worker = Worker()

        def run() -> None:
            try:
                worker.run_forever(self.stop, idle_max=0.01)
            except BaseException as exc:  # reported by the fixture's teardown
                self.errors.append(exc)
            finally:
                connections.close_all()

        self.thread = threading.Thread(target=run, name="liandong-test-worker", daemon=True)
        self.thread.start()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the worker applied every event logged so far."""
        if self.thread is None:
            return
        deadline = time.monotonic() + timeout
        while True:
            last = LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0
            done = WorkerPosition.objects.filter(id=1).values_list("position", flat=True).first() or 0
            if done >= last:
                return
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, f"the worker applied {done} of {last} events in {timeout} s"
            time.sleep(0.02)

    # --- pages ---
    def open(self, member: Caller | None, path: str, lang: str = "zh-hans") -> MemberPage:
        """``path`` in a new phone-sized context, as ``member`` (by its session) or a visitor."""
        self.start_worker()
        context = self.browser.new_context(viewport=PHONE, screen=PHONE, user_agent=MOBILE_USER_AGENT,
                                           is_mobile=True, has_touch=True, device_scale_factor=1,
                                           locale=LOCALES[lang], timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        if member is not None:
            assert member.user is not None
            client = Client()
            client.force_login(member.user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": self.url}])
        opened = MemberPage(context.new_page(), self.url)
        opened.watch()
        opened.goto(path)
        return opened

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.stop.set()
        if self.thread is not None:
            self.thread.join(30)
            assert not self.thread.is_alive(), "the worker did not stop"
        assert not self.errors, self.errors


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
def live(live_server: Any, chromium: Any, browser_settings: Any) -> Iterator[Live]:
    opened = Live(live_server.url, chromium, browser_settings)
    yield opened
    opened.close()


def log_in_through_the_page(page: MemberPage, username: str, password: str) -> None:
    """Log in on /login as a person does; the page goes to /me."""
    page.goto("/login?next=/me")
    page.page.fill("#l-username", username)
    page.page.fill("#l-password", password)
    page.page.click("form[data-api] button[type=submit]")
    page.page.wait_for_url("**/me")
