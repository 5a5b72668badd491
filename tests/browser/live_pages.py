"""The browser tests' pages and live server (the fixtures are in conftest.py): ``Live`` (the server, the worker,
pages opened on them), ``MemberPage`` (one open page and what went wrong on it), logging in through the login page.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api_client import Caller
from django.db import connections
from django.test import Client

from liandong.service.store.models import LoggedEvent, WorkerPosition
from liandong.service.worker import Worker

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}  # the back office's size
MOBILE_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/156.0.0.0 Mobile Safari/537.36")
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


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
        def failed(request: Any) -> None:
            # a request the page itself cancels as it goes elsewhere (the live notices' stream, the icon still
            # loading) is leaving a page, not a failure; an answer of 4xx/5xx is caught by ``answered``
            if "ERR_ABORTED" in str(request.failure):
                return
            self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

        self.page.on("requestfailed", failed)
        self.page.on("response", answered)

        def external(request: Any) -> None:  # every asset is served by the project: no CDN, no font service
            if not str(request.url).startswith((self.base, "data:", "blob:", "about:")):
                self.problems.append(f"external request: {request.method} {request.url}")

        self.page.on("request", external)


class Live:
    """The live server, the worker, and pages opened on them."""

    def __init__(self, url: str, browser: Any, settings: Any) -> None:
        self.url, self.browser, self.settings = url, browser, settings
        self.contexts: list[Any] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread: threading.Thread | None = None
        #: the worker's ``tick_seconds`` (its clock: a ``tick`` while a module has deadlines); a test may shorten it
        #: before the first page opens
        self.tick_seconds = 60.0

    # --- the worker ---
    def start_worker(self) -> None:
        if self.thread is not None:
            return
        self.settings.LIANDONG_INLINE_WORKER = False
        worker = Worker(tick_seconds=self.tick_seconds)

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
    def open(self, member: Caller | None, path: str | None, lang: str = "zh-hans") -> MemberPage:
        """``path`` (or nothing yet: None) in a new phone-sized context, as ``member`` (by its session) or a
        visitor."""
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
        if path is not None:
            opened.goto(path)
        return opened

    def open_office(self, user: Any, path: str | None, lang: str = "zh-hans") -> MemberPage:
        """``path`` (or nothing yet: None) in a new desktop-sized context (1280×800), as the back-office ``user``
        (a Django user, e.g. ``office_client.office_user(...)``; by its session) or nobody (``None``)."""
        self.start_worker()
        context = self.browser.new_context(viewport=DESKTOP, screen=DESKTOP, device_scale_factor=1,
                                           locale=LOCALES[lang], timezone_id="Asia/Shanghai")
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                  "url": self.url}])
        opened = MemberPage(context.new_page(), self.url)
        opened.watch()
        if path is not None:
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


def log_in_through_the_page(page: MemberPage, username: str, password: str) -> None:
    """Log in on /login as a person does; the page goes to /me."""
    page.goto("/login?next=/me")
    page.page.fill("#l-username", username)
    page.page.fill("#l-password", password)
    page.page.click("form[data-api] button[type=submit]")
    page.page.wait_for_url("**/me")
