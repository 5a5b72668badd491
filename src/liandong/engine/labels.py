"""How each ledger rule and each book reads on a member's statement and pages, in English and Chinese.

The tables are filled from the modules' declarations (``Module.rules`` and ``Module.books``) when the registry
registers them; a rule or a book belongs to one module, and a second module declaring the same name is an error at
start. A statement line reads ``+200.00 team reward · order o7 by C (your team)``.
"""

from __future__ import annotations

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
    return found.zh if lang.startswith("zh") else found.en


def note(rule: str, ref: str | None, lang: str = "en") -> str:
    """The rule's note on a statement line (``your team``), its ``{ref}`` filled in."""
    found = RULES.get(rule)
    if found is None:
        return ""
    text = found.note_zh if lang.startswith("zh") else found.note_en
    return text.replace("{ref}", ref or "") if text else ""


def book_label(book: str, lang: str = "en") -> str:
    found = BOOKS.get(book)
    if found is None:
        return book.replace("_", " ")
    return found.zh if lang.startswith("zh") else found.en


#: Where a withdrawal stands, as the member's and the operator's lists show it. ``approved`` is either paid out
#: with the approval (the rulebook's) or waiting for its payout (the service's: ``approved_payout_pending``).
WITHDRAWAL_STATUS: dict[str, tuple[str, str]] = {
    "requested": ("withdrawal requested, awaiting review", "提现申请中，待审核"),
    "approved_payout_pending": ("withdrawal approved, payout pending", "提现已批准，待打款"),
    "approved": ("withdrawal approved and paid out", "提现已批准并打款"),
    "paid": ("withdrawal paid out", "提现已打款"),
    "rejected": ("withdrawal rejected, returned", "提现被拒，已退回"),
}


def withdrawal_status_label(status: str, payout_pending: bool, lang: str = "en") -> str:
    found = WITHDRAWAL_STATUS.get("approved_payout_pending" if status == "approved" and payout_pending else status)
    if found is None:
        return status
    return found[1] if lang.startswith("zh") else found[0]
