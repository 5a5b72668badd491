"""Money at the edges and inside: two-decimal yuan strings <-> integer fen, exact rates, floor to the fen."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from liandong.engine.config_types import Rate, Yuan
from liandong.engine.money import MoneyError, apply_rate, format_fen, format_rate, parse_rate, parse_yuan

fen_amounts = st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)


@pytest.mark.parametrize(
    ("text", "fen"),
    [("699.00", 69900), ("12.3", 1230), ("0.05", 5), ("-0.05", -5), ("-100", -10000), (" 7.50 ", 750),
     ("0", 0), (12, 1200), (0, 0)],
)
def test_parse_yuan_reads_two_decimal_strings_and_whole_yuan_ints(text: object, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", [12.5, 0.1, True, None, "1.234", "abc", "", "1,00", "12.", ".5", "+1.00", "1e3"])
def test_parse_yuan_refuses_floats_and_malformed_text(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(bad)


@pytest.mark.parametrize("bad", ["１０.００", "١٠.٠٠", "10.0０", "²", "۱۲", "10.00\u3000", "\u300010"])
def test_parse_yuan_reads_ascii_digits_only(bad: str) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(bad)


@pytest.mark.parametrize("bad", ["０.１０", "٠.١", "0.1０"])
def test_parse_rate_reads_ascii_digits_only(bad: str) -> None:
    with pytest.raises(MoneyError):
        parse_rate(bad)


def test_parse_yuan_without_negatives_refuses_a_minus() -> None:
    assert parse_yuan("10.00", negative=False) == 1000
    with pytest.raises(MoneyError, match="negative"):
        parse_yuan("-10.00", negative=False)


def test_a_money_error_quotes_only_a_short_prefix_of_the_value() -> None:
    with pytest.raises(MoneyError) as caught:
        parse_yuan("9" * 1_000_000)
    assert len(str(caught.value)) < 200


def test_parse_yuan_error_for_a_float_says_how_to_write_it() -> None:
    with pytest.raises(MoneyError, match=r'12\.5 is not an amount: write it as a string with two decimals'):
        parse_yuan(12.5)


@pytest.mark.parametrize(("fen", "text"), [(69900, "699.00"), (5, "0.05"), (-5, "-0.05"), (-10000, "-100.00"),
                                           (0, "0.00"), (1230, "12.30"), (-1, "-0.01")])
def test_format_fen_writes_exactly_two_decimals(fen: int, text: str) -> None:
    assert format_fen(fen) == text


@given(fen_amounts)
def test_format_then_parse_is_the_identity(fen: int) -> None:
    assert parse_yuan(format_fen(fen)) == fen


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=99))
def test_parse_then_format_gives_the_canonical_text(whole: int, cents: int) -> None:
    text = f"{whole}.{cents:02d}"
    assert format_fen(parse_yuan(text)) == text


@pytest.mark.parametrize(("text", "rate"), [("0.10", Fraction(1, 10)), ("0.05", Fraction(1, 20)), ("1", Fraction(1)),
                                            ("0", Fraction(0)), ("0.333", Fraction(333, 1000)), (2, Fraction(2))])
def test_parse_rate_is_exact(text: object, rate: Fraction) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("bad", [0.1, "-0.10", -1, "abc", "", "0.1.2", False])
def test_parse_rate_refuses_floats_negatives_and_malformed_text(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_rate(bad)


@pytest.mark.parametrize(("rate", "text"), [(Fraction(1, 10), "0.10"), (Fraction(1, 20), "0.05"),
                                            (Fraction(333, 1000), "0.333"), (Fraction(3, 2), "1.50")])
def test_format_rate_writes_at_least_two_decimals(rate: Fraction, text: str) -> None:
    assert format_rate(rate) == text


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=0, max_value=9))  # rates below 10**6
def test_parse_rate_round_trips_through_format_rate(numerator: int, places: int) -> None:
    rate = Fraction(numerator, 10**places)
    assert parse_rate(format_rate(rate)) == rate


@pytest.mark.parametrize(
    ("fen", "rate", "expected"),
    [
        (3000, "0.10", 300),        # peer reward on 30.00
        (69900, "0.05", 3495),      # pool contribution of a 699.00 gift pack
        (2999, "0.10", 299),        # 299.9 fen floors to 299
        (2250, "0.25", 562),        # 562.5 floors to 562
        (1, "0.50", 0),             # half a fen is nothing
        (13980, "0.20", 2796),
        (-5, "0.50", -3),           # floor toward minus infinity
        (12345, "1", 12345),
        (12345, "0", 0),
    ],
)
def test_apply_rate_floors_to_the_fen(fen: int, rate: str, expected: int) -> None:
    assert apply_rate(fen, parse_rate(rate)) == expected


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=100))
def test_apply_rate_never_pays_more_than_the_exact_share(fen: int, percent: int) -> None:
    rate = Fraction(percent, 100)
    paid = apply_rate(fen, rate)
    assert paid <= fen * rate < paid + 1


class _Prices(BaseModel):
    price: Yuan
    rate: Rate


def test_config_types_parse_yuan_and_rates_and_serialise_them_back() -> None:
    parsed = _Prices.model_validate({"price": "12.30", "rate": "0.10"})
    assert (parsed.price, parsed.rate) == (1230, Fraction(1, 10))
    assert _Prices.model_validate({"price": 12, "rate": 1}).price == 1200
    assert parsed.model_dump(mode="json") == {"price": "12.30", "rate": "0.10"}


@pytest.mark.parametrize(("key", "value"), [("price", 12.3), ("price", "abc"), ("rate", 0.1), ("rate", "-1")])
def test_config_types_refuse_floats_and_bad_text_naming_the_key(key: str, value: object) -> None:
    raw: dict[str, object] = {"price": "1.00", "rate": "0.10", key: value}
    with pytest.raises(ValidationError) as caught:
        _Prices.model_validate(raw)
    assert [err["loc"] for err in caught.value.errors()] == [(key,)]
