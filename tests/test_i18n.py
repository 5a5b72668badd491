"""The one catalogue of texts (``src/liandong/locale``, ``docs/i18n.md``): the committed ``.mo`` files are the
compiled ``.po`` files; every Chinese translation keeps its msgid's placeholders; every text the engine, a module or
the API declares, and every text marked in the package's Python, has a Chinese translation; ``translate`` and
Django's gettext read the same catalogue; the engine reads it without Django."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from liandong import scenario
from liandong.engine import core
from liandong.engine.errors import MESSAGES as REFUSAL_MESSAGES
from liandong.engine.errors import Code, refuse
from liandong.engine.i18n import CHINESE, DOMAIN, LOCALE_DIR, locale_of, translate
from liandong.engine.labels import WITHDRAWAL_STATUS, label
from liandong.engine.module import Module
from liandong.engine.plans.chain21 import RELEASES_WHEN
from liandong.engine.registry import REGISTRY
from liandong.web.api import ratelimit
from liandong.web.api.errors import MESSAGES as API_MESSAGES
from liandong.web.api.errors import ApiCode, ApiError

PACKAGE = LOCALE_DIR.parent
LANGUAGES = ("zh_Hans", "en")
#: Where texts are marked in Python (Django's names and the engine's ``gettext_noop``).
MARKERS = {"gettext_noop", "gettext", "gettext_lazy", "_"}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def parse_po(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file (obsolete ``#~`` ones left out): msgid, msgstr (and msgctxt, plural forms when
    present) and the set of flags (``fuzzy``, ``python-brace-format``)."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] | None = None
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#~"):
            continue
        if not line.strip():
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"flags": set()}
        if line.startswith("#,"):
            flags = entry["flags"]
            assert isinstance(flags, set)
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
        else:
            key, _, text = line.partition(" ")
            entry[key] = ast.literal_eval(text)
    return entries


def msgstr(entry: dict[str, object]) -> str:
    """The translation (of a plural entry: its one form, Chinese has one)."""
    return str(entry.get("msgstr", entry.get("msgstr[0]", "")))


def translations(lang: str) -> dict[Any, str]:
    """What the .po of ``lang`` translates, as msgfmt compiles it: no header, no fuzzy or empty entries; a plural
    entry keyed ``(msgid, 0)`` as GNUTranslations keeps it."""
    return {(str(e["msgid"]), 0) if "msgid_plural" in e else str(e["msgid"]): msgstr(e)
            for e in parse_po(po_path(lang))
            if e["msgid"] and msgstr(e) and "fuzzy" not in e["flags"]}  # type: ignore[operator]


def compiled(path: Path) -> dict[Any, str]:
    with path.open("rb") as mo:
        return dict(gettext.GNUTranslations(mo)._catalog)  # type: ignore[attr-defined]


PERCENT_NAMED = re.compile(r"%\((\w+)\)[sd]")


def placeholders(text: str, style: str = "brace") -> set[str]:
    """The named placeholders of ``text``: ``{name}`` (the engine's, str.format) or ``%(name)s`` (Django's)."""
    if style == "percent":
        return set(PERCENT_NAMED.findall(text))
    return {name.split(".")[0].split("[")[0] for _literal, name, _spec, _conversion in string.Formatter().parse(text)
            if name is not None}


# --- the committed .mo files are the .po files compiled ----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_committed_mo_is_the_po_compiled_by_msgfmt(lang: str, tmp_path: Path) -> None:
    if shutil.which("msgfmt") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("msgfmt (GNU gettext) is needed to check the catalogue under CI")
        pytest.skip("msgfmt (GNU gettext) is not installed here")
    fresh = tmp_path / f"{DOMAIN}.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po_path(lang))], check=True)
    committed = po_path(lang).with_suffix(".mo")
    assert compiled(committed) == compiled(fresh), f"{committed} is stale: run `make messages`"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_committed_mo_holds_exactly_the_translations_of_the_po(lang: str) -> None:
    """The same check without msgfmt: the .po's translated entries are the .mo's (its header aside)."""
    catalogue = compiled(po_path(lang).with_suffix(".mo"))
    catalogue.pop("", None)
    assert catalogue == translations(lang), f"{lang}'s django.mo is stale: run `make messages`"


# --- the Chinese catalogue ------------------------------------------------------------------------------------------


def test_every_chinese_translation_is_there_and_keeps_the_placeholders_of_its_msgid() -> None:
    entries = [e for e in parse_po(po_path(CHINESE)) if e["msgid"]]
    assert len(entries) > 100
    for e in entries:
        msgid, text, flags = str(e["msgid"]), msgstr(e), e["flags"]
        assert text, f"{msgid!r} has no Chinese translation"
        assert "fuzzy" not in flags, f"{msgid!r} is fuzzy: check its translation and remove the flag"  # type: ignore[operator]
        style = "percent" if "python-format" in flags else "brace"  # type: ignore[operator]
        assert placeholders(text, style) == placeholders(msgid, style), f"{msgid!r} -> {text!r}"
        if style == "brace" and placeholders(msgid):  # so that msgfmt --check-format (compilemessages) checks them too
            assert "python-brace-format" in flags, f"{msgid!r} is not flagged python-brace-format"  # type: ignore[operator]


def test_the_placeholder_check_sees_a_lost_placeholder() -> None:
    lost = placeholders("{value} 不是 {partner} 直推的会员")
    assert placeholders("{field} {value} was not referred by {partner}") != lost
    assert placeholders("member id {value!r} is not allowed") == placeholders("会员编号 {value!r} 不合法") == {"value"}
    assert placeholders("%(have)s of %(need)s agents", "percent") != placeholders("%(need)s 个代理", "percent")


def declared_texts() -> Iterator[tuple[str, str]]:
    """(where, msgid) of every text declared by the core, every registered module of the package, and the tables of
    the engine, the statement and the API."""
    modules: list[type[Module]] = [core.Core, *REGISTRY.modules()]
    for module in modules:
        if not module.__module__.startswith("liandong."):  # the tests' cashback plan: not the project's
            continue
        for rule in module.rules:
            yield f"{module.kind} rule {rule.name}", rule.label
            if rule.note:
                yield f"{module.kind} rule {rule.name}'s note", rule.note
        for book in module.books:
            yield f"{module.kind} book {book.name}", book.label
        for code, message in module.codes.items():
            yield f"{module.kind} code {code}", message
    for code in Code:
        yield f"core code {code}", REFUSAL_MESSAGES[code]
    for status, text in WITHDRAWAL_STATUS.items():
        yield f"withdrawal status {status}", text
    for unit, (text, _hundredths) in scenario.UNIT_NAMES.items():
        yield f"unit {unit}", text
    yield "other units", scenario.OTHER_UNIT
    yield "chain21 help fund", RELEASES_WHEN
    for api_code in ApiCode:
        yield f"API code {api_code}", API_MESSAGES[api_code]
    yield "rate limit", ratelimit.FAILED_LOGINS
    for kind, text in ratelimit._COUNTED.items():
        yield f"rate limit {kind}", text


def test_every_text_the_engine_its_modules_and_the_api_declare_has_a_chinese_translation() -> None:
    chinese = translations(CHINESE)
    declared = list(declared_texts())
    assert len(declared) > 100
    for where, msgid in declared:
        assert chinese.get(msgid), f"{where}: {msgid!r} has no Chinese translation (run `make messages`)"
        assert translate(msgid, "zh-hans") == chinese[msgid]


def marked_in_python() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) in MARKERS):
                yield f"{path.relative_to(PACKAGE)}:{node.lineno}", node.args[0].value


def test_every_text_marked_in_the_package_is_in_the_catalogue_with_a_chinese_translation() -> None:
    chinese = translations(CHINESE)
    english = {str(e["msgid"]) for e in parse_po(po_path("en"))}
    marked = list(marked_in_python())
    assert len(marked) > 100
    for where, msgid in marked:
        assert msgid in english, f"{where}: {msgid!r} is not in the English catalogue (run `make messages`)"
        assert chinese.get(msgid), f"{where}: {msgid!r} has no Chinese translation"


# --- reading it -----------------------------------------------------------------------------------------------------


def test_translate_reads_chinese_for_every_spelling_of_it_and_english_otherwise() -> None:
    for lang in ("zh", "zh-hans", "zh-Hans", "zh_Hans", "zh-cn", " ZH-HANS "):
        assert locale_of(lang) == CHINESE
        assert translate("direct reward", lang) == "直推奖"
    for lang in ("en", "en-gb", "fr", "", "zhx"):
        assert translate("direct reward", lang) == "direct reward"
    assert translate("a text nobody declared", "zh-hans") == "a text nobody declared"
    assert translate("", "zh-hans") == ""  # not the catalogue's header


def test_a_module_outside_the_package_reads_english_in_chinese() -> None:
    assert label("cashback_redeemed", "zh-hans") == "cashback redeemed"
    assert label("direct_reward", "zh-hans") == "直推奖"


def test_messages_are_translated_before_their_placeholders_are_filled() -> None:
    refusal = refuse(Code.WITHDRAWAL_BELOW_MINIMUM, "amount", "5.00", minimum="10.00")
    assert refusal.to_json()["reason_zh"] == "提现金额 5.00 低于最低提现额 10.00"
    limited = ApiError(429, ApiCode.RATE_LIMITED, "client", "127.0.0.1", retry_after=30, what=ratelimit.FAILED_LOGINS)
    assert limited.body()["error"]["message"] == "too many failed logins for client 127.0.0.1; try again in 30 seconds"
    assert limited.body()["error"]["message_zh"] == "client 127.0.0.1 的登录失败次数过多，请 30 秒后再试"


def test_djangos_gettext_reads_the_same_catalogue() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("direct reward") == "直推奖"
        assert translation.gettext("{number} coupons") == "{number}张盲盒券"
    with translation.override("en"):
        assert translation.gettext("direct reward") == "direct reward"


def test_the_engine_reads_the_catalogue_without_django() -> None:
    code = ("import sys; from liandong import scenario; from liandong.engine.i18n import translate; "
            "assert translate('direct reward', 'zh-hans') == '直推奖'; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
