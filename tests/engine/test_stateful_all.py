"""Every plan and every campaign on one shop, driven by random event sequences (a Hypothesis state machine).

``AllModulesMachine`` extends ``Chain21Machine`` (``test_stateful.py``) to a shop that runs chain21 on its gift packs,
distribution on the other products and points on everything (``plans:`` with ``skus``), each with a random config,
while the four campaign kinds run beside them. Random steps are:

- the core events: joins (members with no birth date or aged 5 to 35, around their birthday, with or without a
  guardian's consent), payments (some with points: within, at and past what a member holds and what
  ``max_deduction_rate`` allows), refunds, ``close_day``, withdrawals and their approval, rejection and payout,
  ``configure_plan`` of each plan, ``product`` changes (price, red envelope, deactivation, a new product), ticks of
  seconds, hours and days, and events just before, at and past a group's or a pre-sale's deadline;
- chain21's recruiting and ``transpose``; distribution's ``visit`` and ``approve_promoter``;
- every campaign kind's events: creating it (published, or a draft; sometimes with a parameter out of range or a
  taken id), ``update_campaign`` and ``publish_campaign``; starting, joining (to the last seat, which draws) and
  leaving group-buy and red-envelope groups (private ones with the right, a wrong or no invite code), several
  groups in a row so that shopping funds unlock, closing their campaigns; joining and leaving pre-sales; starting
  and opening blind boxes (starters at and past their coupons); refunding campaign orders; and, while a group
  fills, other purchases that come with the order id of one of its seats.

Many steps are refused (unknown or taken ids, drafts, closed groups, ages, coupons); a refused step must change
nothing but the clock. After every step the machine checks:

1. ``engine.check_invariants()`` is empty (the ledger balances per unit, each balance is its entries' sum, and every
   module's own invariants hold), and chain21's books other than available never go below zero;
2. no member holds fewer than zero coupons, no escrow is below zero, a closed campaign holds no escrow;
3. no group-buy shopping fund unlocks past its original amount or locks again, and the ledger's ``locked_fund``
   postings (issued, unlocked, taken back) agree with the module's funds, member by member;
4. points: the module's counters (minted, released, burnt) equal what the ledger's points postings add up to,
   outstanding == minted − released − burnt == the points members hold == what was issued, minted and released
   never go down, and the points reserve never goes below zero;
5. every posting to a member's money that names a refunded order has been undone (rewards, commissions,
   promotions: pending, settled, frozen or released), and an order id always names the same member's purchase;
6. a refused step that did not move the clock posted nothing; a refused step that posted nothing left every
   balance as it was.

At teardown: replaying the same events in a fresh engine gives identical transactions, draws, refusals and state
(the engine is deterministic: time and randomness come in the events, each campaign with its ``secret``); replaying
them with every refused event replaced by a tick at the clock it left gives the same state right after each one (a
refused event changes nothing but the clock); and on that copy, once the clock passes every deadline and the group
campaigns close, no escrow holds money, and refunding every order is accepted but for the orders the rules keep
(opened boxes, box sets with an opened box, free pre-sale products), after which no shopping fund is locked and the
checks above still hold.

``pytest --hypothesis-show-statistics`` lists how often each event was applied or refused (by code) and each business
fact (a group drawn, a fund unlocked, a box won, …) happened.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule, run_state_machine_as_test
from test_stateful import GHOST, LONG_RUN_STEPS, Chain21Machine, _transaction_key

from liandong.engine import Engine, Shop
from liandong.engine import events as ev
from liandong.engine.campaigns.base import CampaignModule, PublishCampaign, UpdateCampaign, escrow
from liandong.engine.campaigns.blind_box import COUPONS, BlindBox, OpenBlindBox, StartBlindBox, check_age
from liandong.engine.campaigns.group_buy import (
    LOCKED_FUND,
    CloseGroupBuy,
    CreateGroupBuy,
    GroupBuy,
    JoinGroupBuy,
    StartGroupBuy,
)
from liandong.engine.campaigns.groups import Group, GroupCampaignModule, LeaveGroup
from liandong.engine.campaigns.presale import CreatePresale, JoinPresale, LeavePresale, Presale
from liandong.engine.campaigns.presale import params_of as presale_params
from liandong.engine.campaigns.red_envelope import (
    CloseRedEnvelope,
    CreateRedEnvelope,
    JoinRedEnvelope,
    RedEnvelope,
    RedEnvelopeParams,
    StartRedEnvelope,
)
from liandong.engine.core import Product
from liandong.engine.errors import Code
from liandong.engine.ledger import NON_CASH_UNITS, Transaction
from liandong.engine.money import parse_yuan
from liandong.engine.plans.distribution import ApprovePromoter, Visit
from liandong.engine.plans.points import ISSUED, POINTS_BOOK, RESERVE, Points
from liandong.engine.registry import new_engine

GIFT_PACKS = ["GIFT", "PACK"]
OTHERS = ["TEA", "ENV", "ORANGE", "TOY"]
PRODUCTS = [
    Product("GIFT", 69900, gift_pack=True), Product("PACK", 30001, gift_pack=True), Product("TEA", 5900),
    Product("ENV", 9900, red_envelope=1000), Product("ORANGE", 10000), Product("TOY", 12900),
]
GROUP_KINDS = ("group_buy", "red_envelope")
CAMPAIGN_KINDS = ("group_buy", "red_envelope", "presale", "blind_box")
UNLOCK_RULES = ("group_buy_unlock_join", "group_buy_unlock_invite")
#: Ages a member may give at join (None: no birth date); the day shift puts the birthday yesterday, today or tomorrow.
AGES = st.sampled_from([None, None, 5, 7, 8, 12, 17, 18, 18, 35, 35, 35])


def secrets() -> st.SearchStrategy[str]:
    return st.binary(min_size=32, max_size=32).map(bytes.hex)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def observable(engine: Engine) -> dict[str, Any]:
    """Everything an event can change that anyone can see: the ledger, members' pages, the modules' states."""
    return {
        "clock": engine.clock, "closes": engine.closes, "config_version": engine.config_version,
        "balances": dict(engine.ledger.balances),
        "transactions": [_transaction_key(t) for t in engine.ledger.transactions],
        "members": {m: engine.member_view(m) for m in engine.members},
        "modules": {kind: module.end_state(engine) for kind, module in engine.modules.items()},
        "orders": {o.id: (o.member, o.sku, o.amount, o.refunded, o.campaign) for o in engine.orders.values()},
        "withdrawals": {w.id: (w.member, w.amount, w.status, w.fee) for w in engine.withdrawals.values()},
        "draws": engine.draws,
    }


class AllModulesMachine(Chain21Machine):
    """Chain21 on gift packs, distribution on the rest, points on everything, and every campaign kind."""

    def __init__(self) -> None:
        super().__init__()
        self.substitutes: list[ev.Event] = []  # the log with each refused event replaced by a tick
        self.made = 0  # campaign, group and order ids this machine made up
        self.tally = LedgerTally()  # what the ledger's postings so far add up to
        self.points_before = (0, 0)  # minted and released at the last check
        self.unlocked_before: dict[str, int] = {}  # fund -> unlocked at the last check
        self.order_buyers: dict[str, tuple[str, str | None]] = {}  # order id -> (member, campaign) when first seen

    # --- the shop ------------------------------------------------------------------------------------------------
    @staticmethod
    def draw_distribution(data: st.DataObject) -> dict[str, Any]:
        levels = data.draw(st.integers(1, 3), label="levels")
        rates = data.draw(st.lists(st.sampled_from(["0.10", "0.05", "0.02", "0"]), min_size=levels,
                                   max_size=levels), label="rates")
        return {
            "skus": OTHERS, "levels": levels, "rates": rates,
            "binding": data.draw(st.sampled_from(["first", "last"]), label="binding"),
            "binding_days": data.draw(st.sampled_from([0, 0, 1, 7]), label="binding_days"),
            "eligibility": data.draw(st.sampled_from(["anyone", "anyone", "after_purchase", "approved"]),
                                     label="eligibility"),
            "self_commission": data.draw(st.booleans(), label="self_commission"),
            "settle_after_days": data.draw(st.sampled_from([0, 1, 7]), label="distribution settle_after_days"),
            "withdrawal_fee_rate": data.draw(st.sampled_from(["0", "0.01"]), label="withdrawal_fee_rate"),
        }

    @staticmethod
    def draw_points(data: st.DataObject) -> dict[str, Any]:
        reserve = data.draw(st.sampled_from([{}, {"reserve_rate": "0.30"}, {"reserve_rate": "1"},
                                             {"reserve_per_order": "5.00"}]), label="reserve")
        return {
            **reserve,
            "mint_ratio": data.draw(st.sampled_from(["0.70", "1", "0.05"]), label="mint_ratio"),
            "initial_nav": data.draw(st.sampled_from(["1", "0.5", "2.000001"]), label="initial_nav"),
            "daily_release_rate": data.draw(st.sampled_from(["0.002", "0.1", "0"]), label="daily_release_rate"),
            "cashout_fee_rate": data.draw(st.sampled_from(["0.20", "0", "1"]), label="cashout_fee_rate"),
            "max_deduction_rate": data.draw(st.sampled_from(["0.50", "1", "0"]), label="max_deduction_rate"),
        }

    def make_shop(self, data: st.DataObject) -> Shop:
        plans = {
            "chain21": {**self.draw_config(data), "skus": GIFT_PACKS},
            "distribution": self.draw_distribution(data),
            "points": self.draw_points(data),
        }
        return Shop(products=list(PRODUCTS), plans=plans)

    @initialize(data=st.data())
    def open_shop(self, data: st.DataObject) -> None:
        """The shop opens with a few founding members (so the first groups and boxes have people to fill them)."""
        self.shop = self.make_shop(data)
        self.engine = new_engine(self.shop)
        for _ in range(data.draw(st.integers(2, 6), label="founders")):
            referrer = data.draw(st.sampled_from([None, *self.engine.members]), label="founder's referrer")
            member = f"m{self.joined}"
            self.joined += 1
            self.apply(self.join_event(data, member, referrer))

    def join_event(self, data: st.DataObject, member: str, referrer: str | None) -> ev.Join:
        at = self.at(data)
        years = data.draw(AGES, label="age")
        if years is None:
            return ev.Join(at=at, member=member, referrer=referrer)
        shift = data.draw(st.sampled_from([-1, 0, 1]), label="birthday in days from today")
        birth = years_before(self.engine.day_of(at), years) + dt.timedelta(days=shift)
        consent = data.draw(st.booleans(), label="guardian_consent")
        return ev.Join(at=at, member=member, referrer=referrer, birth_date=birth, guardian_consent=consent)

    # --- applying, with the refused-step check -------------------------------------------------------------------
    def apply(self, event: ev.Event) -> None:
        engine = self.engine
        clock, count, balances = engine.clock, engine.ledger.count, dict(engine.ledger.balances)
        outcome = engine.apply(event)
        self.log.append(event)
        verb = type(event).verb
        for fact in outcome.facts:  # what happened, for the statistics (pytest --hypothesis-show-statistics)
            hypothesis.event(f"fact {fact['fact']} {fact.get('reason') or fact.get('result') or ''}".rstrip())
        if outcome.refusal is None:
            self.substitutes.append(event)
            hypothesis.event(f"{verb}: applied")
            return
        self.substitutes.append(ev.Tick(at=engine.clock))
        hypothesis.event(f"{verb}: refused {outcome.refusal.code}")
        if engine.clock == clock:
            assert engine.ledger.count == count, f"refused {verb} posted {outcome.transactions}"
        if engine.ledger.count == count:
            assert engine.ledger.balances == balances, f"refused {verb} changed balances without a posting"

    # --- picking -------------------------------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    def pick(self, data: st.DataObject, options: list[str], label: str, fallback: str = GHOST) -> str:
        """Mostly one of ``options``; sometimes (always when there are none) ``fallback``."""
        if options and data.draw(st.integers(0, 7), label=f"a real {label}") > 0:
            return data.draw(st.sampled_from(options), label=label)
        return fallback

    def seat_orders(self) -> list[str]:
        return sorted(o for kind in GROUP_KINDS for o in self.group_module(kind).entry_orders)

    def order_id(self, data: st.DataObject, prefix: str) -> str:
        """A new order id; now and then one that is taken: a paid order's, or a seat's in a group (drawn or still
        open, when the seat's order is not in ``engine.orders`` yet)."""
        how = data.draw(st.integers(0, 9), label="new or taken order id")
        taken = [*self.engine.orders, *self.seat_orders()]
        waiting = [e.order for g in self.open_groups() for e in g.entries]
        if how == 9 and taken:
            return data.draw(st.sampled_from(taken), label="taken order id")
        if how == 8 and waiting:
            return data.draw(st.sampled_from(waiting), label="an open seat's order id")
        return self.new_id(prefix)

    def campaign_id(self, data: st.DataObject, prefix: str) -> str:
        taken = [c for kind in CAMPAIGN_KINDS for c in self.campaign_module(kind).campaigns]
        if taken and data.draw(st.integers(0, 11), label="reuse a campaign id") == 11:
            return data.draw(st.sampled_from(taken), label="taken campaign id")
        return self.new_id(prefix)

    def campaign_module(self, kind: str) -> CampaignModule:
        module = self.engine.modules[kind]
        assert isinstance(module, CampaignModule)
        return module

    def group_module(self, kind: str) -> GroupCampaignModule:
        module = self.engine.modules[kind]
        assert isinstance(module, GroupCampaignModule)
        return module

    def campaigns(self, kind: str, status: str | None = None) -> list[str]:
        return [c.id for c in self.campaign_module(kind).campaigns.values() if status in (None, c.status)]

    def open_groups(self) -> list[Group]:
        return [g for kind in GROUP_KINDS for g in self.group_module(kind).groups.values() if g.status == "open"]

    # --- points, distribution, the other plans' configs, products, the clock -------------------------------------
    @property
    def points(self) -> Points:
        module = self.engine.modules["points"]
        assert isinstance(module, Points)
        return module

    @rule(data=st.data())
    def pay_with_points(self, data: st.DataObject) -> None:
        """Mostly a holder paying part of an order with points: within, at and past what it holds and the cap."""
        balances = self.engine.ledger.balances
        holders = [m for m in self.engine.members if balances.get((m, POINTS_BOOK), 0) > 0]
        member = self.pick(data, holders, "holder", fallback=self.some_member(data))
        held = balances.get((member, POINTS_BOOK), 0)
        points = data.draw(st.one_of(st.integers(1, max(held, 1)), st.sampled_from([held, held + 1, 0, -100])),
                           label="points in hundredths")
        amount = data.draw(st.sampled_from([None, None, None, 1, 50000]), label="order amount in fen")
        self.paid += 1
        self.apply(ev.Pay(at=self.at(data), member=member, sku=self.some_product(data), order=f"o{self.paid}",
                          points=points, amount=amount))

    @rule(data=st.data())
    def visit(self, data: st.DataObject) -> None:
        self.apply(Visit(at=self.at(data), member=self.some_member(data), promoter=self.some_member(data)))

    @rule(data=st.data())
    def approve_promoter(self, data: st.DataObject) -> None:
        self.apply(ApprovePromoter(at=self.at(data), member=self.some_member(data)))

    @rule(data=st.data())
    def configure_other_plan(self, data: st.DataObject) -> None:
        drawn: tuple[str, dict[str, Any]] = data.draw(st.one_of(
            st.tuples(st.just("distribution"), st.one_of(
                st.builds(dict, rates=st.sampled_from([["0.20"], ["0.10", "0.10"], ["0.10", "0.05", "0.01"]])),
                st.builds(dict, binding=st.sampled_from(["first", "last"])),
                st.builds(dict, eligibility=st.sampled_from(["anyone", "after_purchase", "approved"])),
                st.builds(dict, settle_after_days=st.sampled_from([0, 3, -1])),
                st.builds(dict, binding_days=st.sampled_from([0, 2])),
            )),
            st.tuples(st.just("points"), st.one_of(
                st.builds(dict, daily_release_rate=st.sampled_from(["0.01", "0.002", "2"])),
                st.builds(dict, max_deduction_rate=st.sampled_from(["0.20", "1"])),
                st.builds(dict, cashout_fee_rate=st.sampled_from(["0.50", "0"])),
                st.builds(dict, reserve_per_order=st.sampled_from(["3.00", "0"])),
                st.builds(dict, mint_ratio=st.sampled_from(["0.50", "1"])),
            )),
            st.tuples(st.just("nope"), st.just({})),
        ), label="plan and config change")
        self.apply(ev.ConfigurePlan(at=self.at(data), plan=drawn[0], config=drawn[1]))

    @rule(data=st.data())
    def change_product(self, data: st.DataObject) -> None:
        """The operator changes a product (price, red envelope, active) or adds one, which only points covers."""
        sku = data.draw(st.sampled_from([*(p.sku for p in PRODUCTS), "NEW"]), label="product sku")
        current = self.engine.products.get(sku)
        self.apply(ev.SetProduct(
            at=self.at(data), sku=sku,
            price=data.draw(st.sampled_from([current.price if current else 1000, 100, 19900]), label="price"),
            gift_pack=current.gift_pack if current else False,
            red_envelope=data.draw(st.sampled_from([current.red_envelope if current else None, None, 3, 2000]),
                                   label="red envelope"),
            active=data.draw(st.sampled_from([True, True, False]), label="active"),
        ))

    @rule(hours=st.integers(1, 72))
    def tick_hours(self, hours: int) -> None:
        self.apply(ev.Tick(at=self.engine.clock + dt.timedelta(hours=hours)))

    @rule(data=st.data())
    def reach_a_deadline(self, data: st.DataObject) -> None:
        """An event just before, at or after an open group's or pre-sale's deadline: a tick, or a join of it."""
        deadlines: list[tuple[dt.datetime, str, str]] = [(g.deadline, "group", g.id) for g in self.open_groups()]
        deadlines += [(presale_params(c).deadline, "presale", c.id)
                      for c in self.presale.campaigns.values() if c.status == "open"]
        if not deadlines:
            return
        deadline, what, which = data.draw(st.sampled_from(deadlines), label="deadline")
        offset = data.draw(st.sampled_from([-1, 0, 0, 1, 3600, 86400]), label="seconds past the deadline")
        at = max(deadline + dt.timedelta(seconds=offset), self.engine.clock)
        how = data.draw(st.sampled_from(["tick", "join"]), label="tick or join")
        member = self.some_member(data)
        if how == "tick":
            self.apply(ev.Tick(at=at, note="deadline"))
        elif what == "presale":
            self.apply(JoinPresale(at=at, member=member, campaign=which, order=self.new_id("ps")))
        elif which in self.group_module("group_buy").groups:
            self.apply(JoinGroupBuy(at=at, member=member, group=which))
        else:
            code = self.red_envelope.terms[which].invite_code
            self.apply(JoinRedEnvelope(at=at, member=member, group=which, invite_code=code))

    # --- members for campaigns ----------------------------------------------------------------------------------
    def newcomer(self, data: st.DataObject) -> str:
        """A new member, sometimes invited by a member whose shopping fund is still locked (an invite unlocks it)."""
        funds = self.group_buy.funds.values()
        owners = sorted({f.member for f in funds if f.status == "locked"})
        invited_by_owner: bool = bool(owners) and data.draw(st.booleans(), label="invited by a fund owner")
        options = owners if invited_by_owner else list(self.engine.members)
        referrer = data.draw(st.sampled_from([None, *options]), label="newcomer's referrer")
        member = f"m{self.joined}"
        self.joined += 1
        self.apply(self.join_event(data, member, referrer))
        return member

    def taker(self, data: st.DataObject, eligible: list[str]) -> str:
        """Who takes a seat or opens a box: mostly an eligible member, else a newcomer, anyone or nobody."""
        how = data.draw(st.integers(0, 11), label="eligible, newcomer, anyone")
        if eligible and how < 8:
            return data.draw(st.sampled_from(eligible), label="eligible member")
        if how < 11:
            return self.newcomer(data)
        return self.some_member(data)

    def soon(self, data: st.DataObject) -> dt.datetime:
        """The moment of a step inside a run of joins or opens: mostly seconds after the clock (so a group fills
        before it expires), now and then whatever ``at`` draws (days later, or before the clock)."""
        if data.draw(st.integers(0, 9), label="any step") == 9:
            return self.at(data)
        return self.engine.clock + dt.timedelta(seconds=data.draw(st.integers(0, 600), label="seconds"))

    def of_age(self) -> list[str]:
        """Members old enough for blind boxes at the clock (an event a moment later may find one a year older)."""
        return [m for m in self.engine.members if check_age(self.engine, m, self.engine.clock) is None]

    def adult(self, data: st.DataObject) -> str:
        member = f"m{self.joined}"
        self.joined += 1
        at = self.at(data)
        self.apply(ev.Join(at=at, member=member, birth_date=years_before(self.engine.day_of(at), 30)))
        return member

    # --- campaigns: parameters, creating, drafts and publishing ----------------------------------------------------
    @property
    def group_buy(self) -> GroupBuy:
        module = self.engine.modules["group_buy"]
        assert isinstance(module, GroupBuy)
        return module

    @property
    def red_envelope(self) -> RedEnvelope:
        module = self.engine.modules["red_envelope"]
        assert isinstance(module, RedEnvelope)
        return module

    @property
    def presale(self) -> Presale:
        module = self.engine.modules["presale"]
        assert isinstance(module, Presale)
        return module

    @property
    def blind_box(self) -> BlindBox:
        module = self.engine.modules["blind_box"]
        assert isinstance(module, BlindBox)
        return module

    def amount(self, data: st.DataObject, choices: list[str], label: str) -> str:
        return data.draw(st.sampled_from(choices), label=label)

    @staticmethod
    def perhaps_break(data: st.DataObject, params: dict[str, Any], wild: dict[str, list[Any]]) -> dict[str, Any]:
        """Now and then one parameter out of range, of the wrong type, or a key the kind does not know."""
        if data.draw(st.integers(0, 5), label="a wild parameter") < 5:
            return params
        key = data.draw(st.sampled_from(sorted(wild)), label="wild key")
        return {**params, key: data.draw(st.sampled_from(wild[key]), label="wild value")}

    def group_buy_params(self, data: st.DataObject) -> dict[str, Any]:
        size = data.draw(st.integers(2, 4), label="group_size")
        return {
            "sku": data.draw(st.sampled_from(["TEA", "ENV", "ORANGE", "GIFT", "PACK"]), label="sku"),
            "group_size": size,
            "winners": data.draw(st.integers(1, size - 1), label="winners"),
            "loser_bonus": self.amount(data, ["10.00", "0", "0.01"], "loser_bonus"),
            "winner_fund": self.amount(data, ["price", "price", "50.00", "0"], "winner_fund"),
            "unlock_on_join": self.amount(data, ["0.10", "0.50", "1", "0"], "unlock_on_join"),
            "unlock_on_invite": self.amount(data, ["0.05", "0.34", "0"], "unlock_on_invite"),
            "expire_hours": data.draw(st.sampled_from([1, 2, 24]), label="expire_hours"),
            "plans_apply": data.draw(st.booleans(), label="plans_apply"),
            "secret": data.draw(secrets(), label="secret"),
        }

    def red_envelope_params(self, data: st.DataObject) -> dict[str, Any]:
        return {
            "sku": "ENV",
            "max_size": data.draw(st.integers(2, 5), label="max_size"),
            "expire_hours": data.draw(st.sampled_from([1, 2, 24]), label="expire_hours"),
            "plans_apply": data.draw(st.booleans(), label="plans_apply"),
            "secret": data.draw(secrets(), label="secret"),
        }

    def presale_params(self, data: st.DataObject, at: dt.datetime) -> dict[str, Any]:
        params = {
            "sku": data.draw(st.sampled_from(["ORANGE", "ORANGE", "TEA", "GIFT"]), label="sku"),
            "price": self.amount(data, ["10.00", "1.00", "100.00"], "price"),
            "tier_size": data.draw(st.integers(1, 3), label="tier_size"),
            "tier_rebate": self.amount(data, ["0.30", "0.10", "0"], "tier_rebate"),
            "max_tiers": data.draw(st.integers(0, 3), label="max_tiers"),
            "free_every": data.draw(st.integers(1, 4), label="free_every"),
            "target": data.draw(st.integers(1, 8), label="target"),
            "deadline": at + dt.timedelta(hours=data.draw(st.integers(1, 48), label="deadline hours")),
            "plans_apply": data.draw(st.booleans(), label="plans_apply"),
            "secret": data.draw(secrets(), label="secret"),
        }
        if data.draw(st.booleans(), label="operator's costs"):
            params.update(unit_cost="3.00", shipping="1.00")
        return params

    def blind_box_params(self, data: st.DataObject) -> dict[str, Any]:
        boxes = data.draw(st.integers(1, 6), label="boxes")
        win_from = data.draw(st.integers(1, boxes), label="win_from")
        open_price = self.amount(data, ["5.00", "1.00", "200.00"], "open_price")
        return {
            "prize_sku": "TOY",
            "start_fee": self.amount(data, ["30.00", "0", "5.00"], "start_fee"),
            "start_coupons": data.draw(st.sampled_from([69, 0, 30]), label="start_coupons"),
            "boxes": boxes, "win_from": win_from,
            "win_to": data.draw(st.integers(win_from, boxes), label="win_to"),
            "open_price": open_price,
            "starter_share": self.amount(data, ["0.50", "0"] if open_price == "1.00" else ["4.50", "1.00", "0"],
                                         "starter_share"),
            "promoter_share": self.amount(data, ["0.50", "0"], "promoter_share"),
            "miss_coupons": data.draw(st.sampled_from([99, 0]), label="miss_coupons"),
            "win_coupons": data.draw(st.sampled_from([198, 0]), label="win_coupons"),
            "start_promotion": self.amount(data, ["10.00", "4.00"], "start_promotion"),
            "referrer_promotion": self.amount(data, ["4.00", "0"], "referrer_promotion"),
            "plans_apply": data.draw(st.booleans(), label="plans_apply"),
            "secret": data.draw(secrets(), label="secret"),
        }

    WILD: ClassVar[dict[str, dict[str, list[Any]]]] = {
        "group_buy": {"winners": [9, 0], "sku": ["NOPE"], "loser_bonus": ["-1.00"], "winner_fund": ["lots"],
                      "unlock_on_join": ["1.5"], "expire_hours": [0, 721], "bogus": [1]},
        "red_envelope": {"max_size": [1, 101], "sku": ["NOPE", "TEA"], "secret": ["abc"]},
        "presale": {"tier_rebate": ["5.00"], "deadline": ["2026-01-01T08:00:00+08:00", "tomorrow"], "target": [0],
                    "sku": ["NOPE"], "bogus": [1]},
        "blind_box": {"open_price": ["200.01"], "win_to": [99], "win_from": [0], "starter_share": ["199.00"],
                      "prize_sku": ["NOPE"], "referrer_promotion": ["11.00"], "start_coupons": [150], "bogus": [1]},
    }

    def create(self, data: st.DataObject, kind: str, *, wild: bool) -> str:
        """Create a campaign of ``kind``; ``wild``: perhaps a draft, a taken id or a parameter out of range."""
        if kind == "blind_box":
            return self.start_box_set(data, wild=wild)
        at = self.at(data)
        params = {"group_buy": self.group_buy_params, "red_envelope": self.red_envelope_params}.get(
            kind, lambda d: self.presale_params(d, at))(data)
        campaign, publish = self.new_id(kind[:2]), True
        if wild:
            params = self.perhaps_break(data, params, self.WILD[kind])
            campaign = self.campaign_id(data, kind[:2])
            publish = data.draw(st.integers(0, 2), label="publish at once") > 0
        if kind == "group_buy":
            self.apply(CreateGroupBuy(at=at, campaign=campaign, params=params, publish=publish))
        elif kind == "red_envelope":
            self.apply(CreateRedEnvelope(at=at, campaign=campaign, params=params, publish=publish))
        else:
            self.apply(CreatePresale(at=at, campaign=campaign, params=params, publish=publish))
        return campaign

    def start_box_set(self, data: st.DataObject, *, wild: bool) -> str:
        """A member starts a box set; returns its id. ``wild``: perhaps a draft, a taken id, a
        parameter out of range, a member too young, or one who started a set before asked for one coupon more than
        it holds (or exactly what it holds)."""
        params = self.blind_box_params(data)
        campaign, publish = self.new_id("bl"), True
        starters = [m for m in self.of_age() if self.coupons_of(m) >= params["start_coupons"]]
        if not wild:
            member = self.pick(data, starters, "starter", fallback="") or self.adult(data)
        elif data.draw(st.booleans(), label="a member who started a set before") and self.blind_box.sets:
            member = data.draw(st.sampled_from([s.starter for s in self.blind_box.sets.values()]), label="starter")
            params["start_coupons"] = self.coupons_of(member) + data.draw(st.integers(0, 1), label="coupons more")
        else:
            params = self.perhaps_break(data, params, self.WILD["blind_box"])
            campaign = self.campaign_id(data, "bl")
            member = self.taker(data, starters)
        if wild:
            publish = data.draw(st.integers(0, 2), label="publish at once") > 0
        self.apply(StartBlindBox(at=self.at(data), member=member, campaign=campaign, order=self.order_id(data, "bs"),
                                 params=params, publish=publish))
        return campaign

    def coupons_of(self, member: str) -> int:
        return self.engine.ledger.balance((member, COUPONS))

    def campaign_for(self, data: st.DataObject, kind: str) -> str:
        """The campaign a member acts on: mostly an open one of ``kind`` (a new one now and then, or when there is
        none); sometimes a draft, a closed one, one of another kind, or none."""
        how = data.draw(st.integers(0, 9), label="open, new, other")
        open_ones = self.campaigns(kind, "open")
        if how < 6 and open_ones:
            return data.draw(st.sampled_from(open_ones), label=f"open {kind}")
        if how < 9:
            return self.create(data, kind, wild=False)
        everything = [c for k in CAMPAIGN_KINDS for c in self.campaigns(k)]
        return self.pick(data, everything, "any campaign")

    @rule(data=st.data(), kind=st.sampled_from(CAMPAIGN_KINDS))
    def create_campaign(self, data: st.DataObject, kind: str) -> None:
        self.create(data, kind, wild=True)

    def param_change(self, data: st.DataObject, kind: str) -> dict[str, Any]:
        """A change of a draft's parameters that suits its kind, or one that does not."""
        later = self.engine.clock + dt.timedelta(hours=data.draw(st.integers(-2, 48), label="deadline hours"))
        changes: dict[str, list[dict[str, Any]]] = {
            "group_buy": [{"group_size": 3, "winners": 1}, {"expire_hours": 1}, {"sku": "TEA"}, {"sku": "NOPE"},
                          {"winner_fund": "20.00"}, {"winners": 9}],
            "red_envelope": [{"max_size": 3}, {"sku": "ENV"}, {"sku": "TEA"}, {"expire_hours": 2}],
            "presale": [{"deadline": later}, {"target": 3}, {"free_every": 1}, {"tier_rebate": "100.00"}],
            "blind_box": [{"boxes": 3, "win_from": 1, "win_to": 3}, {"open_price": "2.00", "starter_share": "1.00"},
                          {"win_to": 99}, {"prize_sku": "NOPE"}],
        }
        change: dict[str, Any] = data.draw(st.sampled_from([*changes[kind], {"bogus": 1}]), label="param change")
        if data.draw(st.integers(0, 3), label="a new secret") == 3:
            change = {**change, "secret": data.draw(secrets(), label="secret")}
        return change

    def some_draft(self, data: st.DataObject) -> tuple[str, str]:
        """A draft mostly (made now when there is none); else any campaign, or none. With the kind it is of."""
        drafts = [(c, k) for k in CAMPAIGN_KINDS for c in self.campaigns(k, "draft")]
        how = data.draw(st.integers(0, 9), label="draft, new draft, other")
        if how < 6 and drafts:
            return data.draw(st.sampled_from(drafts), label="draft")
        kind = data.draw(st.sampled_from(CAMPAIGN_KINDS), label="kind")
        if how < 8:
            return self.create(data, kind, wild=True), kind
        everything = [c for k in CAMPAIGN_KINDS for c in self.campaigns(k)]
        return self.pick(data, everything, "any campaign"), kind

    @rule(data=st.data())
    def update_campaign(self, data: st.DataObject) -> None:
        campaign, kind = self.some_draft(data)
        self.apply(UpdateCampaign(at=self.at(data), campaign=campaign, params=self.param_change(data, kind)))

    @rule(data=st.data())
    def publish_campaign(self, data: st.DataObject) -> None:
        campaign, _kind = self.some_draft(data)
        self.apply(PublishCampaign(at=self.at(data), campaign=campaign))

    # --- group-buy lotteries and red-envelope groups -------------------------------------------------------------
    def start(self, data: st.DataObject, kind: str) -> str:
        """A member starts a group of ``kind`` (in a campaign ``campaign_for`` picks); returns the group's id."""
        campaign = self.campaign_for(data, kind)
        groups = [g for k in GROUP_KINDS for g in self.group_module(k).groups]
        group = self.new_id("g")
        if groups and data.draw(st.integers(0, 11), label="a taken group id") == 11:
            group = data.draw(st.sampled_from(groups), label="taken group id")
        order = self.order_id(data, "co") if data.draw(st.integers(0, 3), label="explicit order id") == 3 else None
        member = self.taker(data, list(self.engine.members))
        at = self.at(data)
        if kind == "group_buy":
            self.apply(StartGroupBuy(at=at, member=member, campaign=campaign, group=group, order=order))
            return group
        found = self.red_envelope.campaigns.get(campaign)
        max_size = found.params.max_size if found and isinstance(found.params, RedEnvelopeParams) else 3
        size = data.draw(st.integers(2, max_size), label="size")
        winners = data.draw(st.integers(1, size - 1), label="winners")
        private = data.draw(st.booleans(), label="private")
        code = "code-1234" if private else None
        if data.draw(st.integers(0, 7), label="wild terms") == 7:
            size, winners, code = data.draw(st.sampled_from([(1, 1, code), (max_size + 1, 1, code), (3, 3, code),
                                                             (2, 1, "xyz" if private else "code-1234")]))
        self.apply(StartRedEnvelope(
            at=at, member=member, campaign=campaign, group=group, order=order, size=size, winners=winners,
            split=data.draw(st.sampled_from(["random", "equal"]), label="split"),
            visibility="private" if private else "open", invite_code=code))
        return group

    @rule(data=st.data(), kind=st.sampled_from(GROUP_KINDS))
    def start_group(self, data: st.DataObject, kind: str) -> None:
        self.start(data, kind)

    def group_for(self, data: st.DataObject, kind: str) -> str:
        """Mostly an open group of ``kind`` or one started now (always when there is none); else any group, or
        none."""
        how = data.draw(st.integers(0, 9), label="open, new, other")
        open_ones = [g.id for g in self.open_groups() if g.id in self.group_module(kind).groups]
        if how < 5 and open_ones:
            return data.draw(st.sampled_from(open_ones), label="open group")
        if how < 9:
            return self.start(data, kind)
        every = [g for k in GROUP_KINDS for g in self.group_module(k).groups]
        return self.pick(data, every, "any group")

    def seated(self, group_id: str) -> list[str]:
        found = [g for g in self.open_groups() if g.id == group_id]
        return [e.member for e in found[0].entries] if found else []

    def join_group(self, data: st.DataObject, group_id: str) -> None:
        """Mostly a member without a seat (a fund owner when there is one, now and then) joins with the group's
        kind of event; sometimes a member already seated, or the other kind's event (both refused)."""
        seated = self.seated(group_id)
        free = [m for m in self.engine.members if m not in seated]
        owners = {f.member for f in self.group_buy.funds.values() if f.status == "locked"}
        if any(m in owners for m in free) and data.draw(st.booleans(), label="a fund owner takes the seat"):
            free = [m for m in free if m in owners]  # its seat, once drawn, unlocks a step of its fund
        wrong = data.draw(st.sampled_from(["", "", "", "", "", "", "seated", "kind"]), label="a wrong join")
        member = self.taker(data, seated if wrong == "seated" and seated else free)
        order = self.order_id(data, "co") if data.draw(st.integers(0, 4), label="explicit order id") == 4 else None
        at = self.soon(data)
        if (group_id in self.red_envelope.groups) != (wrong == "kind"):
            terms = self.red_envelope.terms.get(group_id)
            code = terms.invite_code if terms else None
            code = data.draw(st.sampled_from([code, code, code, None, "wrong-code"]), label="invite code")
            self.apply(JoinRedEnvelope(at=at, member=member, group=group_id, invite_code=code, order=order))
        else:
            self.apply(JoinGroupBuy(at=at, member=member, group=group_id, order=order))

    @rule(data=st.data(), kind=st.sampled_from(GROUP_KINDS), groups=st.integers(1, 3))
    def fill_group(self, data: st.DataObject, kind: str, groups: int) -> None:
        """Members join a group, mostly until it is full (the last seat draws it); then perhaps another group, where
        the winners of the last one (their shopping funds unlock) are likely to take seats."""
        for _ in range(groups):
            group_id = self.group_for(data, kind)
            found = [g for g in self.open_groups() if g.id == group_id]
            tries = data.draw(st.sampled_from([found[0].size + 2] * 3 + [1] if found else [1]), label="joins")
            for _ in range(tries):
                if data.draw(st.integers(0, 5), label="meanwhile, another purchase") == 5:
                    self.buy_with_a_seats_order_id(data, group_id)
                self.join_group(data, group_id)
                if not self.seated(group_id):  # drawn, expired or dissolved (or never started)
                    break

    def buy_with_a_seats_order_id(self, data: st.DataObject, group_id: str) -> None:
        """While the group fills, a purchase elsewhere (a pre-sale entry, a box set or box, a plain order) comes
        with the order id of one of its seats: the seat's order is not in ``engine.orders`` until the draw."""
        seats = [e.order for g in self.open_groups() if g.id == group_id for e in g.entries]
        if not seats:
            return
        order = data.draw(st.sampled_from(seats), label="a seat's order id")
        what = data.draw(st.sampled_from(["presale", "open box", "start box", "pay"]), label="purchase")
        if what == "presale":
            campaign = self.campaign_for(data, "presale")
            member = self.taker(data, list(self.engine.members))
            self.apply(JoinPresale(at=self.soon(data), member=member, campaign=campaign, order=order))
        elif what == "open box":
            campaign = self.campaign_for(data, "blind_box")
            box_set = self.blind_box.sets.get(campaign)
            member = self.taker(data, [m for m in self.of_age() if box_set is None or m != box_set.starter])
            self.apply(OpenBlindBox(at=self.soon(data), member=member, campaign=campaign, order=order))
        elif what == "start box":
            member = self.taker(data, [m for m in self.of_age() if self.coupons_of(m) >= 69])
            self.apply(StartBlindBox(at=self.soon(data), member=member, campaign=self.new_id("bl"), order=order,
                                     params=self.blind_box_params(data)))
        else:
            self.apply(ev.Pay(at=self.soon(data), member=self.some_member(data), sku=self.some_product(data),
                              order=order))

    @rule(data=st.data(), kind=st.sampled_from(GROUP_KINDS))
    def leave_group(self, data: st.DataObject, kind: str) -> None:
        group_id = self.group_for(data, kind)
        member = self.pick(data, self.seated(group_id), "seated member", fallback=self.some_member(data))
        self.apply(LeaveGroup(at=self.at(data), member=member, group=group_id))

    @rule(data=st.data(), kind=st.sampled_from(GROUP_KINDS))
    def close_group_campaign(self, data: st.DataObject, kind: str) -> None:
        filling = sorted({g.campaign for g in self.open_groups() if g.id in self.group_module(kind).groups})
        with_open_groups: bool = bool(filling) and data.draw(st.booleans(), label="a campaign with open groups")
        if with_open_groups:
            campaign = data.draw(st.sampled_from(filling), label="campaign with open groups")
        else:
            campaign = self.campaign_for(data, kind)
        close = CloseGroupBuy if kind == "group_buy" else CloseRedEnvelope
        self.apply(close(at=self.at(data), campaign=campaign))

    # --- pre-sales -----------------------------------------------------------------------------------------------
    @rule(data=st.data(), joins=st.integers(1, 5))
    def join_presale(self, data: st.DataObject, joins: int) -> None:
        """Members join a pre-sale (the target closes it; every ``free_every``-th count draws one free); now and
        then a participant leaves in between (and may join again, at the end of the queue)."""
        campaign = self.campaign_for(data, "presale")
        for _ in range(joins):
            run = self.presale.runs.get(campaign)
            if run and run.active and data.draw(st.integers(0, 4), label="meanwhile, one leaves") == 4:
                leaver = data.draw(st.sampled_from(list(run.active)), label="leaver")  # free ones are refused
                self.apply(LeavePresale(at=self.soon(data), member=leaver, campaign=campaign))
            member = self.taker(data, [m for m in self.engine.members if run is None or m not in run.active])
            self.apply(JoinPresale(at=self.soon(data), member=member, campaign=campaign,
                                   order=self.order_id(data, "ps")))

    @rule(data=st.data())
    def leave_presale(self, data: st.DataObject) -> None:
        campaign = self.campaign_for(data, "presale")
        run = self.presale.runs.get(campaign)
        member = self.pick(data, list(run.active) if run else [], "participant", fallback=self.some_member(data))
        self.apply(LeavePresale(at=self.at(data), member=member, campaign=campaign))

    # --- blind boxes ---------------------------------------------------------------------------------------------
    @rule(data=st.data())
    def open_boxes(self, data: st.DataObject) -> None:
        """Members (now and then the starter, or someone too young) open boxes of a set, up to all of them."""
        campaign = self.campaign_for(data, "blind_box")
        box_set = self.blind_box.sets.get(campaign)
        for _ in range(data.draw(st.integers(1, 6), label="opens")):
            member = self.taker(data, [m for m in self.of_age() if box_set is None or m != box_set.starter])
            take = data.draw(st.sampled_from(["prize", "coupons"]), label="take")
            self.apply(OpenBlindBox(at=self.soon(data), member=member, campaign=campaign,
                                    order=self.order_id(data, "bo"), take=take))

    # --- refunds of campaign orders ------------------------------------------------------------------------------
    @rule(data=st.data())
    def refund_campaign_order(self, data: st.DataObject) -> None:
        """A refund of an order a campaign made: a winner's, a pre-sale entry's, a box set's start or an open."""
        orders = [o.id for o in self.engine.orders.values() if o.campaign is not None]
        self.apply(ev.Refund(at=self.at(data), order=self.pick(data, orders, "campaign order")))

    # --- properties after every step -----------------------------------------------------------------------------
    def a_replay_gives_the_same_ledger_and_refunds_undo_the_orders(self) -> None:
        """Not an invariant here (a replay after every step is too slow with five modules): see ``teardown``."""

    @invariant()
    def an_order_id_names_one_purchase(self) -> None:
        """Once an order id is taken, it stays the same member's order in the same campaign (a pre-sale replaces its
        entry's order at the close with the sale, for the same member: that is the same purchase)."""
        for order in self.engine.orders.values():
            first = self.order_buyers.setdefault(order.id, (order.member, order.campaign))
            assert first == (order.member, order.campaign), (order.id, first, order)

    @invariant()
    def coupons_and_escrows_never_go_below_zero(self) -> None:
        check_coupons_and_escrows(self.engine)

    @invariant()
    def what_the_ledger_says_is_what_the_modules_say(self) -> None:
        """Shopping funds, points and refunded orders, each against the ledger's postings (counted apart)."""
        self.tally.catch_up(self.engine.ledger.transactions)
        self.tally.check(self.engine)
        funds = self.group_buy.funds.values()
        for fund in funds:
            assert fund.unlocked >= self.unlocked_before.get(fund.id, 0), fund  # nothing locks again
        self.unlocked_before = {fund.id: fund.unlocked for fund in funds}
        plan = self.points
        assert plan.minted >= self.points_before[0] and plan.released >= self.points_before[1]
        self.points_before = (plan.minted, plan.released)

    def teardown(self) -> None:
        type(self).steps_run += max(self.checks - 1, 0)
        if sys.exc_info()[1] is not None or not self.log:
            return  # a step failed: its error is the report
        again, refused_as_ticks = new_engine(self.shop), new_engine(self.shop)
        for event, substitute in zip(self.log, self.substitutes, strict=True):
            again.apply(event)
            refused_as_ticks.apply(substitute)
            if substitute is not event:  # a refused event: nothing but the clock may differ from a tick's
                assert observable(refused_as_ticks) == observable(again), event
        mine = observable(self.engine)
        assert [_transaction_key(t) for t in again.ledger.transactions] == mine["transactions"]
        assert again.refused == self.engine.refused
        assert again.draws == self.engine.draws
        assert observable(again) == mine
        assert observable(refused_as_ticks) == mine
        everything_closes_and_refunds(refused_as_ticks)


def check_coupons_and_escrows(engine: Engine) -> None:
    """No member holds fewer than zero coupons; no escrow is below zero; a closed campaign holds no escrow."""
    balances = engine.ledger.balances
    for (owner, book), amount in balances.items():
        if book == COUPONS and not owner.startswith("@"):
            assert amount >= 0, (owner, amount)
        if owner == "@escrow":
            assert amount >= 0, (book, amount)
    for kind in CAMPAIGN_KINDS:
        module = engine.modules[kind]
        assert isinstance(module, CampaignModule)
        for campaign in module.campaigns.values():
            if campaign.status == "closed":
                assert balances.get(escrow(campaign.id), 0) == 0, campaign.id


@dataclass
class LedgerTally:
    """What the ledger's postings add up to, counted apart from the modules' own counters: points minted, released
    and burnt; each member's shopping funds issued, unlocked and taken back; the money each order gave each member."""

    scanned: int = 0  # transactions counted so far
    points: dict[str, int] = field(default_factory=lambda: {"minted": 0, "released": 0, "burnt": 0})
    funds: dict[str, dict[str, int]] = field(default_factory=dict)
    order_money: dict[str, dict[str, int]] = field(default_factory=dict)

    def catch_up(self, transactions: list[Transaction]) -> None:
        for txn in transactions[self.scanned:]:
            for (owner, book), amount in txn.entries:
                if owner.startswith("@"):
                    continue
                if book == POINTS_BOOK:
                    self.count_points(txn.rule, amount)
                elif book == LOCKED_FUND:
                    self.count_fund(owner, txn.rule, amount)
                elif txn.order is not None and book not in NON_CASH_UNITS and txn.rule != "points_clawback":
                    by_member = self.order_money.setdefault(txn.order, {})
                    by_member[owner] = by_member.get(owner, 0) + amount
        self.scanned = len(transactions)

    def count_points(self, rule: str, amount: int) -> None:
        if rule == "points_earned" and amount > 0:
            self.points["minted"] += amount
        elif rule == "points_release":
            self.points["released"] -= amount
        else:  # paid with, given back by a refund, burnt by a refund
            assert rule in ("points_payment", "points_earned"), rule
            self.points["burnt"] -= amount

    def count_fund(self, member: str, rule: str, amount: int) -> None:
        seen = self.funds.setdefault(member, {"issued": 0, "unlocked": 0, "taken_back": 0})
        if rule == "group_buy_fund":
            seen["issued"] += amount
        elif rule in UNLOCK_RULES:
            seen["unlocked"] -= amount
        else:
            assert rule == "group_buy_fund_revoked", rule
            seen["taken_back"] -= amount

    def check(self, engine: Engine) -> None:
        self.check_funds(engine)
        self.check_points(engine)
        self.check_refunded_orders(engine)

    def check_funds(self, engine: Engine) -> None:
        """No shopping fund unlocks past its original amount, and the funds agree with the ledger, member by
        member."""
        module = engine.modules["group_buy"]
        assert isinstance(module, GroupBuy)
        by_member: dict[str, dict[str, int]] = {}
        for fund in module.funds.values():
            assert 0 <= fund.unlocked <= fund.original, fund
            assert fund.unlocked + fund.taken_back <= fund.original, fund
            assert sum(parse_yuan(step["amount"]) for step in fund.steps) == fund.unlocked, fund
            assert (fund.status == "locked") == (fund.remaining > 0 and fund.taken_back == 0), fund
            totals = by_member.setdefault(fund.member, {"issued": 0, "unlocked": 0, "taken_back": 0})
            totals["issued"] += fund.original
            totals["unlocked"] += fund.unlocked
            totals["taken_back"] += fund.taken_back
        assert by_member == {m: t for m, t in self.funds.items() if any(t.values())}
        assert all(engine.balance(member, LOCKED_FUND) >= 0 for member in engine.members)

    def check_points(self, engine: Engine) -> None:
        """Points outstanding == minted − released − burnt, by the module's counters and by the ledger; the reserve
        never below zero."""
        plan, balances = engine.modules["points"], engine.ledger.balances
        assert isinstance(plan, Points)
        counted = {"minted": plan.minted, "released": plan.released, "burnt": plan.burnt}
        assert counted == self.points, (counted, self.points)
        held = sum(a for (owner, book), a in balances.items() if book == POINTS_BOOK and not owner.startswith("@"))
        assert plan.outstanding == plan.minted - plan.released - plan.burnt == held == -balances.get(ISSUED, 0)
        assert balances.get(RESERVE, 0) >= 0

    def check_refunded_orders(self, engine: Engine) -> None:
        """Every posting to a member's money that names a refunded order is undone, in whichever book it is now:
        rewards and commissions (pending, settled, frozen in a help fund, released), promotions. Not counted: the
        group-buy shopping fund (what unlocked stays the member's) and a points clawback (the refund's own
        charge)."""
        for order in engine.orders.values():
            if order.refunded:
                left = {m: a for m, a in self.order_money.get(order.id, {}).items() if a}
                assert not left, (order.id, left)


def everything_closes_and_refunds(engine: Engine) -> None:
    """Past every deadline, with the group campaigns closed, no escrow holds money; then every order can be
    refunded but those the rules keep (an opened box, a set with an opened box, a free pre-sale product), after
    which no shopping fund is locked and the ledger still agrees with every module."""
    later = engine.clock + dt.timedelta(days=31)  # past every group's (at most 720 hours) and pre-sale's deadline
    assert engine.apply(ev.Tick(at=later)).applied
    for kind, close in (("group_buy", CloseGroupBuy), ("red_envelope", CloseRedEnvelope)):
        module = engine.modules[kind]
        assert isinstance(module, GroupCampaignModule)
        for campaign in list(module.campaigns.values()):
            if campaign.status == "open":
                assert engine.apply(close(at=later, campaign=campaign.id)).applied
    assert {a for (owner, _c), a in engine.ledger.balances.items() if owner == "@escrow"} <= {0}
    boxes = engine.modules["blind_box"]
    assert isinstance(boxes, BlindBox)
    for order in list(engine.orders.values()):
        if order.refunded:
            continue
        refusal = engine.apply(ev.Refund(at=later, order=order.id)).refusal
        if refusal is not None:
            box = boxes.opened_boxes.get(order.id)
            kept = (bool(box) or (order.campaign is not None and order.amount == 0)  # opened, or a free pre-sale
                    or (box == 0 and boxes.sets[str(order.campaign)].opens))  # a start whose set has openings
            assert kept and refusal.code == Code.NOT_ALLOWED, (order, refusal)
    assert engine.check_invariants() == []
    check_coupons_and_escrows(engine)
    tally = LedgerTally()
    tally.catch_up(engine.ledger.transactions)
    tally.check(engine)
    assert {a for (_m, book), a in engine.ledger.balances.items() if book == LOCKED_FUND} <= {0}


#: The default run: about 40 s on an idle 2-core machine (longer when it is busy).
_CAMPAIGN_SETTINGS = settings(max_examples=150, stateful_step_count=50, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

TestAllModules = AllModulesMachine.TestCase
TestAllModules.settings = _CAMPAIGN_SETTINGS


@pytest.mark.slow
def test_long_random_runs_of_every_module() -> None:
    """Longer sequences, more of them: 300 runs of up to 100 steps, at least LONG_RUN_STEPS steps in all, counted
    (about 2 minutes on an idle 2-core machine; 1000 runs took 7, too much for the suite's 20 minutes)."""
    counted = type("CountedAllModulesMachine", (AllModulesMachine,), {"steps_run": 0})
    run_state_machine_as_test(counted, settings=settings(_CAMPAIGN_SETTINGS, max_examples=300, stateful_step_count=100))
    print(f"AllModulesMachine: {counted.steps_run} steps")
    assert counted.steps_run >= LONG_RUN_STEPS
