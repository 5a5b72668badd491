"""Fixtures of the draw page's browser tests (``test_draw_verify.py``): Debian's Chromium through Playwright (never a
downloaded browser), a phone-sized page, the Django live server, and the draw campaigns of
``tests/web/draw_campaigns.py``, on conftest.py's ``chromium`` (which imports these fixtures).

Screenshots go to ``tests/artifacts/screenshots/draws`` (and the draw page verified and tampered, in each language,
to ``tests/artifacts/screenshots/<lang>/campaign-draw-*.png``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))  # draw_campaigns

import draw_campaigns as campaigns  # after the path: tests/web

__all__ = ["ARTIFACTS", "campaigns", "screenshot"]

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots" / "draws"


@pytest.fixture
def phone(chromium: Any) -> Iterator[Callable[..., Any]]:
    """``phone(lang="zh-hans", init_script=None)``: a new phone-sized page whose browser asks for ``lang``."""
    contexts: list[Any] = []

    def open_page(lang: str = "zh-hans", init_script: str | None = None) -> Any:
        context = chromium.new_context(viewport=PHONE, locale="zh-CN" if lang.startswith("zh") else "en-US",
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


def screenshot(page: Any, name: str, lang: str | None = None) -> None:
    """A full-page screenshot to ``screenshots/draws/<name>.png``, or with ``lang`` to ``screenshots/<lang>/`` beside
    the other campaign pages."""
    folder = ARTIFACTS if lang is None else ARTIFACTS.parent / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
