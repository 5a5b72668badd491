"""Every member page (tests/every_page.py) in both languages, with the Django test client: no English text of the
catalogue on a Chinese page, no Chinese on an English page.

- zh-Hans: every msgid of the catalogue that has a Chinese translation (other than itself) is looked for in the
  page's visible text (text nodes and the attributes a person sees: title, placeholder, aria-label, alt, a button's
  value); one found verbatim, as a whole word, means a text of the page was left untranslated. A msgid with
  placeholders is looked for by its literal parts of three words or more (a short part, "of", "to", is everywhere).
- English: the visible text has no CJK character, except the data: the shop's name, and elements that say they are
  in another language (``lang="zh-hans"``: the language switch's 中文).

The demo members' names (ann, bob, s1, GIFT, TEA) are chosen so that none of them is a msgid.
"""

from __future__ import annotations

import gettext
import re
from functools import cache
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from page_client import logged_in, page

from every_page import HTML_PAGES, LANGS, DemoShop, build_demo_shop
from liandong.engine.i18n import LOCALE_DIR
from liandong.web.pages.context import shop_name

pytest_plugins = ["api_fixtures"]

SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}|<[^>]+>")


class VisibleText(HTMLParser):
    """The text a person sees: text nodes (not scripts, styles or templates) and the shown attributes; with
    ``skip_lang``, nothing inside an element whose ``lang`` starts with it."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, skip_lang: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_lang = skip_lang
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)

    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        hidden = self.hidden() or tag in ("script", "style", "template") or bool(
            self.skip_lang and (values.get("lang") or "").lower().startswith(self.skip_lang))
        if not hidden:
            self.parts += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
            if tag in ("button", "input") and values.get("type") in ("submit", "button") and values.get("value"):
                self.parts.append(values["value"] or "")
        if tag not in self.VOID:
            self.stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden() and data.strip():
            self.parts.append(data)

    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def visible_text(html: str, skip_lang: str | None = None) -> str:
    parser = VisibleText(skip_lang)
    parser.feed(html)
    parser.close()
    return unescape(parser.text())


@cache
def translated_english() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """For each msgid with a Chinese translation of its own: the msgid and how to find it in a page's text."""
    catalogue: dict[Any, str] = gettext.translation("django", str(LOCALE_DIR), ["zh_Hans"])._catalog  # type: ignore[attr-defined]
    found: dict[str, re.Pattern[str]] = {}
    for key, chinese in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or not re.search(r"[A-Za-z]", msgid) or not chinese or msgid in chinese:
            continue
        parts = [p.strip() for p in PLACEHOLDER.split(msgid)] if PLACEHOLDER.search(msgid) else [msgid.strip()]
        for part in parts:
            if not part or not re.search(r"[A-Za-z]{2}", part):
                continue
            if part != msgid.strip() and len(part.split()) < 3:
                continue
            words = re.escape(re.sub(r"\s+", " ", part)).replace(r"\ ", r"\s+")
            found[part] = re.compile(rf"(?<![A-Za-z]){words}(?![A-Za-z])")
    return tuple(sorted(found.items()))


@pytest.fixture
def demo_shop(db: None, api_settings: Any) -> DemoShop:
    return build_demo_shop()


def test_the_catalogue_has_english_to_look_for() -> None:
    english = dict(translated_english())
    assert len(english) > 300
    assert "Withdraw" in english and "Fee" in english  # the withdrawal page's words are in it


def test_the_walk_sees_an_untranslated_text() -> None:
    """The check itself: an English msgid on a Chinese page is found, in text and in a shown attribute."""
    html = '<p>提现 <b>Withdraw</b></p><input placeholder="Payee account (e.g. Alipay or bank card)">'
    text = visible_text(html)
    assert [m for m, pattern in translated_english() if pattern.search(text)] == [
        "Alipay", "Payee account (e.g. Alipay or bank card)", "Withdraw"]
    assert visible_text('<script>var x = "Withdraw";</script><p>提现</p>') == "提现"
    assert visible_text('<button lang="zh-hans">中文</button> Shop', skip_lang="zh").strip() == "Shop"


@pytest.mark.parametrize("name", sorted(HTML_PAGES))
def test_every_page_is_translated_in_both_languages(demo_shop: DemoShop, name: str) -> None:
    entry = HTML_PAGES[name]
    client = logged_in(demo_shop.ann) if entry.viewer == "member" else Client()
    path = entry.path(demo_shop)
    names = {c.username for c in demo_shop.members.values()} | {shop_name()}
    for lang in LANGS:
        status, html = page(client, path, lang)
        assert status == 200, (name, lang, status)
        assert f'<html lang="{lang}">' in html
        if lang.startswith("zh"):
            text = visible_text(html)
            untranslated = [msgid for msgid, pattern in translated_english() if pattern.search(text)]
            assert untranslated == [], f"{path} in Chinese shows English: {untranslated}"
            assert CJK.search(text), path
        else:
            text = visible_text(html, skip_lang="zh")
            for data in names:
                text = text.replace(data, " ")
            chinese = sorted({m.group(0) for m in re.finditer(rf"{CJK.pattern}+", text)})
            assert chinese == [], f"{path} in English shows Chinese: {chinese}"
