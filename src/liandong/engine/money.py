"""Money: integer fen inside, two-decimal strings at every edge.

    >>> parse_yuan("699.00")
    69900
    >>> format_fen(-10000)
    '-100.00'
    >>> apply_rate(3000, parse_rate("0.10"))   # peer reward on 30.00
    300

Rates are exact fractions (parsed from decimal strings, never floats) and every application floors to the
fen; the caller keeps the remainder where its rule says (the platform or the pool).
"""

from __future__ import annotations

import re
from fractions import Fraction

# ASCII digits only: Python's \d and int() also read "１０" (fullwidth) and "١٠" (Arabic-Indic) as 10.
_YUAN = re.compile(r"(-?)([0-9]{1,13})(?:\.([0-9]{1,2}))?", re.ASCII)
_RATE = re.compile(r"([0-9]{1,6})(?:\.([0-9]{1,9}))?", re.ASCII)
#: Only these are trimmed around an amount or a rate (``str.strip()`` would also take "\u3000" and the like).
_BLANKS = " \t\r\n"
#: A non-negative amount as the API documents it (its JSON schema): what ``parse_yuan(text, negative=False)`` reads.
AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"


class MoneyError(ValueError):
    """A money or rate string that is not well formed."""


def _shown(text: object) -> str:
    """The value as an error message quotes it: its repr, cut to a short prefix (a 1 MB value is not echoed)."""
    shown = repr(text)
    return shown if len(shown) <= 64 else shown[:64] + "…"


def parse_yuan(text: object, *, negative: bool = True) -> int:
    """'12.30' -> 1230. Accepts int too (whole yuan). Refuses floats: they are never exact. The one parser of
    money at every edge (scenario files, configs, the API): ASCII digits only, so "１０.００" is refused, not 10.00;
    ``negative=False`` (API amounts) refuses "-1.00" too."""
    if isinstance(text, (bool, float)):
        raise MoneyError(f"{_shown(text)} is not an amount: write it as a string with two decimals, e.g. \"12.30\"")
    if isinstance(text, int):
        if text < 0 and not negative:
            raise MoneyError(f"{text!r} is a negative amount")
        return text * 100
    if not isinstance(text, str):
        raise MoneyError(f"{_shown(text)} is not an amount")
    m = _YUAN.fullmatch(text.strip(_BLANKS))
    if not m:
        raise MoneyError(f"{_shown(text)} is not an amount with at most two decimals")
    if m.group(1) and not negative:
        raise MoneyError(f"{_shown(text)} is a negative amount")
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -fen if sign else fen


def format_fen(fen: int) -> str:
    """1230 -> '12.30'; -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}{whole}.{frac:02d}"


def parse_rate(text: object) -> Fraction:
    """'0.10' -> Fraction(1, 10). A rate is a non-negative decimal string (ints allowed)."""
    if isinstance(text, (bool, float)):
        raise MoneyError(f"{_shown(text)} is not a rate: write it as a decimal string, e.g. \"0.10\"")
    if isinstance(text, int):
        if text < 0:
            raise MoneyError(f"{text!r} is a negative rate")
        return Fraction(text)
    if isinstance(text, Fraction):
        return text
    if not isinstance(text, str):
        raise MoneyError(f"{_shown(text)} is not a rate")
    m = _RATE.fullmatch(text.strip(_BLANKS))
    if not m:
        raise MoneyError(f"{_shown(text)} is not a non-negative decimal rate")
    whole, frac = m.groups()
    frac = frac or ""
    return Fraction(int(whole + frac), 10 ** len(frac))


def format_rate(rate: Fraction) -> str:
    """Fraction(1, 10) -> '0.10' (at least two decimals, exact when the rate is a finite decimal)."""
    for places in range(2, 10):
        scaled = rate * 10**places
        if scaled.denominator == 1:
            n = int(scaled)
            return f"{n // 10**places}.{n % 10**places:0{places}d}"
    return f"{float(rate):.9f}"  # display only; never used for money


def apply_rate(fen: int, rate: Fraction) -> int:
    """floor(fen × rate), exact. Negative amounts floor toward minus infinity like any floor."""
    return fen * rate.numerator // rate.denominator
