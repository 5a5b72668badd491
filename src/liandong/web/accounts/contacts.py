"""The optional contacts a member gives at registration: a mainland mobile number and an e-mail address.

A phone is written with digits, spaces and dashes and an optional ``+86`` in front; once those are dropped it
must be an eleven-digit mainland mobile number (``1`` then ``3``–``9``), and it is stored as those eleven digits
(``+86 138-0013-8000`` -> ``13800138000``). An e-mail address is checked by Django's ``validate_email`` and stored
as given, trimmed (the fraud holds normalise it again when they match one: ``fraud_holds.normalise_email``).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

PHONE_WRITTEN = re.compile(r"(?:\+86)?[\d\s-]+", re.ASCII)
MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
EMAIL_MAX = 254


class BadContact(ValueError):
    """A contact that is not one; ``why`` says what is wrong, in English."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def clean_phone(written: str) -> str:
    """The eleven digits of a mainland mobile number, or ``BadContact``."""
    text = written.strip()
    if not PHONE_WRITTEN.fullmatch(text):
        raise BadContact("a phone number is digits, spaces and dashes, with an optional +86 in front")
    digits = re.sub(r"[\s-]", "", text.removeprefix("+86"))
    if not MAINLAND_MOBILE.fullmatch(digits):
        raise BadContact("not an 11-digit mainland mobile number (1, then 3 to 9, then nine digits)")
    return digits


def clean_email(written: str) -> str:
    """The address, trimmed, or ``BadContact``."""
    text = written.strip()
    if len(text) > EMAIL_MAX:
        raise BadContact(f"an e-mail address has at most {EMAIL_MAX} characters")
    try:
        validate_email(text)
    except ValidationError:
        raise BadContact("not a valid e-mail address") from None
    return text


def phone_digits(query: str) -> str | None:
    """The eleven digits a search text names as a phone number (written as ``clean_phone`` takes it), else None."""
    try:
        return clean_phone(query)
    except BadContact:
        return None
