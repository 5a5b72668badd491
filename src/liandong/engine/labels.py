"""How each ledger rule and each book reads on a member's statement and pages, in English and Chinese.

Every label is an English msgid; its Chinese is in the catalogue (``engine/i18n.py``). The tables are filled from
the modules' declarations (``Module.rules`` and ``Module.books``) when the registry registers them; a rule or a
book belongs to one module, and a second module declaring the same name is an error at start. A statement line
reads ``+200.00 team reward · order o7 by C (your team)``.
"""

from __future__ import annotations

from .i18n import gettext_noop, translate
from .module import Book, Rule

RULES: dict[str, Rule] = {}
BOOKS: dict[str, Book] = {}
_OWNERS: dict[tuple[str, str], str] = {}  # ("rule" | "book", name) -> the kind of the module that declared it


class DeclarationError(ValueError):
    """Two modules declare the same verb, rule, book, code or kind: found when the registry starts."""


def claim(what: str, name: str, owner: str) -> None:
    """Record that ``owner`` declares ``what`` ``name``; another owner's claim on it is a DeclarationError."""
    held = _OWNERS.setdefault((what, name), owner)
    if held != owner:
        raise DeclarationError(f"{what} {name!r} is declared by both {held} and {owner}")


def declare_rule(rule: Rule, owner: str) -> None:
    claim("rule", rule.name, owner)
    RULES[rule.name] = rule


def declare_book(book: Book, owner: str) -> None:
    claim("book", book.name, owner)
    BOOKS[book.name] = book


def label(rule: str, lang: str = "en") -> str:
    found = RULES.get(rule)
    if found is None:
        return rule.replace("_", " ")
    return translate(found.label, lang)


def note(rule: str, ref: str | None, lang: str = "en") -> str:
    """The rule's note on a statement line (``your team``), its ``{ref}`` and ``note_params`` filled in."""
    found = RULES.get(rule)
    if found is None or not found.note:
        return ""
    text = translate(found.note, lang)
    for name, value in (*found.note_params, ("ref", ref or "")):  # replaced, not formatted: a ref may hold braces
        text = text.replace("{" + name + "}", value)
    return text


def book_label(book: str, lang: str = "en") -> str:
    found = BOOKS.get(book)
    if found is None:
        return book.replace("_", " ")
    return translate(found.label, lang)


#: Where a withdrawal stands, as the member's and the operator's lists show it. ``approved`` is either paid out
#: with the approval (the rulebook's) or waiting for its payout (the service's: ``approved_payout_pending``).
WITHDRAWAL_STATUS: dict[str, str] = {
    "requested": gettext_noop("withdrawal requested, awaiting review"),
    "approved_payout_pending": gettext_noop("withdrawal approved, payout pending"),
    "approved": gettext_noop("withdrawal approved and paid out"),
    "paid": gettext_noop("withdrawal paid out"),
    "rejected": gettext_noop("withdrawal rejected, returned"),
    "payout_failed": gettext_noop("payout failed, returned"),
}


def withdrawal_status_label(status: str, payout_pending: bool, lang: str = "en") -> str:
    found = WITHDRAWAL_STATUS.get("approved_payout_pending" if status == "approved" and payout_pending else status)
    if found is None:
        return status
    return translate(found, lang)
