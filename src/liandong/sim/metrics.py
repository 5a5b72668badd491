"""What a simulation measures: daily series at each close, and distributions at the end. Money is fen inside and
two-decimal strings in the JSON; shares and ratios are fractions rounded to 6 places (never money).

Definitions (the report and the audit use exactly these):

- *rewards* of a member: everything credited to it less reversals = the sum of its books (available, pending,
  help fund, withdrawing, withdrawn) plus withdrawal fees it paid. *spend*: what it paid for orders, less refunds.
  *net result* = rewards − spend. E.g. an agent who bought the 699.00 pack and was paid two 100.00 direct rewards
  has a net result of −499.00.
- *sales*: paid orders less refunds (the ledger's ``@platform/sales``); *costs*: product cost and shipping of every
  paid order (a refunded order's goods come back: its cost is recovered, its shipping is not); *committed*: money a
  plan holds in its pools for members (chain21's bonus pool, the points reserve); *margin* = sales − costs −
  rewards − committed; *payout ratio* = (rewards + committed) / sales; *cash* = sales − costs − withdrawals paid
  out; *liabilities* = rewards not yet withdrawn + committed. Plan series (pools, help funds, the NAV) are
  measured at every close up to 200,000 members and every 7th close above (null on the days between).
- *paid level* of a reward on an order: how many steps up the original invitation graph the earner is from the
  buyer (0: the buyer itself, 1: its referrer, 2: the referrer's referrer, …); rewards paid without an order (a
  bonus pool share) are *pooled*. *Team-based* pay: level ≥ 2 or pooled from others' sales.
- *entry purchase*: a member's first purchase of an entry package (a product flagged ``gift_pack``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine.core import SALES
from ..engine.ledger import REWARD_RULES
from ..engine.money import format_fen
from .plans import format_series

if TYPE_CHECKING:
    from .runner import Simulation

AGES = (30, 90, 365)
COHORTS = 12
LORENZ_POINTS = 100
HISTOGRAM_BINS = 40


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    """A share or ratio for reading (6 places); None when the denominator is zero."""
    if not denominator:
        return None
    return round(numerator / denominator, 6)


def fen_text(values: list[int]) -> list[str]:
    return [format_fen(v) for v in values]


@dataclass
class DailySeries:
    """One value per closed day. Money series are integer fen."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    ranks: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    rewards_by_rule: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, value: int | None) -> None:
        self.columns.setdefault(name, []).append(value)


MONEY_COLUMNS = ("sales", "costs", "rewards", "margin", "sales_cum", "costs_cum", "rewards_cum", "margin_cum",
                 "withdrawn_cum", "cash", "liabilities", "committed")


class Collector:
    """Reads the engine and the population at each close; computes the end distributions."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.series = DailySeries()
        self._last_credits: dict[str, int] = {}
        self._last_sales = 0
        self._last_costs = 0
        self._last_margin = 0
        self.snapshots: dict[int, list[tuple[int, bool]]] = {age: [] for age in AGES}  # (net, bought entry)

    # --- daily ---------------------------------------------------------------------------------------------------
    def close_day(self, day: int, joins: int, orders: int) -> None:
        sim = self.sim
        engine = sim.engine
        s = self.series
        s.add("day", day)
        s.add("joins", joins)
        s.add("members", sim.population.size)
        s.add("active", sim.population.active)
        s.add("orders", orders)
        sales_cum = engine.ledger.balance(SALES)
        credits = engine.ledger.member_credits_by_rule
        rewards_today = 0
        for rule in sorted(REWARD_RULES | set(s.rewards_by_rule)):
            now = credits.get(rule, 0)
            delta = now - self._last_credits.get(rule, 0)
            self._last_credits[rule] = now
            column = s.rewards_by_rule.setdefault(rule, [0] * (len(s.columns["day"]) - 1))
            column.append(delta)
            rewards_today += delta
        rewards_cum = engine.ledger.rewards_fen()
        committed = sum(a.committed(engine) for a in sim.adapters)
        margin_cum = sales_cum - sim.costs - rewards_cum - committed
        s.add("sales", sales_cum - self._last_sales)
        s.add("costs", sim.costs - self._last_costs)
        s.add("rewards", rewards_today)
        s.add("margin", margin_cum - self._last_margin)
        self._last_sales, self._last_costs, self._last_margin = sales_cum, sim.costs, margin_cum
        s.add("sales_cum", sales_cum)
        s.add("costs_cum", sim.costs)
        s.add("rewards_cum", rewards_cum)
        s.add("margin_cum", margin_cum)
        s.add("committed", committed)
        s.add("withdrawn_cum", sim.withdrawn)
        s.add("cash", sales_cum - sim.costs - sim.withdrawn)
        s.add("liabilities", rewards_cum - sim.withdrawn - sim.fees_total + committed)
        sampled = day % sim.series_every == 0 or day == sim.preset.days - 1
        for adapter in sim.adapters:
            if sampled:
                for name, value in adapter.series(engine).items():
                    s.add(f"{adapter.plan_kind}.{name}", value)
            else:  # a day left out of a large run's plan series: null in the JSON
                for name in adapter.series_names:
                    s.add(f"{adapter.plan_kind}.{name}", None)
            if adapter.ranks:
                counts = sim.rank_counts[adapter.plan_kind]
                by_rank = s.ranks.setdefault(adapter.plan_kind, {r: [] for r in adapter.ranks})
                for rank in adapter.ranks:
                    by_rank[rank].append(counts.get(rank, 0))
        self._snapshot_ages(day)

    def _snapshot_ages(self, day: int) -> None:
        sim = self.sim
        joined_on = sim.population.joined_on
        for age in AGES:
            if day - age >= 0:
                out = self.snapshots[age]
                for m in joined_on[day - age]:
                    out.append((sim.rewards_of(m) - sim.spend[m], sim.entry_order[m] is not None))

    # --- the end -------------------------------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        sim = self.sim
        n = sim.population.size
        rewards = [sim.rewards_of(m) for m in range(n)]
        spend = sim.spend
        nets = [rewards[m] - spend[m] for m in range(n) if spend[m] or rewards[m]]
        out: dict[str, Any] = {
            "totals": self._totals(rewards),
            "net_result": net_distribution(nets),
            "rewards_concentration": concentration(rewards),
            "cohorts": self._cohorts(rewards),
            "depth": self._depth(),
            "ages": self._ages(),
            "classification": self._classify(rewards),
        }
        out["series"] = self._series_json()
        return out

    def _totals(self, rewards: list[int]) -> dict[str, Any]:
        sim = self.sim
        engine = sim.engine
        sales = engine.ledger.balance(SALES)
        paid = engine.ledger.rewards_fen()
        committed = sum(a.committed(engine) for a in sim.adapters)
        credits = engine.ledger.member_credits_by_rule
        by_rule = {rule: format_fen(credits.get(rule, 0)) for rule in sorted(REWARD_RULES) if credits.get(rule)}
        pools = {f"{a.plan_kind}.{k}": format_series(a.units.get(k), v)
                 for a in sim.adapters for k, v in a.series(engine).items()}
        return {
            "members": sim.population.size,
            "active": sim.population.active,
            "bought_first": sum(sim.population.made_first),
            "earners": sum(1 for r in rewards if r > 0),
            "events": sim.events, "refused": sim.refused_count, "refused_by_code": dict(sim.refused_codes),
            "orders": sim.orders_paid, "refunds": sim.refunds,
            "sales": format_fen(sales), "costs": format_fen(sim.costs), "rewards": format_fen(paid),
            "rewards_by_rule": by_rule, "committed_in_pools": format_fen(committed),
            "margin": format_fen(sales - sim.costs - paid - committed),
            "withdrawn": format_fen(sim.withdrawn), "cash": format_fen(sales - sim.costs - sim.withdrawn),
            "liabilities": format_fen(paid - sim.withdrawn - sim.fees_total + committed),
            "payout_ratio": ratio(paid + committed, sales), "gross_margin_ratio": ratio(sales - sim.costs, sales),
            "plan_balances": pools,
            "ledger_balanced": not engine.ledger.check_invariants(),
        }

    def _cohorts(self, rewards: list[int]) -> list[dict[str, Any]]:
        sim = self.sim
        days = sim.preset.days
        width = max(1, -(-days // COHORTS))
        groups: dict[int, list[int]] = {}
        for m, joined in enumerate(sim.population.join_day):
            groups.setdefault(joined // width, []).append(m)
        out = []
        for index in sorted(groups):
            members = groups[index]
            nets = [rewards[m] - sim.spend[m] for m in members]
            arr = np.array(nets, dtype=np.int64)
            out.append({
                "joined_from_day": index * width, "joined_to_day": min(days, (index + 1) * width) - 1,
                "members": len(members),
                "mean_net": format_fen(int(arr.sum()) // len(members)),
                "median_net": format_fen(int(np.median(arr))),
                "mean_rewards": format_fen(sum(rewards[m] for m in members) // len(members)),
                "share_net_loss": ratio(int((arr < 0).sum()), len(members)),
            })
        return out

    def _depth(self) -> dict[str, Any]:
        depth = self.sim.population.depth
        counts = Counter(depth)
        top = max(counts) if counts else 0
        return {"max": top, "mean": ratio(sum(depth), len(depth)), "members_by_depth": [counts.get(d, 0)
                                                                                          for d in range(top + 1)]}

    def _ages(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for age, rows in self.snapshots.items():
            entry = [net for net, bought in rows if bought]
            out[str(age)] = {"all": loss_summary([net for net, _b in rows]), "entry_buyers": loss_summary(entry)}
        return out

    def _classify(self, rewards: list[int]) -> dict[str, Any]:
        return classify_rewards(self.sim, rewards)

    def _series_json(self) -> dict[str, Any]:
        s = self.series
        out: dict[str, Any] = {}
        units = {f"{a.plan_kind}.{k}": u for a in self.sim.adapters for k, u in a.units.items()}
        for name, values in s.columns.items():
            if name in MONEY_COLUMNS or "." in name:
                out[name] = [None if v is None else format_series(units.get(name), v) for v in values]
            else:
                out[name] = values
        out["rewards_by_rule"] = {rule: fen_text(v) for rule, v in s.rewards_by_rule.items() if any(v)}
        out["ranks"] = s.ranks
        sales, rewards = s.columns.get("sales_cum", []), s.columns.get("rewards_cum", [])
        committed = s.columns.get("committed", [])
        out["payout_ratio"] = [ratio(r + c, x) for r, c, x in zip(rewards, committed, sales, strict=True)]
        return out


def loss_summary(nets: list[int]) -> dict[str, Any]:
    if not nets:
        return {"members": 0, "share_net_loss": None, "median_net": None}
    arr = np.array(nets, dtype=np.int64)
    return {"members": len(nets), "share_net_loss": ratio(int((arr < 0).sum()), len(nets)),
            "median_net": format_fen(int(np.median(arr)))}


def net_distribution(nets: list[int]) -> dict[str, Any]:
    """Histogram (yuan edges), quantiles and the share below zero of members' net results."""
    if not nets:
        return {"members": 0, "share_below_zero": None, "quantiles": {}, "histogram": {"edges": [], "counts": []}}
    arr = np.array(nets, dtype=np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 100, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(arr, bins=edges)
    quantiles = {f"p{q}": format_fen(int(np.percentile(arr, q, method="lower"))) for q in (1, 10, 25, 50, 75, 90, 99)}
    return {
        "members": len(nets),
        "share_below_zero": ratio(int((arr < 0).sum()), len(nets)),
        "mean": format_fen(int(arr.sum()) // len(nets)),
        "min": format_fen(lo), "max": format_fen(hi),
        "quantiles": quantiles,
        "histogram": {"edges": [format_fen(int(e)) for e in edges], "counts": counts.tolist()},
    }


def concentration(rewards: list[int]) -> dict[str, Any]:
    """Lorenz curve, Gini and top shares of rewards over all members (members paid nothing count as zero)."""
    n = len(rewards)
    arr = np.sort(np.array(rewards, dtype=np.int64))
    total = int(arr.sum())
    if n == 0 or total <= 0:
        return {"members": n, "gini": None, "top_1pct_share": None, "top_10pct_share": None,
                "lorenz": {"population": [], "rewards": []}}
    cum = np.cumsum(arr)
    # Gini = 1 - 2 * area under the Lorenz curve, with the exact discrete formula
    gini = (2 * int((np.arange(1, n + 1, dtype=np.int64) * arr).sum())) / (n * total) - (n + 1) / n
    points = np.linspace(0, n, LORENZ_POINTS + 1).astype(np.int64)
    lorenz = [0.0] + [round(int(cum[p - 1]) / total, 6) for p in points[1:]]

    def top(share: float) -> float | None:
        k = max(1, int(n * share))
        return ratio(int(arr[-k:].sum()), total)

    return {"members": n, "gini": round(gini, 6), "top_1pct_share": top(0.01), "top_10pct_share": top(0.10),
            "lorenz": {"population": [round(int(p) / n, 6) for p in points], "rewards": lorenz}}


def classify_rewards(sim: Simulation, rewards: list[int]) -> dict[str, Any]:
    """Who was paid on whose order: paid levels on the invitation graph, recruitment-triggered and team-based pay,
    pay against each earner's own sales, sales to buyers who never earn, early against late joiners."""
    engine, referrer = sim.engine, sim.population.referrer
    by_level: Counter[str] = Counter()
    paid_on_others: Counter[int] = Counter()  # by earner: rewards on orders of members other than itself
    entry_triggered = 0
    max_level = 0
    entry_orders = sim.entry_orders
    for order in engine.orders.values():
        records = order.rewards
        if not records:
            continue
        buyer = int(order.member[1:])  # simulator ids are m<index>
        is_entry = order.id in entry_orders
        for record in records:
            if record.reversed:
                continue
            earner = int(record.member[1:])
            level = _level(referrer, buyer, earner)
            by_level[str(level) if 0 <= level <= 2 else ("3+" if level > 2 else "other")] += record.amount
            if level > max_level:
                max_level = level
            if level != 0:
                paid_on_others[earner] += record.amount
            if is_entry:
                entry_triggered += record.amount
    pooled_team = pooled_recruit = 0
    credits = engine.ledger.member_credits_by_rule
    for adapter in sim.adapters:
        for rule, (funded_by_others, recruitment_linked) in adapter.pooled_rules.items():
            amount = credits.get(rule, 0)
            by_level["pooled"] += amount
            pooled_team += amount if funded_by_others else 0
            pooled_recruit += amount if recruitment_linked else 0
    unattributed = engine.ledger.rewards_fen() - sum(by_level.values())
    if unattributed:  # a reward rule no adapter describes: counted as pay on others' sales, to be safe
        by_level["other"] += unattributed
    total = sum(by_level.values())
    team_based = by_level["2"] + by_level["3+"] + by_level["other"] + pooled_team
    return {
        "rewards_by_level": {k: format_fen(v) for k, v in sorted(by_level.items())},
        "max_paid_level": max_level,
        "recruitment_triggered_share": ratio(entry_triggered + pooled_recruit, total),
        "team_based_share": ratio(team_based, total),
        **_own_sales(sim, paid_on_others),
        **_never_earning_sales(sim, rewards),
        **_early_late(rewards),
    }


def _level(referrer: list[int], buyer: int, earner: int) -> int:
    """Steps from the buyer up the invitation graph to the earner; -1 when the earner is not above the buyer."""
    steps, at = 0, buyer
    while at >= 0:
        if at == earner:
            return steps
        at = referrer[at]
        steps += 1
    return -1


def _own_sales(sim: Simulation, paid_on_others: Counter[int]) -> dict[str, Any]:
    """直销管理条例 Art. 24's test: what each member was paid on others' orders against the sales it made itself
    (its direct referrals' orders). Pool shares are left out: they cannot be told apart by member here."""
    earners = [m for m, paid in paid_on_others.items() if paid > 0]
    over = sum(1 for m in earners if paid_on_others[m] * 10 > sim.own_sales[m] * 3)
    return {"referral_earners": len(earners), "share_earners_over_30pct_of_own_sales": ratio(over, len(earners)),
            "referral_pay_to_own_sales": ratio(sum(paid_on_others[m] for m in earners),
                                               sum(sim.own_sales[m] for m in earners))}


def _never_earning_sales(sim: Simulation, rewards: list[int]) -> dict[str, Any]:
    total = sum(sim.spend)
    never = sum(s for s, r in zip(sim.spend, rewards, strict=True) if r <= 0)
    return {"share_sales_to_never_earning": ratio(never, total)}


def _early_late(rewards: list[int]) -> dict[str, Any]:
    """Mean rewards of the first 10% of joiners against the last 50%."""
    n = len(rewards)
    if n < 10:
        return {"early_late_ratio": None, "early_mean_rewards": None, "late_mean_rewards": None}
    early = rewards[: n // 10]
    late = rewards[n - n // 2:]
    early_mean, late_mean = sum(early) / len(early), sum(late) / len(late)
    return {"early_mean_rewards": format_fen(sum(early) // len(early)),
            "late_mean_rewards": format_fen(sum(late) // len(late)),
            "early_late_ratio": ratio(early_mean, late_mean)}
