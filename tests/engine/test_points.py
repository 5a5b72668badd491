"""Consumption points: the rulebook's check figures, releases, paying with points, refunds, refusals and the
invariants (points outstanding = minted - released - burnt, reserve >= 0) after random sequences."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liandong import scenario as sc
from liandong.engine import Shop
from liandong.engine import events as ev
from liandong.engine.core import DEFAULT_START, EXTERNAL, SALES, Product
from liandong.engine.module import ConfigError
from liandong.engine.plans.points import ISSUED, RESERVE, RESERVE_FUNDING, Points
from liandong.engine.registry import new_engine

PRODUCTS: list[dict[str, Any]] = [
    {"sku": "BIG", "price": "1000.00"},
    {"sku": "TEA", "price": "100.00"},
    {"sku": "BOX", "price": "899.00"},
]


def run(events: list[dict[str, Any]], config: dict[str, Any] | None = None) -> sc.Replay:
    doc = {"name": "test", "plan": "points", "config": config or {}, "products": PRODUCTS, "events": events}
    return sc.replay(sc.parse(doc), check_invariants=True)


def points_of(result: sc.Replay) -> Points:
    plan = result.engine.modules["points"]
    assert isinstance(plan, Points)
    return plan


def refusals(result: sc.Replay) -> list[tuple[int, str, str, Any]]:
    return [(seq, str(r.code), r.field, r.value) for seq, r in result.engine.refused]


TWO_BUYERS = [{"join": "A"}, {"join": "B"}, {"pay": "A", "sku": "BIG"}, {"pay": "B", "sku": "BIG"}]


# --- the check figures ---------------------------------------------------------------------------------------------


def test_first_order_of_1000_mints_210_points_and_sets_the_nav_to_1_428571() -> None:
    result = run(TWO_BUYERS[:3])
    state = result.end_state()
    assert state["members"]["A"]["points"] == "210.00"
    assert state["points"] == {"nav": "1.428571", "outstanding": "210.00", "reserve": "300.00", "history": []}


def test_the_next_order_of_1000_mints_147_points() -> None:
    state = run(TWO_BUYERS).end_state()
    assert state["members"]["B"]["points"] == "147.00"
    assert state["points"]["nav"] == "1.680672"  # 600.00 / 357.00
    assert state["points"]["outstanding"] == "357.00"


def test_reserve_per_order_adds_a_fixed_amount_per_unit_and_mints_on_it() -> None:
    result = run([{"join": "A"}, {"pay": "A", "sku": "BOX", "quantity": 2}], {"reserve_per_order": "200.00"})
    # 2 × 200.00 = 400.00 into the reserve; floor(400.00 × 0.70 / 1.000000) = 280.00 points
    assert result.end_state()["points"] == {"nav": "1.428571", "outstanding": "280.00", "reserve": "400.00",
                                           "history": []}


def test_initial_nav_prices_the_first_points() -> None:
    state = run(TWO_BUYERS[:3], {"initial_nav": "2.500000"}).end_state()
    assert state["members"]["A"]["points"] == "84.00"  # 210.00 / 2.5


# --- the day's release -------------------------------------------------------------------------------------------


def test_close_day_releases_each_holder_at_the_days_nav_less_the_fee() -> None:
    result = run([*TWO_BUYERS, {"close_day": "2026-01-01"}])
    state = result.end_state()
    # NAV 1.680672. A: floor(210.00 × 0.002) = 0.42 points -> floor(0.42 × 1.680672 × 0.80) = 0.56
    #               B: floor(147.00 × 0.002) = 0.29 points -> floor(0.29 × 1.680672 × 0.80) = 0.38
    assert (state["members"]["A"]["points"], state["members"]["A"]["available"]) == ("209.58", "0.56")
    assert (state["members"]["B"]["points"], state["members"]["B"]["available"]) == ("146.71", "0.38")
    assert state["points"]["history"] == [{
        "day": "2026-01-01", "nav": "1.680672", "released": "0.71", "cashed": "0.94", "fee": "0.25",
        "reserve": "599.06", "outstanding": "356.29", "holders": 2,
    }]
    assert state["points"]["nav"] == "1.681383"  # the fee stayed in the reserve: the NAV rose
    release = [t for t in result.engine.ledger.transactions if t.rule == "points_release"]
    assert len(release) == 1 and release[0].ref == "2026-01-01"
    assert result.outcomes[-1].facts == [{"fact": "points_released", "day": "2026-01-01", "nav": "1.680672",
                                          "points": "0.71", "cash": "0.94"}]


def test_a_holding_below_five_points_releases_nothing_and_is_not_walked() -> None:
    # 4.99 points × 0.002 = 0.00998: floors to 0.00
    result = run([{"join": "A"}, {"pay": "A", "sku": "TEA"}, {"close_day": "2026-01-01"}],
                 {"reserve_per_order": "7.13"})
    assert result.end_state()["members"]["A"]["points"] == "4.99"
    assert result.end_state()["points"]["history"][0] | {"holders": 1} == result.end_state()["points"]["history"][0]
    assert result.end_state()["points"]["history"][0]["released"] == "0.00"
    plan = points_of(result)
    assert (list(plan.releasing), list(plan.below_release)) == ([], ["A"])


def test_a_holder_who_falls_below_the_release_floor_leaves_the_walk_and_comes_back_by_buying() -> None:
    config = {"reserve_per_order": "0.05", "daily_release_rate": "0.5"}  # the floor: 0.02 points release 0.01
    events: list[dict[str, Any]] = [
        {"join": "A"}, {"pay": "A", "sku": "TEA"},  # floor(0.05 × 0.70 / 1.000000) = 0.03 points
        {"close_day": "2026-01-01"},               # releases floor(0.015) = 0.01: 0.02 left, still walked
        {"close_day": "2026-01-02"},               # releases 0.01: 0.01 left, below the floor
    ]
    plan = points_of(result := run(events, config))
    assert result.end_state()["members"]["A"]["points"] == "0.01"
    assert (list(plan.releasing), list(plan.below_release)) == ([], ["A"])
    # NAV 0.03 / 0.01 = 3.000000: the next 0.05 mints floor(0.035 / 3) = 0.01, so A holds 0.02 again
    plan = points_of(result := run([*events, {"pay": "A", "sku": "TEA"}], config))
    assert result.end_state()["members"]["A"]["points"] == "0.02"
    assert (list(plan.releasing), list(plan.below_release)) == (["A"], [])


def test_a_new_release_rate_sorts_the_holders_again_at_the_next_close() -> None:
    result = run([{"join": "A"}, {"pay": "A", "sku": "TEA"},
                  {"configure_plan": "points", "config": {"reserve_per_order": "7.13", "daily_release_rate": "0.01"}},
                  {"close_day": "2026-01-01"}],
                 {"reserve_per_order": "7.13"})
    # 4.99 points were below the 0.002 floor (5.00); at 0.01 they release floor(0.0499) = 0.04
    assert result.end_state()["members"]["A"]["points"] == "4.95"
    assert list(points_of(result).releasing) == ["A"]


def test_a_day_with_no_holders_is_in_the_history_at_the_initial_nav() -> None:
    state = run([{"close_day": "2026-01-01"}]).end_state()
    assert state["points"]["history"] == [{
        "day": "2026-01-01", "nav": "1.000000", "released": "0.00", "cashed": "0.00", "fee": "0.00",
        "reserve": "0.00", "outstanding": "0.00", "holders": 0,
    }]


# --- paying with points ------------------------------------------------------------------------------------------


def test_paying_with_points_burns_them_at_the_nav_and_the_reserve_pays_that_part_of_the_sale() -> None:
    result = run([*TWO_BUYERS, {"pay": "B", "sku": "TEA", "points": "20.00"}])
    balances = result.engine.ledger.balances
    # NAV 1.680672: 20.00 points are worth 33.61; cash 66.39, contribution floor(19.917) = 19.91,
    # minted floor(19.91 × 0.70 / 1.680672) = floor(8.2925) = 8.29
    assert result.end_state()["members"]["B"]["points"] == "135.29"  # 147.00 - 20.00 + 8.29
    assert balances[SALES] == 210000  # the full amounts of the three orders
    assert balances[EXTERNAL] == -(200000 + 10000 - 3361)  # the outside paid the cash part only
    assert balances[RESERVE] == 60000 - 3361 + 1991
    payment = next(t for t in result.engine.ledger.transactions if t.rule == "points_payment")
    assert payment.entries == ((("B", "points"), -2000), (ISSUED, 2000), (RESERVE, -3361), (EXTERNAL, 3361))
    assert points_of(result).burnt == 2000


def test_paying_with_points_up_to_the_maximum_deduction_is_accepted() -> None:
    # NAV 1.428571: 35.00 points are worth floor(49.999985) = 49.99, under 50% of 100.00
    result = run([*TWO_BUYERS[:3], {"pay": "A", "sku": "TEA", "points": "35.00"}])
    assert result.engine.refused == []


def test_a_points_payment_is_refused_with_field_and_value_for_each_reason() -> None:
    result = run([
        *TWO_BUYERS,
        {"pay": "B", "sku": "TEA", "points": "0.00"},
        {"pay": "B", "sku": "TEA", "points": "147.01"},
        {"pay": "B", "sku": "TEA", "points": "29.76"},  # worth floor(50.0168) = 50.01 > 50.00
        {"join": "C"}, {"pay": "C", "sku": "TEA", "points": "1.00"},
    ])
    assert refusals(result) == [
        (5, "invalid", "points", "0.00"),
        (6, "insufficient", "points", "147.01"),
        (7, "not_allowed", "points", "29.76"),
        (9, "insufficient", "points", "1.00"),
    ]
    assert [r.reason for _s, r in result.engine.refused] == [
        "points 0.00: pay with more than 0.00 points",
        "points 147.01: B holds 147.00",
        "points 29.76: worth 50.01 at the NAV 1.680672, more than max_deduction_rate 0.50 of the order's 100.00 "
        "(50.00)",
        "points 1.00: C holds 0.00",
    ]


def test_points_worth_nothing_at_the_nav_are_refused() -> None:
    result = run([{"join": "A"}, {"pay": "A", "sku": "BIG"}, {"pay": "A", "sku": "TEA", "points": "0.01"}],
                 {"initial_nav": "0.500000"})
    # 0.01 points at NAV floor(300.00 / 420.00) = 0.714285 are worth floor(0.00714) = 0.00
    assert refusals(result) == [(3, "invalid", "points", "0.01")]
    assert result.engine.refused[0][1].reason == "points 0.01: worth 0.00 at the NAV 0.714285"


def test_paying_with_points_on_a_shop_without_the_plan_is_refused() -> None:
    doc = {"name": "t", "plan": "chain21", "products": PRODUCTS,
           "events": [{"join": "A"}, {"pay": "A", "sku": "TEA", "points": "1.00"}]}
    result = sc.replay(sc.parse(doc))
    assert refusals(result) == [(2, "plan_not_running", "points", "points")]


# --- refunds -------------------------------------------------------------------------------------------------------


def test_a_refund_before_the_close_burns_the_points_and_takes_the_contribution_back() -> None:
    result = run([*TWO_BUYERS[:3], {"refund": "o1"}])
    state = result.end_state()
    assert state["members"]["A"]["points"] == "0.00"
    assert state["points"] == {"nav": "1.000000", "outstanding": "0.00", "reserve": "0.00", "history": []}
    assert result.engine.ledger.balances[RESERVE_FUNDING] == 0
    plan = points_of(result)
    assert (plan.minted, plan.released, plan.burnt, plan.holders) == (21000, 0, 21000, 0)


def test_a_refund_after_the_close_leaves_the_contribution_and_charges_released_points() -> None:
    result = run([*TWO_BUYERS, {"close_day": "2026-01-01"}, {"refund": "o1", "at": "2026-01-02T09:00:00"}])
    state = result.end_state()
    # A held 209.58 of the 210.00: burnt; 0.42 released are charged at NAV 1.681383 less 20%:
    # floor(0.42 × 1.681383 × 0.80) = floor(0.5649) = 0.56, from available into the reserve
    assert (state["members"]["A"]["points"], state["members"]["A"]["available"]) == ("0.00", "0.00")
    assert state["points"]["reserve"] == "599.62"  # 599.06 + 0.56: the platform bears the contribution
    assert state["points"]["outstanding"] == "146.71"
    clawback = next(t for t in result.engine.ledger.transactions if t.rule == "points_clawback")
    assert clawback.entries == ((("A", "available"), -56), (RESERVE, 56))


def test_a_refund_gives_back_the_points_the_order_was_paid_with() -> None:
    result = run([*TWO_BUYERS, {"pay": "B", "sku": "TEA", "points": "20.00"}, {"refund": "o3"}])
    balances = result.engine.ledger.balances
    assert result.end_state()["members"]["B"]["points"] == "147.00"
    assert balances[RESERVE] == 60000
    assert balances[EXTERNAL] == -200000
    assert points_of(result).burnt == 829  # the 8.29 o3 minted; the 20.00 paid with came back


def test_a_refund_never_takes_the_nav_below_its_value_before_the_order() -> None:
    # A's 1,000.00 lifts the NAV; B then spends points at the lifted NAV. Taking A's whole 300.00 back would
    # leave B's other points worth less than before A's order: the reserve gives back only what keeps the NAV.
    result = run([
        {"join": "A"}, {"join": "B"}, {"pay": "B", "sku": "BIG"},       # B 210.00, reserve 300.00, NAV 1.428571
        {"pay": "A", "sku": "BIG"},                                      # A 147.00, reserve 600.00, NAV 1.680672
        {"pay": "B", "sku": "TEA", "points": "59.50"},                   # worth 99.99: cash 0.01, nothing minted
        {"refund": "o2"},
    ], {"max_deduction_rate": "1"})
    engine = result.engine
    # B's 150.50 points must stay worth at least 1.428571 each: ceil(215.00) of the 500.01 in the reserve
    back = next(t for t in engine.ledger.transactions if t.rule == "points_earned" and t.reverses is not None)
    assert dict(back.entries)[RESERVE_FUNDING] == 28501  # not 300.00: the platform bears 14.99
    assert engine.ledger.balances[RESERVE] == 21500
    assert points_of(result).nav(engine) == 1428571
    assert result.end_state()["members"]["B"]["points"] == "150.50"


# --- config ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "key", "value"), [
    ({"reserve_rate": "0.30", "reserve_per_order": "200.00"}, "(config)", None),
    ({"initial_nav": "1.0000001"}, "initial_nav", "1.0000001"),
    ({"initial_nav": "0"}, "initial_nav", "0"),
    ({"max_deduction_rate": "1.5"}, "max_deduction_rate", "1.5"),
    ({"reserve_per_order": "0.00"}, "reserve_per_order", "0.00"),
    ({"mint_ratio": 0.7}, "mint_ratio", 0.7),
])
def test_an_invalid_config_names_the_key_and_value(config: dict[str, Any], key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        new_engine(Shop(plans={"points": config}))
    assert caught.value.problems[0][:2] == (key, value if key != "(config)" else config)


# --- reading -------------------------------------------------------------------------------------------------------


def test_a_members_page_shows_points_nav_and_value() -> None:
    result = run(TWO_BUYERS)
    assert points_of(result).holding(result.engine, "A") == {"points": "210.00", "nav": "1.680672",
                                                             "value": "352.94"}


# --- invariants after random sequences ---------------------------------------------------------------------------

MEMBERS = ["A", "B", "C", "D"]
SKUS = ["BIG", "TEA", "BOX"]
step = st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(MEMBERS), st.sampled_from(SKUS), st.integers(0, 100)),
    st.tuples(st.just("refund"), st.integers(0, 30)),
    st.tuples(st.just("close"),),
)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(step, max_size=40),
       config=st.sampled_from([{}, {"reserve_per_order": "200.00"}, {"daily_release_rate": "0.30",
                                                                     "cashout_fee_rate": "0"}]))
def test_points_invariants_hold_after_any_sequence(steps: list[tuple[Any, ...]], config: dict[str, Any]) -> None:
    products = [Product(p["sku"], int(p["price"].replace(".", ""))) for p in PRODUCTS]
    engine = new_engine(Shop(products=products, plans={"points": config}))
    plan = engine.modules["points"]
    assert isinstance(plan, Points)
    at = DEFAULT_START
    for m in MEMBERS:
        engine.apply(ev.Join(at=at, member=m))
    orders: list[str] = []
    for i, s in enumerate(steps):
        at += dt.timedelta(hours=5)
        if s[0] == "pay":
            _verb, member, sku, share = s
            held = engine.balance(member, "points")
            points = held * share // 100 if share else None
            order = f"o{i}"
            engine.apply(ev.Pay(at=at, member=member, sku=sku, order=order, points=points or None))
            orders.append(order)
        elif s[0] == "refund" and orders:
            engine.apply(ev.Refund(at=at, order=orders[s[1] % len(orders)]))
        else:
            engine.apply(ev.CloseDay(at=at, day=engine.day_of(at)))
        assert engine.check_invariants() == []
        assert plan.outstanding == plan.minted - plan.released - plan.burnt
        assert plan.reserve(engine) >= 0


# --- the member's latest release (its page's "today's release") -----------------------------------------------------


def test_the_member_read_names_the_latest_release_day_points_nav_and_cash() -> None:
    result = run([*TWO_BUYERS, {"close_day": "2026-01-01"}])
    plan, engine = points_of(result), result.engine
    # the docstring's figures: A releases 0.42 points at 1.680672, cashed 0.56; B 0.29 for 0.38
    assert plan.member_read(engine, "A")["last_release"] == {"day": "2026-01-01", "points": "0.42",
                                                             "nav": "1.680672", "cash": "0.56"}
    assert plan.member_read(engine, "B")["last_release"] == {"day": "2026-01-01", "points": "0.29",
                                                             "nav": "1.680672", "cash": "0.38"}
    day = plan.history[-1]
    assert (day.released, day.cashed) == (42 + 29, 56 + 38)  # the shop's day is the members' releases summed


def test_no_release_yet_reads_none_and_a_later_close_replaces_the_latest() -> None:
    before = run(TWO_BUYERS)
    assert points_of(before).member_read(before.engine, "A")["last_release"] is None
    result = run([*TWO_BUYERS, {"close_day": "2026-01-01"}, {"close_day": "2026-01-02"}])
    plan = points_of(result)
    latest = plan.member_read(result.engine, "A")["last_release"]
    assert latest is not None and latest["day"] == "2026-01-02"
    assert latest["nav"] == plan.shop_read(result.engine)["history"][-1]["nav"]
    # the second day's release is floor(209.58 × 0.002) = 0.41 points
    assert latest["points"] == "0.41"


def test_a_holder_below_the_release_floor_keeps_its_last_release_and_releases_nothing_more() -> None:
    # 10.00 of TEA earns floor(3.00 × 0.70) = 2.10 points: below the 5.00-point floor, never released
    result = run([{"join": "A"}, {"pay": "A", "sku": "TEA", "amount": "10.00"}, {"close_day": "2026-01-01"}])
    assert refusals(result) == []
    read = points_of(result).member_read(result.engine, "A")
    assert (read["points"], read["next_release"], read["last_release"]) == ("2.10", "0.00", None)
