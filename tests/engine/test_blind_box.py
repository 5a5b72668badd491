"""The blind box: coupons, starts and opens, the prize window, promotions, refunds, age limits and refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liandong import scenario as sc
from liandong.engine.campaigns.base import escrow
from liandong.engine.campaigns.blind_box import BlindBox, BlindBoxParams, age_on
from liandong.engine.core import SALES, Engine, Outcome, Product, Shop
from liandong.engine.draw import DrawRecord, position, verify_record
from liandong.engine.events import EVENT_TYPES
from liandong.engine.money import format_fen
from liandong.engine.registry import new_engine

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
START = dt.datetime.fromisoformat("2026-01-01T08:00:00+08:00")
ADULT = dt.date(1990, 1, 1)
PRIZE_IN_7 = "00" * 31 + "25"  # position(PRIZE_IN_7, "b1", 7, 24) == 7
PRIZE_IN_24 = "00" * 31 + "08"  # position(PRIZE_IN_24, "b2", 7, 24) == 24


def make_engine(plans: dict[str, dict[str, Any]] | None = None) -> Engine:
    products = [Product("BOX", 9900), Product("GIFT", 69900, gift_pack=True)]
    return new_engine(Shop(products=products, plans=plans or {}, start=START))


def act(engine: Engine, verb: str, at: dt.datetime | None = None, **fields: Any) -> Outcome:
    cls = EVENT_TYPES[verb]
    if cls.creates_draw:  # the caller brings a draw's secret (the service logs one); the test's own wins
        fields["params"] = {"secret": "ab" * 32, **(fields.get("params") or {})}
    outcome = engine.apply(cls(at=at or engine.clock + dt.timedelta(seconds=1), **fields))
    assert engine.check_invariants() == []
    return outcome


def join(engine: Engine, member: str, referrer: str | None = None, birth_date: dt.date | None = ADULT,
         consent: bool = False) -> None:
    assert act(engine, "join", member=member, referrer=referrer, birth_date=birth_date,
               guardian_consent=consent).applied


def start(engine: Engine, member: str, campaign: str = "b1", order: str | None = None, publish: bool = True,
          **params: Any) -> Outcome:
    return act(engine, "start_blind_box", member=member, campaign=campaign, order=order or f"start-{campaign}",
               params={"prize_sku": "BOX", **params}, publish=publish)


def open_box(engine: Engine, member: str, campaign: str = "b1", take: str = "prize") -> Outcome:
    n = sum(1 for box in module(engine).opened_boxes.values() if box) + len(engine.refused)
    return act(engine, "open_blind_box", member=member, campaign=campaign, order=f"open-{n}", take=take)


def module(engine: Engine) -> BlindBox:
    boxes = engine.modules["blind_box"]
    assert isinstance(boxes, BlindBox)
    return boxes


def view(engine: Engine, campaign: str = "b1") -> dict[str, Any]:
    module = engine.modules["blind_box"]
    assert isinstance(module, BlindBox)
    return module.campaign_view(engine, module.campaigns[campaign])


def coupons(engine: Engine, member: str) -> int:
    value = engine.member_view(member)["coupons"]
    assert isinstance(value, int)
    return value


def refusal_of(outcome: Outcome) -> tuple[str, str, Any]:
    assert outcome.refusal is not None, "expected a refusal"
    return str(outcome.refusal.code), outcome.refusal.field, outcome.refusal.value


def starter_and_openers(engine: Engine) -> None:
    join(engine, "P")
    join(engine, "A", referrer="P")
    join(engine, "R")
    join(engine, "C", referrer="R")
    join(engine, "D")


# --- the rulebook's figures --------------------------------------------------------------------------------------


def test_defaults_are_the_rulebooks_numbers() -> None:
    p = BlindBoxParams(prize_sku="BOX")
    assert (p.start_fee, p.start_coupons, p.boxes, p.win_from, p.win_to) == (3000, 69, 24, 7, 24)
    assert (p.open_price, p.starter_share, p.promoter_share) == (500, 450, 50)
    assert (p.miss_coupons, p.win_coupons, p.start_promotion, p.referrer_promotion) == (99, 198, 1000, 400)


@pytest.mark.parametrize(("secret", "campaign", "box", "net"), [(PRIZE_IN_7, "b1", 7, "1.50"),
                                                                 (PRIZE_IN_24, "b2", 24, "78.00")])
def test_the_starter_nets_4_50_per_open_less_the_30_00_fee(secret: str, campaign: str, box: int, net: str) -> None:
    assert position(secret, campaign, 7, 24) == box
    engine = make_engine()
    starter_and_openers(engine)
    assert start(engine, "A", campaign, secret=secret).applied
    for _ in range(box - 1):
        assert open_box(engine, "C", campaign).applied
    assert view(engine, campaign)["status"] == "open"
    assert open_box(engine, "D", campaign).applied
    v = view(engine, campaign)
    assert (v["status"], v["opened"], v["prize_box"], v["winner"], v["starter_net"]) == ("closed", box, box, "D", net)
    assert engine.member_view("A")["available"] == format_fen(450 * box)
    assert engine.member_view("R")["available"] == format_fen(50 * (box - 1))  # C's referrer; D has none
    assert coupons(engine, "C") == 100 + 99 * (box - 1)
    assert engine.ledger.balance(escrow(campaign)) == 0
    assert engine.draws == [DrawRecord(campaign=campaign, operation="position", commitment=v["commitment"],
                                       secret=secret, entries=[], result=box, window=(7, 24)).to_json()]


@settings(max_examples=40, deadline=None)
@given(secret=st.binary(min_size=32, max_size=32).map(bytes.hex), boxes=st.integers(1, 30), data=st.data())
def test_the_prize_is_always_in_the_published_window(secret: str, boxes: int, data: st.DataObject) -> None:
    win_from = data.draw(st.integers(1, boxes))
    win_to = data.draw(st.integers(win_from, boxes))
    engine = make_engine()
    starter_and_openers(engine)
    assert start(engine, "A", secret=secret, boxes=boxes, win_from=win_from, win_to=win_to).applied
    published = view(engine)["window"]
    while view(engine)["status"] == "open":
        assert open_box(engine, "C").applied
    v = view(engine)
    assert published == [win_from, win_to]
    assert win_from <= v["prize_box"] == v["opened"] <= win_to
    assert verify_record(DrawRecord.from_json(engine.draws[-1])) == []


# --- coupons -----------------------------------------------------------------------------------------------------


def test_the_first_members_hold_their_seed_coupons_from_their_join_even_before_any_box_set() -> None:
    engine = make_engine()
    for n in range(3):
        engine.apply(EVENT_TYPES["join"](at=START, member=f"m{n}"))
    assert coupons(engine, "m0") == 100  # the rulebook: the first 1000 members get 100 each; at join, in the ledger
    assert engine.ledger.balance(("@platform", "coupons_issued")) == -300  # 3 members x 100
    assert engine.ledger.count == 3  # one coupon_seed transfer per member


def test_the_first_seed_users_get_100_coupons_at_join_and_later_members_none() -> None:
    engine = make_engine()
    for n in range(1001):
        join(engine, f"m{n}")  # m0 … m999 are the first 1000 (index 0 to 999); m1000 is the 1001st
    assert coupons(engine, "m0") == 100
    assert coupons(engine, "m999") == 100
    assert coupons(engine, "m1000") == 0
    assert start(engine, "m0").applied  # m0 pays 69 of its 100
    assert coupons(engine, "m0") == 31
    assert engine.ledger.balance(("@platform", "coupons_issued")) == -100_000 + 69  # 1000 x 100 issued, 69 back


def test_coupons_never_go_below_zero() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    assert start(engine, "A", start_coupons=100).applied  # exactly all of them
    assert coupons(engine, "A") == 0
    outcome = start(engine, "A", campaign="b2", start_coupons=1)
    assert refusal_of(outcome) == ("insufficient", "coupons", 0)
    assert coupons(engine, "A") == 0
    assert refusal_of(start(engine, "C", campaign="b3", start_coupons=101)) == ("insufficient", "coupons", 100)


def test_a_miss_gives_99_coupons_and_a_win_198_when_the_opener_takes_coupons() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A", secret=PRIZE_IN_7)
    for _ in range(6):
        open_box(engine, "C")
    open_box(engine, "D", take="coupons")
    assert (coupons(engine, "C"), coupons(engine, "D")) == (100 + 6 * 99, 100 + 198)
    assert view(engine)["taken"] == "coupons"
    assert module(engine).prize_orders == {}


def test_taking_the_prize_marks_the_winning_order_for_delivery() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A", secret=PRIZE_IN_7)
    for _ in range(7):
        open_box(engine, "D")
    boxes = module(engine)
    winning = [(engine.orders[o].member, boxes.opened_boxes[o], sku) for o, sku in boxes.prize_orders.items()]
    assert winning == [("D", 7, "BOX")]
    assert coupons(engine, "D") == 100 + 6 * 99


# --- money ---------------------------------------------------------------------------------------------------------


def test_an_open_passes_through_escrow_and_leaves_it_empty() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A")
    outcome = open_box(engine, "C")
    rules = [t.rule for t in outcome.transactions]
    assert rules == ["blind_box_open", "blind_box_starter_share", "blind_box_promoter_share",
                     "blind_box_miss_coupons"]
    assert engine.ledger.balance(escrow("b1")) == 0
    open_box(engine, "D")  # no referrer: the 0.50 is the platform's
    assert format_fen(engine.ledger.balance(SALES)) == "30.50"


def test_the_start_promotion_goes_to_the_referrer_and_the_chain21_team_leader() -> None:
    engine = make_engine(plans={"chain21": {}})
    join(engine, "L")
    act(engine, "pay", member="L", sku="GIFT", order="g1")
    for seed in ("L1", "L2"):
        join(engine, seed, referrer="L")
        act(engine, "pay", member=seed, sku="GIFT", order=f"g-{seed}")
    assert engine.member_view("L")["rank"] == "partner"
    join(engine, "A", referrer="L1")  # in L's team
    before = engine.balance("L"), engine.balance("L1")
    start(engine, "A")
    assert (engine.balance("L") - before[0], engine.balance("L1") - before[1]) == (600, 400)
    assert (view(engine)["promotion_paid"], view(engine)["promotion_kept"]) == ("10.00", "0.00")
    assert engine.member_view("L")["help_fund"] == "0.00"  # a campaign's promotion is not frozen


def test_without_chain21_or_a_referrer_the_platform_keeps_the_promotion() -> None:
    engine = make_engine()
    join(engine, "A")
    start(engine, "A")
    assert (view(engine)["promotion_paid"], view(engine)["promotion_kept"]) == ("0.00", "10.00")
    assert engine.ledger.balance(("@platform", "campaign_expense")) == 0


def test_plans_earn_on_the_start_fee_only_when_plans_apply() -> None:
    pools = []
    for plans_apply in (False, True):
        engine = make_engine(plans={"chain21": {}})
        starter_and_openers(engine)
        start(engine, "A", plans_apply=plans_apply)
        open_box(engine, "C")
        pools.append(engine.ledger.balance(("@pool", "bonus")))
    assert pools == [0, 150]  # 5% of the 30.00 start fee; never of an open


# --- refunds -------------------------------------------------------------------------------------------------------


def test_a_set_is_refunded_whole_before_its_first_box_is_opened() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A", secret=PRIZE_IN_7)
    assert act(engine, "refund", order="start-b1").applied
    v = view(engine)
    assert (v["status"], v["outcome"], v["prize_box"], v["promotion_paid"]) == ("closed", "refunded", 7, "0.00")
    assert coupons(engine, "A") == 100 and engine.balance("P") == 0
    assert engine.ledger.balance(SALES) == 0
    assert [d["result"] for d in engine.draws] == [7]
    assert refusal_of(open_box(engine, "C")) == ("closed", "campaign", "b1")


def test_opened_boxes_and_sets_with_an_opened_box_are_never_refunded() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A")
    open_box(engine, "C")
    assert refusal_of(act(engine, "refund", order="start-b1")) == ("not_allowed", "order", "start-b1")
    assert refusal_of(act(engine, "refund", order="open-0")) == ("not_allowed", "order", "open-0")


# --- ages ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("birth", "day", "age"), [
    (dt.date(2018, 1, 2), dt.date(2026, 1, 1), 7), (dt.date(2018, 1, 2), dt.date(2026, 1, 2), 8),
    (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17), (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
])
def test_age_counts_whole_years_on_the_day(birth: dt.date, day: dt.date, age: int) -> None:
    assert age_on(birth, day) == age


def test_age_limits_apply_on_the_events_day() -> None:
    engine = make_engine()
    join(engine, "A")
    start(engine, "A")
    join(engine, "K", birth_date=dt.date(2018, 1, 2), consent=True)  # 7 on 2026-01-01, 8 the next day
    join(engine, "T", birth_date=dt.date(2012, 3, 1))
    join(engine, "N", birth_date=None)
    assert refusal_of(open_box(engine, "K")) == ("not_allowed", "birth_date", "2018-01-02")
    assert refusal_of(open_box(engine, "T")) == ("not_allowed", "guardian_consent", False)
    assert refusal_of(open_box(engine, "N")) == ("not_allowed", "birth_date", None)
    next_day = act(engine, "open_blind_box", member="K", campaign="b1", order="k-next-day",
                   at=dt.datetime.fromisoformat("2026-01-02T00:00:00+08:00"))
    assert next_day.applied


# --- refusals -------------------------------------------------------------------------------------------------------


def test_start_refusals_name_the_field_and_value() -> None:
    engine = make_engine()
    join(engine, "A")
    join(engine, "Y", birth_date=dt.date(2020, 1, 1))
    start(engine, "A")
    count = engine.ledger.count
    cases: list[tuple[Outcome, tuple[str, str, Any]]] = [
        (start(engine, "A", campaign="b1", order="x"), ("exists", "campaign", "b1")),
        (start(engine, "Q", campaign="b2"), ("member_unknown", "member", "Q")),
        (start(engine, "A", campaign="b2", open_price="200.01"), ("invalid", "params.open_price", "200.01")),
        (start(engine, "A", campaign="b2", win_from=3, win_to=30), ("invalid", "params.win_to", 30)),
        (start(engine, "A", campaign="b2", win_from=9, win_to=8), ("invalid", "params.win_to", 8)),
        (start(engine, "A", campaign="b2", starter_share="4.80"), ("invalid", "params.promoter_share", None)),
        (start(engine, "A", campaign="b2", colour="red"), ("invalid", "params.colour", "red")),
        (start(engine, "A", campaign="b2", prize_sku="NOPE"), ("product_unknown", "params.prize_sku", "NOPE")),
        (start(engine, "Y", campaign="b2"), ("not_allowed", "birth_date", "2020-01-01")),
        (start(engine, "A", campaign="b2"), ("insufficient", "coupons", 31)),
    ]
    for outcome, expected in cases:
        assert refusal_of(outcome) == expected
    assert engine.ledger.count == count


def test_open_refusals_name_the_field_and_value() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A")
    start(engine, "C", campaign="d1", publish=False)
    act(engine, "pay", member="D", sku="BOX", order="taken")
    count = engine.ledger.count
    cases: list[tuple[Outcome, tuple[str, str, Any]]] = [
        (open_box(engine, "D", campaign="nope"), ("not_found", "campaign", "nope")),
        (open_box(engine, "D", campaign="d1"), ("not_allowed", "campaign", "d1")),  # window not published
        (open_box(engine, "Q"), ("member_unknown", "member", "Q")),
        (open_box(engine, "A"), ("not_allowed", "member", "A")),  # the starter
        (act(engine, "open_blind_box", member="D", campaign="b1", order="taken"), ("order_exists", "order", "taken")),
    ]
    for outcome, expected in cases:
        assert refusal_of(outcome) == expected
    assert engine.ledger.count == count


def test_a_start_or_an_open_may_not_take_the_order_id_of_a_group_seat_still_open() -> None:
    """Regression (found by the all-modules state machine): a group seat's order (``g1-D``) enters the orders only
    when it wins the draw, which replaced a box set's start or an open that had taken its id."""
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A")
    assert act(engine, "create_group_buy", campaign="gb1",
               params={"sku": "BOX", "group_size": 2, "winners": 1, "secret": PRIZE_IN_7}).applied
    assert act(engine, "start_group_buy", member="D", campaign="gb1", group="g1").applied
    count = engine.ledger.count
    assert refusal_of(start(engine, "C", campaign="b2", order="g1-D")) == ("order_exists", "order", "g1-D")
    assert refusal_of(act(engine, "open_blind_box", member="C", campaign="b1", order="g1-D")) == (
        "order_exists", "order", "g1-D")
    assert engine.ledger.count == count


def test_a_draft_set_opens_once_published_and_its_prize_stays_secret_until_the_close() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    start(engine, "A", publish=False, secret=PRIZE_IN_7)
    assert act(engine, "publish_campaign", campaign="b1").applied
    assert open_box(engine, "C").applied
    v = view(engine)
    assert (v["prize_box"], v["secret"], v["window"], v["prize_in"]) == (None, None, [7, 24], "one of boxes 7–24")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("blind-box-*.yaml")), ids=lambda p: p.name)
def test_scenario_file_holds(path: Path) -> None:
    scenario = sc.load(path)
    result = sc.replay(scenario, check_invariants=True)
    assert scenario.expect is not None
    assert sc.compare(scenario.expect, result.end_state()) == []


def test_the_view_shows_the_rules_figures_and_where_the_prize_can_still_be() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    assert start(engine, "A", secret=PRIZE_IN_7).applied
    v = view(engine)
    assert v["leader_promotion"] == "6.00" and v["rest_of_open"] == "0.00"
    assert v["starter_nets"] == ["1.50", "78.00"], "4.50 x 7 - 30.00 to 4.50 x 24 - 30.00"
    assert v["still_possible"] == [7, 24] and v["window"] == [7, 24]
    assert v["limits"] == {"max_open_price": "200.00", "refused_under": 8, "consent_under": 18}
    for _box in range(6):
        assert open_box(engine, "C").applied
    assert view(engine)["still_possible"] == [7, 24], "box 7 is the window's first: all 18 still possible"
    assert open_box(engine, "D").applied  # box 7 holds the prize
    v = view(engine)
    assert v["status"] == "closed" and v["still_possible"] is None and v["prize_box"] == 7


def test_still_possible_narrows_as_boxes_in_the_window_are_opened() -> None:
    engine = make_engine()
    starter_and_openers(engine)
    assert start(engine, "A", campaign="b2", secret=PRIZE_IN_24, open_price="6.00", starter_share="5.00",
                 promoter_share="0.40", start_fee="20.00", win_from=3, win_to=24).applied
    v = view(engine, "b2")
    assert v["rest_of_open"] == "0.60" and v["starter_nets"] == ["-5.00", "100.00"]
    for _box in range(9):
        assert act(engine, "open_blind_box", member="C", campaign="b2", order=f"o{_box}").applied
    assert view(engine, "b2")["still_possible"] == [10, 24]
