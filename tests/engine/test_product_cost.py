"""A product's optional unit cost (``product`` event ``cost``): parsed from yuan to fen, at least zero, absent when
not known; each order keeps the cost of its product when it was paid; a product without one reads as before."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from liandong.engine import Engine, Shop
from liandong.engine import events as ev
from liandong.engine.core import Product
from liandong.engine.registry import REGISTRY


def _engine() -> Engine:
    return Engine(Shop(products=[Product("TEA", 5900)], plans={}), REGISTRY)


def _apply(engine: Engine, verb: str, **fields: object) -> None:
    outcome = engine.apply(ev.EVENT_TYPES[verb].model_validate({"at": engine.clock, **fields}))
    assert outcome.refusal is None, outcome.refusal


def test_the_cost_is_yuan_at_the_edge_and_fen_inside() -> None:
    event = ev.SetProduct.model_validate({"at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "sku": "TEA",
                                          "price": "59.00", "cost": "21.35"})
    assert event.cost == 2135
    assert event.describe()["cost"] == "21.35"
    assert ev.SetProduct.model_validate({"at": event.at, "sku": "TEA", "price": "0.00", "cost": "0"}).cost == 0


def test_a_negative_cost_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        ev.SetProduct.model_validate({"at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "sku": "TEA",
                                      "price": "59.00", "cost": "-1.00"})
    assert "cost" in str(caught.value)


def test_a_product_without_a_cost_reads_as_before() -> None:
    event = ev.SetProduct.model_validate({"at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "sku": "TEA",
                                          "price": "59.00"})
    assert event.cost is None and "cost" not in event.describe()
    engine = _engine()
    _apply(engine, "product", sku="TEA", price="59.00")
    assert engine.products["TEA"].cost is None
    _apply(engine, "join", member="A")
    _apply(engine, "pay", member="A", sku="TEA", order="o1")
    assert engine.orders["o1"].unit_cost is None


def test_each_order_keeps_its_products_cost_when_paid() -> None:
    engine = _engine()
    _apply(engine, "product", sku="TEA", price="59.00", cost="20.00")
    _apply(engine, "join", member="A")
    _apply(engine, "pay", member="A", sku="TEA", order="o1", quantity=3)
    _apply(engine, "product", sku="TEA", price="59.00", cost="25.00")
    _apply(engine, "pay", member="A", sku="TEA", order="o2")
    assert engine.products["TEA"].cost == 2500
    assert (engine.orders["o1"].unit_cost, engine.orders["o1"].quantity) == (2000, 3)
    assert engine.orders["o2"].unit_cost == 2500
    _apply(engine, "refund", order="o1")
    assert engine.orders["o1"].unit_cost == 2000  # a refund takes back the cost it was paid at
    # a change without a cost makes it unknown again for later orders
    _apply(engine, "product", sku="TEA", price="59.00")
    _apply(engine, "pay", member="A", sku="TEA", order="o3")
    assert engine.orders["o3"].unit_cost is None
