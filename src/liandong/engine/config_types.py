"""Annotated types for plan and campaign configs: money as "12.30" strings (or whole yuan), rates as decimal strings.

Inside, money is int fen and a rate an exact ``Fraction``; pydantic validates and names the key on error.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from .money import MoneyError, format_fen, format_rate, parse_rate, parse_yuan


def _yuan(value: Any) -> int:
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _rate(value: Any) -> Fraction:
    try:
        return parse_rate(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


#: An amount in a config: "200.00" (or 200, whole yuan) -> 20000 fen; serialised back as "200.00".
Yuan = Annotated[
    int,
    BeforeValidator(_yuan),
    PlainSerializer(format_fen, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,2})?$", "examples": ["200.00"]}),
]

#: A rate in a config: "0.10" -> Fraction(1, 10); serialised back as "0.10".
Rate = Annotated[
    Fraction,
    BeforeValidator(_rate),
    PlainSerializer(format_rate, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "examples": ["0.10"]}),
]


def rate_at_most_one(value: Fraction) -> Fraction:
    if value > 1:
        raise ValueError(f"{format_rate(value)} is more than 1")
    return value


#: A rate between 0 and 1 ("0.10"); more than 1 is refused naming the value.
Rate01 = Annotated[Rate, AfterValidator(rate_at_most_one)]
