"""What the dashboard reads: the worker's daily figures (``DailyFigure``, ``service.daily_figures``) and balances it
keeps (``Balance`` of the shop's accounts, the plans' shop reads in ``ModuleState``, ``WithdrawalState``); nothing
here reads the ledger's entries or computes a reward. Every query is over the kept aggregates, so the page costs
the same on a shop of ten members as on one of a million.

Money is integer fen; ratios are ``Fraction`` (shown with ``ratio_text``). A period is a range of business days in
the shop's time zone, both ends included.

- *sales*: paid into the platform's sales (every order paid, a campaign's purchase when it is booked); *refunds*:
  taken back out; *net sales* = sales - refunds.
- *rewards*: what members were credited by the plans' reward rules, less the reversals of refunded orders' rewards.
- *to pools*: the change of the money the plans hold for members (the chain21 bonus pool, the points reserve).
- *payout ratio* = (rewards + to pools) / net sales, the simulator's definition (``sim.metrics``).
- *margin after rewards* = net sales - rewards - to pools, before the goods' cost.
- *cost of goods*: each paid order's quantity × its product's unit cost when it was paid (the ``product`` event's
  ``cost``), less the refunded ones; *sales without a cost*: the net sales of orders whose product had no cost then.
- *gross margin* = (net sales - sales without a cost) - cost of goods: the margin on the sales with a known cost.
- *payout ratio to gross margin* = (rewards + to pools) / gross margin; None without a positive gross margin. With
  sales without a cost it is over the sales with a cost only (their *share* is shown beside it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from ...engine.money import format_fen
from ...service.store.models import Balance, DailyFigure
from ..api import reads as api_reads
from . import reads

#: The periods the selector offers: today, the last 7 and 30 days (today included), or from/to.
PERIODS = ("today", "7", "30", "custom")
#: The longest custom period, in days.
MAX_DAYS = 366
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadPeriod(ValueError):
    """A period the selector cannot show: ``field`` and ``value`` name what was wrong (a 400 page)."""

    def __init__(self, field: str, value: str, why: str) -> None:
        super().__init__(f"{field} {value!r}: {why}")
        self.field, self.value, self.why = field, value, why


@dataclass(frozen=True)
class Period:
    name: str  # one of PERIODS
    start: dt.date
    end: dt.date  # included

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def query(self) -> dict[str, str]:
        """The query string that shows this period again (the CSV links)."""
        if self.name == "custom":
            return {"period": "custom", "from": self.start.isoformat(), "to": self.end.isoformat()}
        return {"period": self.name}


def _day(name: str, raw: str) -> dt.date:
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadPeriod(name, raw[:20], _("not a day as YYYY-MM-DD")) from None


def period_of(query: Any, today: dt.date) -> Period:
    """The period a query asks for (``period`` = today, 7, 30 or custom with ``from`` and ``to``); 7 by default."""
    name = str(query.get("period") or "7")
    if name not in PERIODS:
        raise BadPeriod("period", name[:20], _("not one of today, 7, 30, custom"))
    if name == "today":
        return Period(name, today, today)
    if name in ("7", "30"):
        return Period(name, today - dt.timedelta(days=int(name) - 1), today)
    raw_from, raw_to = str(query.get("from") or ""), str(query.get("to") or "")
    if not raw_from:
        raise BadPeriod("from", "", _("a custom period needs its first day"))
    if not raw_to:
        raise BadPeriod("to", "", _("a custom period needs its last day"))
    start, end = _day("from", raw_from), _day("to", raw_to)
    if end < start:
        raise BadPeriod("to", raw_to, _("before the first day"))
    if (end - start).days + 1 > MAX_DAYS:
        raise BadPeriod("to", raw_to, _("more than %(days)d days after the first day") % {"days": MAX_DAYS})
    return Period(name, start, end)


# --- the period's figures --------------------------------------------------------------------------------------


@dataclass
class Figures:
    """A period's daily figures: per day (``days`` order) and summed."""

    days: list[dt.date]
    sales: list[int]
    orders: list[int]
    refunds: list[int]
    refund_count: list[int]
    rewards: dict[tuple[str, str], list[int]]  # (plan, rule) -> per day
    reward_count: dict[tuple[str, str], int]
    pools: list[int]
    joined: list[int]
    ranks: dict[tuple[str, str], list[int]]  # (plan, rank) -> members who reached it, per day
    ranks_lost: dict[tuple[str, str], int] = field(default_factory=dict)
    cost_of_goods: list[int] = field(default_factory=list)
    without_cost: list[int] = field(default_factory=list)  # net sales of orders whose product had no cost

    @property
    def gross_margin_per_day(self) -> list[int]:
        return [n - w - c for n, w, c in zip(self.net_sales, self.without_cost, self.cost_of_goods, strict=True)]

    @property
    def gross_payout_per_day(self) -> list[Fraction | None]:
        return [gross_payout_ratio(g, r, p) for g, r, p in zip(self.gross_margin_per_day, self.rewards_per_day,
                                                               self.pools, strict=True)]

    @property
    def net_sales(self) -> list[int]:
        return [s - r for s, r in zip(self.sales, self.refunds, strict=True)]

    @property
    def rewards_per_day(self) -> list[int]:
        return [sum(values[i] for values in self.rewards.values()) for i in range(len(self.days))]

    @property
    def payout_per_day(self) -> list[Fraction | None]:
        return [payout_ratio(n, r, p) for n, r, p in zip(self.net_sales, self.rewards_per_day, self.pools,
                                                        strict=True)]

    def total(self, values: list[int]) -> int:
        return sum(values)

    @property
    def totals(self) -> dict[str, Any]:
        net, rewards, pools = sum(self.net_sales), sum(self.rewards_per_day), sum(self.pools)
        cost, without = sum(self.cost_of_goods), sum(self.without_cost)
        gross = net - without - cost
        return {"sales": sum(self.sales), "orders": sum(self.orders), "refunds": sum(self.refunds),
                "refund_count": sum(self.refund_count), "net_sales": net, "rewards": rewards, "pools": pools,
                "margin": net - rewards - pools, "payout_ratio": payout_ratio(net, rewards, pools),
                "joined": sum(self.joined), "cost_of_goods": cost, "without_cost": without, "gross_margin": gross,
                "gross_payout_ratio": gross_payout_ratio(gross, rewards, pools),
                "without_cost_share": Fraction(without, net) if net > 0 else None}


def payout_ratio(net_sales: int, rewards: int, pools: int) -> Fraction | None:
    """(rewards + to pools) / net sales; None without net sales."""
    if net_sales <= 0:
        return None
    return Fraction(rewards + pools, net_sales)


def gross_payout_ratio(gross_margin: int, rewards: int, pools: int) -> Fraction | None:
    """(rewards + to pools) / gross margin; None without a positive gross margin."""
    if gross_margin <= 0:
        return None
    return Fraction(rewards + pools, gross_margin)


def ratio_text(value: Fraction | None) -> str:
    """A ratio as a percentage with one decimal (``Fraction(1, 8)`` -> ``"12.5%"``); "" for none. Exact."""
    if value is None:
        return ""
    scaled = Decimal(value.numerator * 100) / Decimal(value.denominator)
    return f"{scaled.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def ratio_decimal(value: Fraction | None) -> str:
    """A ratio as a decimal with four places for a CSV (``Fraction(1, 8)`` -> ``"0.1250"``); "" for none."""
    if value is None:
        return ""
    scaled = Decimal(value.numerator) / Decimal(value.denominator)
    return str(scaled.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def figures(period: Period) -> Figures:
    """The period's figures: one query over its days' rows."""
    days = period.days
    index = {day: i for i, day in enumerate(days)}
    n = len(days)

    def zeros() -> list[int]:
        return [0] * n

    per: dict[str, list[int]] = defaultdict(zeros)
    counts: dict[str, list[int]] = defaultdict(zeros)
    rewards: dict[tuple[str, str], list[int]] = defaultdict(zeros)
    reward_count: dict[tuple[str, str], int] = defaultdict(int)
    ranks: dict[tuple[str, str], list[int]] = defaultdict(zeros)
    lost: dict[tuple[str, str], int] = defaultdict(int)
    rows = (DailyFigure.objects.filter(day__gte=period.start, day__lte=period.end,
                                       figure__in=("sales", "refunds", "reward", "pools", "joined", "rank",
                                                   "rank_lost", "cost_of_goods", "sales_without_cost"))
            .values_list("day", "figure", "plan", "key", "amount", "count"))
    for day, figure, plan, key, amount, count in rows:
        i = index[day]
        if figure == "reward":
            rewards[(plan, key)][i] += amount
            reward_count[(plan, key)] += count
        elif figure == "rank":
            ranks[(plan, key)][i] += count
        elif figure == "rank_lost":
            lost[(plan, key)] += count
        else:
            per[figure][i] += amount
            counts[figure][i] += count
    return Figures(days, per["sales"], counts["sales"], per["refunds"], counts["refunds"],
                   dict(sorted(rewards.items())), dict(reward_count), per["pools"], counts["joined"],
                   dict(sorted(ranks.items())), dict(lost), per["cost_of_goods"], per["sales_without_cost"])


# --- balances now ----------------------------------------------------------------------------------------------


@dataclass
class Now:
    """The balances the worker keeps, as they stand now."""

    members: int
    help_funds: int  # frozen in members' help funds
    owing: int  # what members owe (available below zero), fen
    owing_members: int
    pools: list[tuple[str, int]]  # (book of @pool, balance)
    escrow: int  # in the campaigns' escrows
    escrow_campaigns: int
    points: dict[str, Any] | None  # the points plan's shop read: nav, outstanding, reserve
    ranks: dict[tuple[str, str], int]  # (plan, rank) -> members holding it now
    pending_withdrawals: dict[str, int]
    payouts_due: dict[str, int]


def now() -> Now:
    """Current balances: sums over the daily figures' rows of every day (a few rows a day), the shop's accounts by
    their owner (an index range), and the plans' shop reads."""
    totals = {(figure, key): (int(amount or 0), int(count or 0)) for figure, key, amount, count in
              DailyFigure.objects.filter(figure__in=("book", "owing", "joined")).values_list("figure", "key")
              .annotate(amount=Sum("amount"), count=Sum("count")).values_list("figure", "key", "amount", "count")}
    held = {(plan, key): int(count or 0) for plan, key, count in
            DailyFigure.objects.filter(figure="rank_held").values_list("plan", "key").annotate(count=Sum("count"))
            .values_list("plan", "key", "count")}
    pools = sorted(Balance.objects.filter(owner="@pool").values_list("book", "amount"))
    escrow = Balance.objects.filter(owner="@escrow").aggregate(held=Sum("amount"),
                                                               campaigns=Count("id", filter=~Q(amount=0)))
    points = api_reads.shop_read("points") if "points" in api_reads.running_plans() else None
    owing = totals.get(("owing", ""), (0, 0))
    return Now(members=totals.get(("joined", ""), (0, 0))[1], help_funds=totals.get(("book", "help_fund"), (0, 0))[0],
               owing=owing[0], owing_members=owing[1], pools=[(b, a) for b, a in pools],
               escrow=int(escrow["held"] or 0),
               escrow_campaigns=int(escrow["campaigns"] or 0),
               points=points, ranks=held,
               pending_withdrawals=reads.pending_withdrawals(), payouts_due=reads.payouts_due())


# --- the charts' numbers ---------------------------------------------------------------------------------------


def money(values: list[int]) -> list[str]:
    return [format_fen(v) for v in values]


def chart_tables(f: Figures) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each chart's numbers as its CSV holds them: a header and one row per day (money as two-decimal strings,
    ratios as four-place decimals). The chart draws exactly these."""
    days = [d.isoformat() for d in f.days]
    sales = (["day", "sales", "refunds", "net_sales", "orders", "refunded_orders"],
             [[d, format_fen(s), format_fen(r), format_fen(s - r), str(o), str(rc)] for d, s, r, o, rc
              in zip(days, f.sales, f.refunds, f.orders, f.refund_count, strict=True)])
    keys = list(f.rewards)
    rewards = (["day", *[f"{plan}:{rule}" for plan, rule in keys], "total"],
               [[d, *[format_fen(f.rewards[k][i]) for k in keys], format_fen(t)]
                for i, (d, t) in enumerate(zip(days, f.rewards_per_day, strict=True))])
    rank_keys = list(f.ranks)
    members = (["day", "joined", *[f"{plan}:{rank}" for plan, rank in rank_keys]],
               [[d, str(f.joined[i]), *[str(f.ranks[k][i]) for k in rank_keys]] for i, d in enumerate(days)])
    payout = (["day", "net_sales", "rewards", "to_pools", "margin_after_rewards", "payout_ratio",
               "sales_without_cost", "cost_of_goods", "gross_margin", "payout_ratio_to_gross_margin"],
              [[d, format_fen(n), format_fen(r), format_fen(p), format_fen(n - r - p), ratio_decimal(ratio),
                format_fen(w), format_fen(c), format_fen(g), ratio_decimal(gross)]
               for d, n, r, p, ratio, w, c, g, gross in zip(
                   days, f.net_sales, f.rewards_per_day, f.pools, f.payout_per_day, f.without_cost,
                   f.cost_of_goods, f.gross_margin_per_day, f.gross_payout_per_day, strict=True)])
    return {"sales": sales, "rewards": rewards, "members": members, "payout": payout}


CHARTS = ("sales", "rewards", "members", "payout")
