"""How the simulator reads each plan: the adapter the plan's module declares (``Module.sim_adapter``, a
``SimAdapter``: its ranks, its pools and frozen balances, its rewards paid without an order).

Everything else (sales, rewards by rule, members' balances, who was paid on whose order) the simulator reads from
the engine's ledger and orders, the same for every plan. A module that declares no adapter still simulates: it just
has no rank chart and no plan-specific series. Example: chain21's adapter has ranks member < agent < partner, its
bonus pool ``("@pool", "bonus")`` and the partners' help funds as series, and ``bonus_share`` as pooled pay that the
audit counts as team-based and triggered by recruits' entry purchases.
"""

from __future__ import annotations

from ..engine.module import SimAdapter
from ..engine.money import format_fen
from ..engine.registry import REGISTRY

__all__ = ["SimAdapter", "adapter_for", "format_series"]


def format_series(unit: str | None, value: int) -> str:
    """A plan series value for the JSON: money and points with two decimals, a NAV with six."""
    if unit == "nav":
        return f"{value // 10**6}.{value % 10**6:06d}"
    return format_fen(value)


def adapter_for(kind: str) -> SimAdapter:
    """The simulator's reading of the plan ``kind``, as its module declares it."""
    module = REGISTRY.module(kind)
    return (module.sim_adapter if module is not None else SimAdapter)(kind)
