"""Consumption value-added points (消费增值 / 绿色积分), as ``shared/spec/points.md`` defines them.

A share of every paid order goes into a reserve; the buyer gets green points; a point is worth
``reserve / points outstanding`` (its net asset value, NAV, published to 6 decimals and floored). Points are held to
2 decimals of a point: inside they are integer hundredths (unit ``centipoint``), like fen for money. Worked example
with the defaults (reserve_rate 0.30, mint_ratio 0.70, initial_nav 1.000000, daily_release_rate 0.002,
cashout_fee_rate 0.20)::

    A pays 1,000.00   contribution 300.00 into the reserve; at the NAV before it (1.000000, no points yet)
                      A gets floor(300.00 × 0.70 / 1.000000) = 210.00 points
                      reserve 300.00, outstanding 210.00, NAV floor(300 / 210) = 1.428571
    B pays 1,000.00   B gets floor(210.00 / 1.428571) = 147.00 points
                      reserve 600.00, outstanding 357.00, NAV 1.680672
    close_day         the day's NAV is 1.680672; A releases floor(210.00 × 0.002) = 0.42 points, cashed at
                      floor(0.42 × 1.680672 × 0.80) = 0.56 into available; B releases 0.29 for 0.38;
                      released points are burnt, the 20% fee (and the fen floored away) stays in the reserve:
                      reserve 599.06, outstanding 356.29, NAV 1.681383

Paying with points: ``{pay: B, sku: X, points: "100.00"}`` burns the points at the NAV before the purchase (no fee),
up to ``max_deduction_rate`` of the order. The core books the sale from ``@external/payments`` for the full amount;
this plan posts the points' value from the reserve to ``@external/payments``, so the outside pays only the cash part
and the platform's sales hold the full amount. Points and the contribution are earned on the cash part only.

A refund undoes the order as far as it can: points paid with are given back (their value returns to the reserve);
the points it minted are burnt as far as the buyer still holds them, and those gone (released or spent) are charged
to available at the current NAV less the cash-out fee, into the reserve; before the next ``close_day`` the
contribution leaves the reserve as far as that keeps the NAV at or above its value before the order (the platform
bears the rest, and all of it after a close).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, model_validator

from ..config_types import Rate, Rate01, Yuan
from ..core import EXTERNAL
from ..errors import Code, Refusal, refuse
from ..i18n import gettext_noop
from ..ledger import Account, Entry
from ..module import Book, Module, ModuleConfig, Rule, SimAdapter
from ..money import apply_rate, format_fen, format_rate, parse_yuan

if TYPE_CHECKING:
    from ..core import Engine, Order
    from ..events import Pay

PLAN = "points"
POINTS_BOOK = "points"  # a member's points, in hundredths of a point
RESERVE: Account = ("@pool", "points_reserve")
RESERVE_FUNDING: Account = ("@platform", "points_contribution")
ISSUED: Account = ("@platform", "points_issued")  # minus the points outstanding
NAV_SCALE = 10**6  # the NAV is yuan per point to 6 decimals: an int in millionths
DEFAULT_RESERVE_RATE = Fraction(30, 100)
NEVER_RELEASES = 1 << 62  # the release floor when daily_release_rate is 0: no holding reaches it

RULES = (
    Rule("points_earned", gettext_noop("points earned"), gettext_noop("your purchase")),
    Rule("points_payment", gettext_noop("paid with points")),
    Rule("points_release", gettext_noop("points released"),
         gettext_noop("cashed at the day's NAV less the fee"), reward=True),
    Rule("points_clawback", gettext_noop("released points taken back"), gettext_noop("order refunded"), reward=True),
)
BOOKS = (
    Book(POINTS_BOOK, gettext_noop("points"), unit="centipoint"),
    Book(ISSUED[1], gettext_noop("points issued"), unit="centipoint"),
)


def format_points(hundredths: int) -> str:
    """21000 -> '210.00' (points are held to 2 decimals, like money)."""
    return format_fen(hundredths)


def format_nav(nav: int) -> str:
    """1428571 -> '1.428571'."""
    return f"{nav // NAV_SCALE}.{nav % NAV_SCALE:06d}"


def _nav_of_six_decimals(value: Fraction) -> Fraction:
    if value <= 0:
        raise ValueError("must be more than 0")
    if (value * NAV_SCALE).denominator != 1:
        raise ValueError(f"{format_rate(value)} has more than 6 decimals")
    return value


Nav = Annotated[Rate, AfterValidator(_nav_of_six_decimals)]


class PointsConfig(ModuleConfig):
    """The plan's parameters; ``reserve_rate`` (0.30 when neither is given) or ``reserve_per_order``."""

    reserve_rate: Rate01 | None = None
    reserve_per_order: Yuan | None = Field(None, ge=1)  # per unit of the order's product
    mint_ratio: Rate01 = Fraction(70, 100)
    initial_nav: Nav = Fraction(1)
    daily_release_rate: Rate01 = Fraction(2, 1000)
    cashout_fee_rate: Rate01 = Fraction(20, 100)
    max_deduction_rate: Rate01 = Fraction(50, 100)

    @model_validator(mode="after")
    def _one_reserve_rule(self) -> PointsConfig:
        if self.reserve_rate is not None and self.reserve_per_order is not None:
            raise ValueError("give reserve_rate or reserve_per_order, not both")
        return self


@dataclass(frozen=True, slots=True)
class Terms:
    """The config as integer ratios, derived once per config version, so per-order arithmetic stays in ints."""

    initial_nav: int  # millionths of a yuan per point
    per_order: int | None  # reserve_per_order in fen, or None for reserve_rate
    reserve: tuple[int, int]  # reserve_rate as (numerator, denominator)
    mint: tuple[int, int]  # minted hundredths = contribution × mint[0] // (mint[1] × nav)
    release: tuple[int, int]  # daily_release_rate
    keep: tuple[int, int]  # 1 - cashout_fee_rate: the share of a release's value paid out
    release_floor: int  # the least holding whose day's release is at least 0.01 point (0.002: 5.00 points)

    @classmethod
    def of(cls, config: PointsConfig) -> Terms:
        rate = DEFAULT_RESERVE_RATE if config.reserve_rate is None else config.reserve_rate
        mint, release, keep = config.mint_ratio, config.daily_release_rate, 1 - config.cashout_fee_rate
        floor = -(-release.denominator // release.numerator) if release else NEVER_RELEASES
        return cls(int(config.initial_nav * NAV_SCALE), config.reserve_per_order,
                   (rate.numerator, rate.denominator), (mint.numerator * NAV_SCALE, mint.denominator),
                   (release.numerator, release.denominator), (keep.numerator, keep.denominator), floor)


@dataclass(slots=True)
class OrderPoints:
    """What one order did in the plan, kept by the plan (``Points.orders``) for its refund."""

    nav: int  # the NAV before the purchase, in millionths of a yuan per point
    contribution: int  # fen into the reserve
    minted: int  # hundredths of a point
    earned_txn: int | None
    paid_points: int = 0
    paid_value: int = 0  # fen the points paid, out of the reserve
    payment_txn: int | None = None


@dataclass(slots=True)
class NavDay:
    """One ``close_day``: the day's NAV (the release price) and the reserve and points after the release."""

    day: dt.date
    nav: int
    released: int  # hundredths of a point, burnt
    cashed: int  # fen to members' available
    fee: int  # fen kept in the reserve: the released points' value at the NAV less the cash paid
    reserve: int
    outstanding: int
    holders: int

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(), "nav": format_nav(self.nav), "released": format_points(self.released),
            "cashed": format_fen(self.cashed), "fee": format_fen(self.fee), "reserve": format_fen(self.reserve),
            "outstanding": format_points(self.outstanding), "holders": self.holders,
        }


class PointsAdapter(SimAdapter):
    """Points: the reserve, the points outstanding and their NAV; holders are paid at every close."""

    pooled_rules: ClassVar[dict[str, tuple[bool, bool]]] = {"points_release": (False, False),
                                                             "points_clawback": (False, False)}
    series_names: ClassVar[tuple[str, ...]] = ("reserve", "points_outstanding", "nav")
    units: ClassVar[dict[str, str]] = {"points_outstanding": "points", "nav": "nav"}

    def _plan(self, engine: Engine) -> Points:
        module = engine.modules[self.plan_kind]
        assert isinstance(module, Points)
        return module

    def series(self, engine: Engine) -> dict[str, int]:
        plan = self._plan(engine)
        return {"reserve": plan.reserve(engine), "points_outstanding": plan.outstanding, "nav": plan.nav(engine)}

    def committed(self, engine: Engine) -> int:
        return self._plan(engine).reserve(engine)

    def paid_at_close(self, engine: Engine) -> list[str]:
        return list(self._plan(engine).releasing)  # holders whose daily release is at least 0.01 point


class Points(Module):
    kind: ClassVar[str] = PLAN
    Config: ClassVar[type[ModuleConfig]] = PointsConfig
    config: PointsConfig
    rules = RULES
    books = BOOKS
    accounts = (RESERVE, RESERVE_FUNDING, ISSUED, EXTERNAL)
    provides = {"points_payment": "takes_points", "points_value": "value_of"}
    sim_adapter = PointsAdapter

    def __init__(self, config: ModuleConfig) -> None:
        super().__init__(config)
        # Members holding points -> their (points, available) accounts, in two parts: those whose day's release may
        # be at least 0.01 point, walked at every close_day, and those below the release floor, never walked.
        self.releasing: dict[str, tuple[Account, Account]] = {}
        self.below_release: dict[str, tuple[Account, Account]] = {}
        self.minted = 0  # hundredths of a point, by purchases
        self.released = 0  # by close_day releases
        self.burnt = 0  # paid with (less those given back by refunds) and burnt by refunds
        self.history: list[NavDay] = []
        #: each holder's latest release: (day, hundredths of a point released, fen cashed, the day's NAV)
        self.last_release: dict[str, tuple[dt.date, int, int, int]] = {}
        self.orders: dict[str, OrderPoints] = {}  # what each order did, for its refund
        self.terms = Terms.of(self.config)

    def reconfigure(self, config: ModuleConfig) -> None:
        before = self.terms.release_floor
        super().reconfigure(config)
        self.terms = Terms.of(self.config)
        if self.terms.release_floor != before:  # the next close walks every holder and sorts them again
            self.releasing.update(self.below_release)
            self.below_release.clear()

    @property
    def holders(self) -> int:
        return len(self.releasing) + len(self.below_release)

    # --- the NAV -------------------------------------------------------------------------------------------------
    @property
    def outstanding(self) -> int:
        return self.minted - self.released - self.burnt

    def reserve(self, engine: Engine) -> int:
        return engine.ledger.balances.get(RESERVE, 0)

    def nav(self, engine: Engine) -> int:
        """Yuan per point in millionths, floored: reserve / outstanding, or initial_nav while there are none."""
        outstanding = self.outstanding
        if outstanding <= 0:
            return self.terms.initial_nav
        return engine.ledger.balances.get(RESERVE, 0) * NAV_SCALE // outstanding

    def _hold(self, engine: Engine, member: str) -> None:
        """File ``member`` after its points changed: releasing, below the release floor, or not a holder."""
        held = engine.ledger.balances.get((member, POINTS_BOOK), 0)
        if held <= 0:
            self.releasing.pop(member, None)
            self.below_release.pop(member, None)
            return
        into, other = ((self.releasing, self.below_release) if held >= self.terms.release_floor
                       else (self.below_release, self.releasing))
        if member not in into:
            moved = other.pop(member, None)
            into[member] = moved if moved is not None else ((member, POINTS_BOOK), (member, "available"))

    def _contribution(self, order: Order, cash: int) -> int:
        terms = self.terms
        if terms.per_order is not None:
            return min(terms.per_order * order.quantity, cash)
        return cash * terms.reserve[0] // terms.reserve[1]

    # --- paying ----------------------------------------------------------------------------------------------------
    def check_pay(self, engine: Engine, event: Pay) -> Refusal | None:
        points = event.points
        if points is None:
            return None
        shown = format_points(points)
        if points <= 0:
            return refuse(Code.INVALID, "points", shown, why="pay with more than 0.00 points")
        held = engine.ledger.balances.get((event.member, POINTS_BOOK), 0)
        if points > held:
            return refuse(Code.INSUFFICIENT, "points", shown, why=f"{event.member} holds {format_points(held)}")
        nav = self.nav(engine)
        value = points * nav // NAV_SCALE
        if value == 0:
            return refuse(Code.INVALID, "points", shown, why=f"worth 0.00 at the NAV {format_nav(nav)}")
        if event.points_value is not None:  # quoted at the order: taken while the points are worth at least that
            if event.points_value > value:
                return refuse(Code.NOT_ALLOWED, "points_value", format_fen(event.points_value),
                              why=f"the points were quoted at more than they are worth now ({format_fen(value)} at "
                                  f"the NAV {format_nav(nav)})")
            value = event.points_value
        amount = event.amount if event.amount is not None else engine.products[event.sku].price * event.quantity
        cap = apply_rate(amount, self.config.max_deduction_rate)
        if value > cap:
            return refuse(Code.NOT_ALLOWED, "points", shown,
                          why=f"worth {format_fen(value)} at the NAV {format_nav(nav)}, more than "
                              f"max_deduction_rate {format_rate(self.config.max_deduction_rate)} of the order's "
                              f"{format_fen(amount)} ({format_fen(cap)})")
        return None

    def on_pay(self, engine: Engine, order: Order) -> None:
        """Burn the points paid with (if any), then add the contribution and mint, both at the NAV before."""
        nav = self.nav(engine)
        member = order.member
        points_account = (member, POINTS_BOOK)
        record = OrderPoints(nav, 0, 0, None)
        paid = order.points_paid
        if paid:
            value = order.points_value if order.points_value is not None else paid * nav // NAV_SCALE
            record.paid_points, record.paid_value = paid, value
            record.payment_txn = engine.post(
                "points_payment",
                ((points_account, -paid), (ISSUED, paid), (RESERVE, -record.paid_value), (EXTERNAL, record.paid_value)),
                plan=PLAN, order=order.id, source=member,
            ).id
            self.burnt += paid
        contribution = record.contribution = self._contribution(order, order.amount - record.paid_value)
        mint = self.terms.mint
        minted = record.minted = contribution * mint[0] // (mint[1] * nav)
        if minted:
            entries: tuple[Entry, ...] = ((RESERVE_FUNDING, -contribution), (RESERVE, contribution),
                                          (ISSUED, -minted), (points_account, minted))
            self.minted += minted
        else:
            entries = ((RESERVE_FUNDING, -contribution), (RESERVE, contribution)) if contribution else ()
        if entries:
            record.earned_txn = engine.post("points_earned", entries, plan=PLAN, order=order.id, source=member).id
        self.orders[order.id] = record
        if paid or (minted and member not in self.releasing):  # more points keep a releasing holder releasing
            self._hold(engine, member)

    # --- refunds ---------------------------------------------------------------------------------------------------
    def on_refund(self, engine: Engine, order: Order) -> None:
        record = self.orders.get(order.id)
        if record is None:
            return
        nav = self.nav(engine)
        member = order.member
        points_account = (member, POINTS_BOOK)
        if record.paid_points:
            engine.post(
                "points_payment",
                ((ISSUED, -record.paid_points), (points_account, record.paid_points),
                 (EXTERNAL, -record.paid_value), (RESERVE, record.paid_value)),
                plan=PLAN, order=order.id, source=member, reverses=record.payment_txn,
            )
            self.burnt -= record.paid_points
        burn = min(record.minted, engine.ledger.balances.get(points_account, 0))
        gone = record.minted - burn
        if gone:
            keep = self.terms.keep
            charge = gone * nav * keep[0] // (keep[1] * NAV_SCALE)
            engine.transfer("points_clawback", (member, "available"), RESERVE, charge, plan=PLAN, order=order.id,
                            source=member, ref=f"{format_points(gone)} points at {format_nav(nav)}")
        back = 0
        if record.contribution and engine.closes == order.closes_before:
            # the NAV must not fall below its value before the order: holders keep what they had
            floor_value = -(-(self.outstanding - burn) * record.nav // NAV_SCALE)
            back = min(record.contribution, max(0, self.reserve(engine) - floor_value))
        entries: list[Entry] = []
        if burn:
            entries += [(points_account, -burn), (ISSUED, burn)]
            self.burnt += burn
        if back:
            entries += [(RESERVE, -back), (RESERVE_FUNDING, back)]
        if entries:
            engine.post("points_earned", entries, plan=PLAN, order=order.id, source=member,
                        reverses=record.earned_txn)
        self._hold(engine, member)

    # --- the day's release -----------------------------------------------------------------------------------------
    def on_close_day(self, engine: Engine, day: dt.date) -> None:
        """Every holder releases floor(points × daily_release_rate), cashed at the day's NAV less the fee.

        One transaction for the day (an entry pair per holder). The walk over the releasing holders is the plan's
        only walk over members; a holder whose points fall below the release floor leaves it."""
        nav = self.nav(engine)
        (rate_num, rate_den), keep, floor = self.terms.release, self.terms.keep, self.terms.release_floor
        cash_num, cash_den = nav * keep[0], keep[1] * NAV_SCALE
        balances = engine.ledger.balances
        entries: list[Entry] = []
        add = entries.append
        released = cashed = 0
        falling: list[tuple[str, int]] = []
        last = self.last_release
        for points_account, available in self.releasing.values():
            held = balances[points_account]
            release = held * rate_num // rate_den
            if release:
                add((points_account, -release))
                cash = release * cash_num // cash_den
                if cash:
                    add((available, cash))
                    cashed += cash
                released += release
                last[points_account[0]] = (day, release, cash, nav)
            if held - release < floor:
                falling.append((points_account[0], held - release))
        if released:
            add((ISSUED, released))
            if cashed:
                add((RESERVE, -cashed))
            engine.post("points_release", entries, plan=PLAN, ref=day.isoformat())
            self.released += released
        for member, left in falling:
            accounts = self.releasing.pop(member)
            if left > 0:
                self.below_release[member] = accounts
        fee = released * nav // NAV_SCALE - cashed
        self.history.append(NavDay(day, nav, released, cashed, fee, self.reserve(engine), self.outstanding,
                                   self.holders))
        engine.fact("points_released", day=day.isoformat(), nav=format_nav(nav), points=format_points(released),
                    cash=format_fen(cashed))

    # --- reading -----------------------------------------------------------------------------------------------
    def holding(self, engine: Engine, member: str) -> dict[str, str]:
        """What a member's page shows: points, the NAV now and their value at it (a value, never a promise)."""
        points = engine.ledger.balances.get((member, POINTS_BOOK), 0)
        nav = self.nav(engine)
        return {"points": format_points(points), "nav": format_nav(nav), "value": format_fen(points * nav // NAV_SCALE)}

    def value_of(self, engine: Engine, member: str) -> int:
        """The ``points_value`` capability: what a member's points are worth at the NAV now, fen, floored (the proof
        of liabilities counts them at this value)."""
        return engine.ledger.balances.get((member, POINTS_BOOK), 0) * self.nav(engine) // NAV_SCALE

    def takes_points(self, engine: Engine, sku: str) -> bool:
        """The ``points_payment`` capability: whether an order of ``sku`` may be paid partly with points."""
        return self.applies_to(sku)

    def member_view(self, engine: Engine, member: str) -> dict[str, Any]:
        return {"points": format_points(engine.ledger.balances.get((member, POINTS_BOOK), 0))}

    def member_read(self, engine: Engine, member: str) -> dict[str, Any]:
        """The member's points page: its points, what the next close releases, and the plan's published terms.
        What they are worth moves with the NAV (``shop_read``); ``value_at`` prices them, never a promise."""
        held = engine.ledger.balances.get((member, POINTS_BOOK), 0)
        num, den = self.terms.release
        return {"points": format_points(held), "next_release": format_points(held * num // den),
                "last_release": self.release_read(member),
                "daily_release_rate": format_rate(self.config.daily_release_rate),
                "cashout_fee_rate": format_rate(self.config.cashout_fee_rate),
                "max_deduction_rate": format_rate(self.config.max_deduction_rate)}

    def release_read(self, member: str) -> dict[str, str] | None:
        """The member's latest release (at the last close that released any of its points): the day, the points
        released and burnt, the day's NAV and the cash credited to available (after the fee); None before any."""
        found = self.last_release.get(member)
        if found is None:
            return None
        day, points, cash, nav = found
        return {"day": day.isoformat(), "points": format_points(points), "nav": format_nav(nav),
                "cash": format_fen(cash)}

    @staticmethod
    def value_at(points: str, nav: str) -> str:
        """What ``points`` ("210.00") are worth at the NAV ``nav`` ("1.428571"), floored to the fen: "299.99"."""
        whole, _, frac = nav.partition(".")
        nav_millionths = int(whole) * NAV_SCALE + int(frac.ljust(6, "0")[:6])
        return format_fen(parse_yuan(points) * nav_millionths // NAV_SCALE)

    def shop_read(self, engine: Engine) -> dict[str, Any]:
        """The public NAV history (every close: NAV, points released, cash paid, reserve, outstanding)."""
        return {"nav": format_nav(self.nav(engine)), "outstanding": format_points(self.outstanding),
                "reserve": format_fen(self.reserve(engine)), "history": [d.to_json() for d in self.history]}

    def end_state(self, engine: Engine) -> dict[str, Any]:
        return {"points": {
            "nav": format_nav(self.nav(engine)),
            "outstanding": format_points(self.outstanding),
            "reserve": format_fen(self.reserve(engine)),
            "history": [d.to_json() for d in self.history],
        }}

    def check_invariants(self, engine: Engine) -> list[str]:
        problems: list[str] = []
        balances = engine.ledger.balances
        outstanding = self.outstanding
        if -balances.get(ISSUED, 0) != outstanding:
            problems.append(f"points issued less returned is {format_points(-balances.get(ISSUED, 0))} but minted "
                            f"- released - burnt is {format_points(outstanding)}")
        held = {acct[0]: amount for acct, amount in balances.items() if acct[1] == POINTS_BOOK and amount}
        if sum(held.values()) != outstanding:
            problems.append(f"members hold {format_points(sum(held.values()))} points, "
                            f"not the {format_points(outstanding)} outstanding")
        problems += [f"{m} holds {format_points(a)} points" for m, a in held.items() if a < 0]
        filed = set(self.releasing) | set(self.below_release)
        if set(held) != filed or set(self.releasing) & set(self.below_release):
            problems.append(f"the holders lists differ from who holds points: {sorted(set(held) ^ filed)}")
        floor = self.terms.release_floor
        problems += [f"{m} holds {format_points(held[m])} points, a release, but is filed below the release floor"
                     for m in self.below_release if held.get(m, 0) >= floor]
        reserve = self.reserve(engine)
        if reserve < 0:
            problems.append(f"the points reserve is below zero: {format_fen(reserve)}")
        if outstanding > 0 and self.nav(engine) <= 0:
            problems.append(f"{format_points(outstanding)} points are outstanding but the NAV is 0")
        return problems
