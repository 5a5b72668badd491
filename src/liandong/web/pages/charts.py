"""Small charts drawn on the server as inline SVG (no JavaScript library): the geometry only, the template draws it.

Values are exact decimals as the engine published them (a NAV "1.428571"); only the pixel coordinates are floats.
Example: ``line_chart([Decimal("1"), Decimal("2"), Decimal("1.5")], width=100, height=50, pad=5)`` gives the points
``5.0,45.0 50.0,5.0 95.0,25.0``: the lowest value on the bottom edge, the highest on the top, evenly spaced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    dots: tuple[tuple[float, float], ...]  # (x, y) of each value, in order; y grows downward
    low: int  # the index of the lowest value (the first of equals)
    high: int  # the index of the highest value

    @property
    def points(self) -> str:
        """The SVG ``points`` attribute of the line."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.dots)

    @property
    def last(self) -> tuple[float, float]:
        return self.dots[-1]

    @property
    def last_x(self) -> str:
        """The last dot's x as SVG text (never localised: "95.0", not "95,0")."""
        return f"{self.dots[-1][0]:.1f}"

    @property
    def last_y(self) -> str:
        return f"{self.dots[-1][1]:.1f}"


def line_chart(values: Sequence[Decimal], width: int = 340, height: int = 120, pad: int = 8) -> LineChart | None:
    """The line through ``values`` inside ``width`` × ``height`` less ``pad`` on every side; None when there are no
    values. One value, or all equal, is drawn level across the middle."""
    if not values:
        return None
    if width <= 2 * pad or height <= 2 * pad:
        raise ValueError(f"a {width}x{height} chart has no room inside a padding of {pad}")
    lowest, highest = min(values), max(values)
    span = highest - lowest
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    count = len(values)
    dots = []
    for i, value in enumerate(values):
        x = pad + (inner_w * i / (count - 1) if count > 1 else inner_w / 2)
        share = (highest - value) / span if span else Decimal("0.5")
        dots.append((float(x), float(pad + inner_h * share)))
    return LineChart(width, height, tuple(dots), list(values).index(lowest), list(values).index(highest))
