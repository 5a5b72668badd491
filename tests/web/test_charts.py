"""The inline SVG chart's geometry: the lowest value on the bottom edge, the highest on the top, evenly spaced; one
value or equal values level in the middle; exact decimals in, floats only for pixels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from liandong.web.pages.charts import line_chart


def test_the_lowest_value_is_at_the_bottom_and_the_highest_at_the_top_evenly_spaced() -> None:
    chart = line_chart([Decimal("1"), Decimal("2"), Decimal("1.5")], width=100, height=50, pad=5)
    assert chart is not None
    assert chart.dots == ((5.0, 45.0), (50.0, 5.0), (95.0, 25.0))
    assert chart.points == "5.0,45.0 50.0,5.0 95.0,25.0"
    assert (chart.low, chart.high, chart.last) == (0, 1, (95.0, 25.0))
    assert (chart.last_x, chart.last_y) == ("95.0", "25.0")


def test_six_decimal_navs_that_differ_in_the_last_digit_still_span_the_chart() -> None:
    navs = [Decimal("1.680672"), Decimal("1.680673"), Decimal("1.681383")]
    chart = line_chart(navs, width=100, height=50, pad=5)
    assert chart is not None
    assert chart.dots[0][1] == 45.0 and chart.dots[2][1] == 5.0
    assert 44.9 < chart.dots[1][1] < 45.0  # one millionth above the lowest: a hair above the bottom


def test_one_value_or_equal_values_are_level_in_the_middle() -> None:
    one = line_chart([Decimal("1.428571")], width=100, height=50, pad=5)
    assert one is not None and one.dots == ((50.0, 25.0),)
    flat = line_chart([Decimal("2")] * 3, width=100, height=50, pad=5)
    assert flat is not None and [y for _x, y in flat.dots] == [25.0, 25.0, 25.0]
    assert (flat.low, flat.high) == (0, 0)


def test_no_values_no_chart_and_no_room_is_an_error() -> None:
    assert line_chart([]) is None
    with pytest.raises(ValueError, match="no room"):
        line_chart([Decimal(1)], width=10, height=50, pad=5)
