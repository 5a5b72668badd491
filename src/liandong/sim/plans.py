"""How the simulator reads each plan: its ranks, its pools and frozen balances, its rewards paid without an order.

Everything else (sales, rewards by rule, members' balances, who was paid on whose order) the simulator reads from
the engine's ledger and orders, the same for every plan. A plan with no adapter here still simulates: it just has
no rank chart and no plan-specific series. Adding a plan is one adapter class and one line in ``ADAPTERS``.

Example: chain21 has ranks member < agent < partner; its bonus pool is ``("@pool", "bonus")``; the help fund is
each partner's ``help_fund`` book; ``bonus_share`` is paid from the pool (weighted by rewarded gift-pack sales of
others), so the audit counts it as team-based pay and as triggered by recruits' entry purchases.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, ClassVar

from ..engine.money import format_fen

if TYPE_CHECKING:
    from ..engine.core import Engine


@dataclass(frozen=True)
class PooledRule:
    """A reward rule paid without an order (from a pool or at a close): how the audit classifies it."""

    team_based: bool  # funded by other members' sales
    recruitment_linked: bool  # its weights come from recruits' entry purchases


class PlanAdapter:
    """The default reading of a plan: no ranks, no plan-specific series."""

    kind: ClassVar[str] = ""
    #: the plan's ranks, lowest first; empty when it has none
    ranks: ClassVar[tuple[str, ...]] = ()
    pooled_rules: ClassVar[dict[str, PooledRule]] = {}

    def __init__(self, kind: str) -> None:
        self.plan_kind = kind

    def rank_of(self, engine: Engine, member: str) -> str | None:
        return None

    def observe(self, engine: Engine, fact: dict[str, Any]) -> None:
        """A fact the engine recorded (a promotion, a release); adapters that track members read them here."""

    def series(self, engine: Engine) -> dict[str, int]:
        """Plan-specific figures at the day's close: money in fen (pools, frozen balances) unless ``units`` says."""
        return {}

    #: the names ``series`` returns
    series_names: ClassVar[tuple[str, ...]] = ()
    #: series that are not money: name -> how to show them ("points": hundredths of a point, "nav": millionths)
    units: ClassVar[dict[str, str]] = {}

    def committed(self, engine: Engine) -> int:
        """Money the plan holds in its pools for members (not the platform's to keep), in fen."""
        return 0

    def paid_at_close(self, engine: Engine) -> list[str]:
        """Members the plan pays without an order at a close, beyond those it pays on orders (points holders)."""
        return []

    def touched_by(self, fact: dict[str, Any]) -> str | None:
        """The member whose rank a fact may change."""
        member = fact.get("member")
        return member if isinstance(member, str) else None


class Chain21Adapter(PlanAdapter):
    kind: ClassVar[str] = "chain21"
    ranks: ClassVar[tuple[str, ...]] = ("member", "agent", "partner")
    pooled_rules: ClassVar[dict[str, PooledRule]] = {"bonus_share": PooledRule(True, True)}
    series_names: ClassVar[tuple[str, ...]] = ("bonus_pool", "help_fund")
    POOL = ("@pool", "bonus")

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.help_funds: list[tuple[str, str]] = []  # help funds live only with promoted members

    def rank_of(self, engine: Engine, member: str) -> str | None:
        module: Any = engine.modules[self.plan_kind]
        rank: str = module.standing[member].rank
        return rank

    def observe(self, engine: Engine, fact: dict[str, Any]) -> None:
        if fact["fact"] == "promoted":
            self.help_funds.append((fact["member"], "help_fund"))

    def series(self, engine: Engine) -> dict[str, int]:
        balances = engine.ledger.balances
        frozen = sum(map(balances.get, self.help_funds, repeat(0)))
        return {"bonus_pool": balances.get(self.POOL, 0), "help_fund": frozen}

    def committed(self, engine: Engine) -> int:
        return engine.ledger.balances.get(self.POOL, 0)


class DistributionAdapter(PlanAdapter):
    """Promoters earn on their bound buyers' orders (binding follows the invitation at join in the simulator)."""

    kind: ClassVar[str] = "distribution"
    ranks: ClassVar[tuple[str, ...]] = ("customer", "promoter")

    def rank_of(self, engine: Engine, member: str) -> str | None:
        module: Any = engine.modules[self.plan_kind]
        return "promoter" if module.is_promoter(member) else "customer"


class PointsAdapter(PlanAdapter):
    """Points: the reserve, the points outstanding and their NAV; holders are paid at every close."""

    kind: ClassVar[str] = "points"
    pooled_rules: ClassVar[dict[str, PooledRule]] = {"points_release": PooledRule(False, False),
                                                      "points_clawback": PooledRule(False, False)}
    series_names: ClassVar[tuple[str, ...]] = ("reserve", "points_outstanding", "nav")
    units: ClassVar[dict[str, str]] = {"points_outstanding": "points", "nav": "nav"}

    def series(self, engine: Engine) -> dict[str, int]:
        module: Any = engine.modules[self.plan_kind]
        return {"reserve": module.reserve(engine), "points_outstanding": module.outstanding,
                "nav": module.nav(engine)}

    def committed(self, engine: Engine) -> int:
        module: Any = engine.modules[self.plan_kind]
        reserve: int = module.reserve(engine)
        return reserve

    def paid_at_close(self, engine: Engine) -> list[str]:
        module: Any = engine.modules[self.plan_kind]
        return list(module.releasing)  # holders whose daily release is at least 0.01 point


ADAPTERS: dict[str, type[PlanAdapter]] = {
    "chain21": Chain21Adapter,
    "distribution": DistributionAdapter,
    "points": PointsAdapter,
}


def format_series(unit: str | None, value: int) -> str:
    """A plan series value for the JSON: money and points with two decimals, a NAV with six."""
    if unit == "nav":
        return f"{value // 10**6}.{value % 10**6:06d}"
    return format_fen(value)


def adapter_for(kind: str) -> PlanAdapter:
    return ADAPTERS.get(kind, PlanAdapter)(kind)
