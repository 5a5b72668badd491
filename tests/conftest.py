"""Shared test fixtures. Keep this file small: fixtures that several test modules use, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from liandong import scenario as sc

# The test-only cashback plan registers itself on import (one line in that file): every test runs with it there,
# which is how tests/test_module_surface.py proves a module needs nothing else (see docs/modules.md).
from modules import cashback  # noqa: F401

#: The products most chain21 tests sell: a 699.00 gift pack and a 59.00 tea that is not one.
GIFT_AND_TEA: list[dict[str, Any]] = [
    {"sku": "GIFT", "price": "699.00", "gift_pack": True},
    {"sku": "TEA", "price": "59.00"},
]

@pytest.fixture
def run_chain21() -> Callable[..., sc.Replay]:
    """Replay ``events`` (scenario-file mappings) on a shop that runs chain21 with ``config`` overrides, checking
    the engine's invariants after every event."""

    def run(events: list[dict[str, Any]], config: dict[str, Any] | None = None,
            products: list[dict[str, Any]] | None = None) -> sc.Replay:
        doc = {"name": "test", "plan": "chain21", "config": config or {},
               "products": products if products is not None else GIFT_AND_TEA, "events": events}
        return sc.replay(sc.parse(doc), check_invariants=True)

    return run
