"""A scenario preset: the synthetic shop a simulation grows (market, recruiting, purchases, churn, products).

Every number has a default (``presets/default.yaml`` writes them all out); a preset file overrides any of them and
the command line overrides ``members``, ``days``, ``seed`` and ``stall_day``. Money is "12.30" strings (or whole
yuan ints) as everywhere; behaviour rates are plain numbers between 0 and 1 (they drive a random generator, they
are never money).

The growth model, day by day (``growth.py``), with M = ``market.size`` and N = members who ever joined:

- innovation: each of the M − N people not yet in joins on their own with chance ``innovation`` (no referrer);
- imitation: each open recruiting slot brings someone with chance ``imitation`` × (M − N) / M: Bass diffusion's
  word of mouth, throttled by how many more people members are willing to bring. A member who recruits at all
  (1 − ``never_share`` of them) gets a number of slots drawn from ``recruits`` when it starts recruiting (on its
  first purchase, or on joining when ``recruiters: anyone``); the referrer of a new member is a uniformly random
  open slot, so members with more open slots are picked more often.

Worked example: 10 founders, imitation 0.1, market 2,000,000, every member buys and opens 3 slots: on day 1 the
30 open slots bring Binomial(30, 0.1 × 1999990/2000000) ≈ 3 members; each new member adds 3 slots; growth
compounds until the market saturates or the members cap is reached.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..engine.config_types import Yuan

PRESETS_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = PRESETS_DIR / "default.yaml"

#: A behaviour rate: the chance of something per member per day (or a share of members).
Chance = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductSpec(_Strict):
    """A product of the synthetic shop; ``cost`` and ``shipping`` are per unit, borne by the platform."""

    sku: str = Field(min_length=1, max_length=64)
    price: Yuan = Field(ge=0)
    gift_pack: bool = False
    cost: Yuan = Field(0, ge=0)
    shipping: Yuan = Field(0, ge=0)
    red_envelope: Yuan | None = Field(None, ge=0)  # a red-envelope group's envelope on this product


class Market(_Strict):
    size: int = Field(2_000_000, ge=1)
    innovation: Chance = 0.00002
    imitation: Chance = 0.1
    founders: int = Field(10, ge=0)


class Recruiting(_Strict):
    never_share: Chance = 0.55
    distribution: Literal["fixed", "poisson", "geometric"] = "geometric"
    mean: float = Field(3.0, ge=1.0, le=1000.0)
    recruiters: Literal["buyers", "anyone"] = "buyers"


class Purchases(_Strict):
    first_sku: str = "GIFT"
    first_share: Chance = 0.8
    first_delay_days: float = Field(1.0, ge=0.0, le=365.0)
    repeat_sku: str = "TEA"
    repeat_daily: Chance = 0.02
    customer_daily: Chance = 0.005
    first_again_daily: Chance = 0.001
    refund_share: Chance = 0.02
    refund_within_days: int = Field(7, ge=0, le=365)


class Churn(_Strict):
    daily: Chance = 0.005


class Withdrawals(_Strict):
    every_days: int = Field(14, ge=1, le=365)
    threshold: Yuan = Field(10000, ge=1)


def _default_products() -> list[ProductSpec]:
    return [
        ProductSpec.model_validate({"sku": "GIFT", "price": "699.00", "gift_pack": True, "cost": "280.00",
                                    "shipping": "12.00"}),
        ProductSpec.model_validate({"sku": "TEA", "price": "59.00", "cost": "22.00", "shipping": "8.00"}),
    ]


class Preset(_Strict):
    name: str = "default"
    members: int = Field(100_000, ge=1, le=50_000_000)
    days: int = Field(180, ge=1, le=3650)
    seed: int = Field(1, ge=0)
    start: dt.date = dt.date(2026, 1, 1)
    timezone: str = "Asia/Shanghai"
    stall_day: int | None = Field(None, ge=0)
    market: Market = Market()
    recruiting: Recruiting = Recruiting()
    purchases: Purchases = Purchases()
    churn: Churn = Churn()
    withdrawals: Withdrawals = Withdrawals()
    products: list[ProductSpec] = Field(default_factory=_default_products, min_length=1)

    @model_validator(mode="after")
    def _skus_exist(self) -> Preset:
        skus = [p.sku for p in self.products]
        if len(set(skus)) != len(skus):
            raise ValueError(f"products: a sku appears twice in {skus}")
        for key in ("first_sku", "repeat_sku"):
            sku = getattr(self.purchases, key)
            if sku not in skus:
                raise ValueError(f"purchases.{key}: {sku!r} is not one of the products {skus}")
        return self

    def product(self, sku: str) -> ProductSpec:
        return next(p for p in self.products if p.sku == sku)

    def entry_skus(self) -> frozenset[str]:
        """Entry packages: products flagged ``gift_pack`` (a purchase that gives a plan rank)."""
        return frozenset(p.sku for p in self.products if p.gift_pack)

    def with_overrides(self, **changes: Any) -> Preset:
        """A copy with top-level keys changed (``None`` values are left as they are), validated again."""
        data = self.describe()
        data.update({k: v for k, v in changes.items() if v is not None})
        return parse_preset(data, "the command line")

    def describe(self) -> dict[str, Any]:
        """The preset as a preset file writes it (money as two-decimal strings), valid input again."""
        return self.model_dump(mode="json")


class PresetError(ValueError):
    """A bad preset file: names the file, the key and the value."""

    def __init__(self, path: str, key: str, value: Any, message: str) -> None:
        self.path, self.key, self.value = path, key, value
        super().__init__(f"{path}: {key}: {value!r}: {message}")


def parse_preset(raw: Any, path: str = "<preset>") -> Preset:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PresetError(path, "(file)", raw, "a preset is a mapping of keys to values")
    try:
        return Preset.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(preset)"
        value = err.get("input")
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise PresetError(path, key, value, message) from None


def load_preset(path: str | Path | None = None) -> Preset:
    """Read a preset file (the default preset when ``path`` is None)."""
    file = Path(path) if path is not None else DEFAULT_PRESET
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PresetError(str(file), "(file)", str(file), exc.strerror or str(exc)) from None
    except yaml.YAMLError as exc:
        raise PresetError(str(file), "(yaml)", None, str(exc).splitlines()[0]) from None
    return parse_preset(raw, str(file))
