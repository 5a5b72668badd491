"""Every text of Liandong in one GNU gettext catalogue: ``liandong/locale/<lang>/LC_MESSAGES/django.po`` (and its
compiled ``django.mo``, both shipped in the package), the one Django's i18n reads too (``LOCALE_PATHS``).

Msgids are English. The engine declares its texts in English and marks each with :func:`gettext_noop` (the name
``makemessages`` extracts), e.g. ``Rule("sale", gettext_noop("sale"))``; whoever shows a text in a language asks
:func:`translate`, which reads the shipped ``.mo`` with the standard library (no Django: the engine stays pure;
deterministic: nothing but a file of the package is read). Placeholders are ``str.format``'s ``{name}``: translate
first, then fill in (``translate(msgid, lang).format(...)``). ``docs/i18n.md`` says how to add a text and regenerate.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

#: The package's catalogue (``LOCALE_PATHS`` of the web settings names it too).
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "django"
ENGLISH = "en"
CHINESE = "zh_Hans"


def gettext_noop(text: str) -> str:
    """Marks an English text for the catalogue; returns it unchanged (it is the msgid)."""
    return text


def locale_of(lang: str) -> str:
    """The catalogue a language reads: any Chinese (``zh``, ``zh-hans``, ``zh-Hans``, ``zh_Hans``, ``zh-cn``) reads
    ``zh_Hans``, the one Chinese catalogue; every other language (``en``, an unknown one) reads English."""
    code = lang.strip().replace("_", "-").lower()
    return CHINESE if code == "zh" or code.startswith("zh-") else ENGLISH


@cache
def catalogue(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``locale`` (``zh_Hans``), read once; English needs none (msgids are English)."""
    if locale == ENGLISH:
        return gettext.NullTranslations()
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as mo:  # a missing one: a broken install
        return gettext.GNUTranslations(mo)


def translate(msgid: str, lang: str) -> str:
    """``msgid`` in ``lang``; the msgid itself (English) when the catalogue has no translation of it (a module
    outside the package, such as the tests' cashback plan, reads English in every language)."""
    if not msgid:  # gettext("") is the catalogue's header
        return ""
    return catalogue(locale_of(lang)).gettext(msgid)
