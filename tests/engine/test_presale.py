"""The pre-sale tiered rebate: check figures, free draws, the close by target and by the clock, refunds, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from liandong import scenario as sc
from liandong.engine.campaigns.base import escrow
from liandong.engine.campaigns.presale import Presale, PresaleParams, presale_figures
from liandong.engine.core import SALES, Engine, Outcome, Product, Shop
from liandong.engine.draw import DrawRecord, pick, verify_record
from liandong.engine.errors import Code
from liandong.engine.events import EVENT_TYPES
from liandong.engine.money import format_fen
from liandong.engine.registry import new_engine

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SECRET = "00" * 31 + "01"
START = dt.datetime.fromisoformat("2026-01-01T08:00:00+08:00")
DEADLINE = "2026-01-01T12:00:00+08:00"
SMALL = {"sku": "ORANGE", "price": "10.00", "tier_size": 2, "tier_rebate": "1.00", "max_tiers": 3,
         "free_every": 3, "target": 10, "deadline": DEADLINE, "secret": SECRET}


def make_engine(plans: dict[str, dict[str, Any]] | None = None, gift_pack: bool = False) -> Engine:
    products = [Product("ORANGE", 10000, gift_pack=gift_pack), Product("TEA", 5900)]
    return new_engine(Shop(products=products, plans=plans or {}, start=START))


def act(engine: Engine, verb: str, at: str | None = None, **fields: Any) -> Outcome:
    when = dt.datetime.fromisoformat(at) if at else engine.clock + dt.timedelta(seconds=1)
    cls = EVENT_TYPES[verb]
    if cls.creates_draw:  # the caller brings a draw's secret (the service logs one); the test's own wins
        fields["params"] = {"secret": "ab" * 32, **(fields.get("params") or {})}
    outcome = engine.apply(cls(at=when, **fields))
    assert engine.check_invariants() == []
    return outcome


def view(engine: Engine, campaign: str = "p1") -> dict[str, Any]:
    module = engine.modules["presale"]
    assert isinstance(module, Presale)
    return module.campaign_view(engine, module.campaigns[campaign])


def refusal_of(outcome: Outcome) -> tuple[str, str, Any]:
    assert outcome.refusal is not None, "expected a refusal"
    return str(outcome.refusal.code), outcome.refusal.field, outcome.refusal.value


def small_presale(engine: Engine, members: str = "ABCDEFG", **params: Any) -> None:
    for member in members:
        act(engine, "join", member=member)
    assert act(engine, "create_presale", campaign="p1", params={**SMALL, **params}).applied


def join(engine: Engine, member: str, order: str | None = None) -> Outcome:
    return act(engine, "join_presale", member=member, campaign="p1", order=order or f"ps-{member}")


# --- the check figure ---------------------------------------------------------------------------------------------


def test_check_figure_forecast_is_92000_net_and_12000_margin() -> None:
    params = PresaleParams(sku="ORANGE", deadline=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    figures = presale_figures(params, 2000, unit_cost=3000, shipping=1000)
    assert (figures.tiers, figures.free, figures.units) == (10, 80, 2000)
    assert format_fen(figures.paid) == "200000.00"
    assert format_fen(figures.rebates) == "100000.00"
    assert format_fen(figures.returned_free) == "8000.00"
    assert format_fen(figures.net_revenue) == "92000.00"
    assert figures.margin is not None and format_fen(figures.margin) == "12000.00"


def test_forecast_caps_participants_at_the_target_and_needs_both_costs_for_a_margin() -> None:
    params = PresaleParams(sku="ORANGE", deadline=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), target=100)
    figures = presale_figures(params, 5000, unit_cost=3000)
    assert (figures.participants, figures.tiers, figures.free, figures.margin) == (100, 0, 4, None)
    assert format_fen(figures.net_revenue) == "9600.00"  # 100 x 100.00 - 4 free


def test_check_figure_through_the_engine_2000_participants() -> None:
    engine = make_engine()
    params = {"sku": "ORANGE", "deadline": "2026-01-31T20:00:00+08:00", "unit_cost": "30.00", "shipping": "10.00",
              "secret": SECRET}
    assert engine.apply(EVENT_TYPES["create_presale"](at=START, campaign="p1", params=params)).applied
    for n in range(1, 2001):
        at = START + dt.timedelta(seconds=n)
        engine.apply(EVENT_TYPES["join"](at=at, member=f"m{n}"))
        engine.apply(EVENT_TYPES["join_presale"](at=at, member=f"m{n}", campaign="p1", order=f"ps{n}"))
    assert engine.refused == []
    assert engine.check_invariants() == []
    v = view(engine)
    assert v["status"] == "closed" and v["tiers"] == 10 and v["price_now"] == "50.00" and len(v["free"]) == 80
    f = v["figures"]
    assert (f["paid"], f["rebates"], f["returned_free"]) == ("200000.00", "100000.00", "8000.00")
    assert (f["net_revenue"], f["margin"], f["sales"]) == ("92000.00", "12000.00", "96000.00")
    assert format_fen(engine.ledger.balance(SALES)) == "96000.00"
    assert engine.ledger.balance(escrow("p1")) == 0
    assert len(engine.draws) == 80
    assert all(verify_record(DrawRecord.from_json(record)) == [] for record in engine.draws)
    # each draw was over the not-yet-free participants at that moment: 25, 49, 73, ... entries
    assert [len(record["entries"]) for record in engine.draws[:3]] == [25, 49, 73]


def test_committed_check_figure_file_is_what_its_generator_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("presale_check_figure", SCENARIOS / "presale_check_figure.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (SCENARIOS / "presale-check-figure.yaml").read_text(encoding="utf-8") == generator.render()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("presale-*.yaml")), ids=lambda p: p.name)
def test_scenario_file_holds(path: Path) -> None:
    scenario = sc.load(path)
    per_event = len(scenario.events) < 500  # the check figure's 4,000 events: its invariants once, at the end
    result = sc.replay(scenario, check_invariants=per_event)
    assert result.engine.check_invariants() == []
    assert scenario.expect is not None
    assert sc.compare(scenario.expect, result.end_state()) == []


# --- free draws, tiers, the close -------------------------------------------------------------------------------


def test_every_free_every_th_participant_triggers_a_draw_among_those_not_yet_free() -> None:
    engine = make_engine()
    small_presale(engine)
    for member in "ABC":
        join(engine, member)
    assert view(engine)["free"] == pick(SECRET, "p1", ["A", "B", "C"], 1) == ["B"]
    assert engine.balance("B", "available") == 0  # the price goes back to the payment, not to a balance
    assert engine.ledger.balance(escrow("p1")) == 2000
    for member in "DEF":
        join(engine, member)
    assert view(engine)["free"] == ["B", pick(SECRET, "p1", ["A", "C", "D", "E", "F"], 1)[0]]


def test_draw_records_and_the_secret_are_published_only_at_the_close() -> None:
    engine = make_engine()
    small_presale(engine)
    for member in "ABC":
        join(engine, member)
    assert engine.draws == [] and view(engine)["secret"] is None
    act(engine, "tick", at=DEADLINE)
    assert view(engine)["secret"] == SECRET
    assert engine.draws == [DrawRecord(campaign="p1", operation="pick", commitment=view(engine)["commitment"],
                                       secret=SECRET, entries=["A", "B", "C"], result=["B"], k=1).to_json()]


def test_leaving_and_joining_again_never_adds_a_free_draw() -> None:
    engine = make_engine()
    small_presale(engine)
    for member in "ABC":
        join(engine, member)
    act(engine, "leave_presale", member="A", campaign="p1")
    join(engine, "D")  # 3 again
    assert len(view(engine)["free"]) == 1
    act(engine, "leave_presale", member="C", campaign="p1")
    join(engine, "C", order="ps-C2")  # 3 again
    assert len(view(engine)["free"]) == 1
    assert view(engine)["next_free_at"] == 6


def test_tiers_lower_the_price_for_everyone_up_to_max_tiers() -> None:
    engine = make_engine()
    small_presale(engine)
    prices = []
    for member in "ABCDEFG":
        join(engine, member)
        prices.append(view(engine)["price_now"])
    assert prices == ["10.00", "9.00", "9.00", "8.00", "8.00", "7.00", "7.00"]  # 3 tiers at most
    assert view(engine)["next_tier_at"] is None


def test_reaching_the_target_closes_at_once_with_escrow_zero() -> None:
    engine = make_engine()
    small_presale(engine, target=4)
    for member in "ABCD":
        join(engine, member)
    v = view(engine)
    assert v["status"] == "closed" and v["escrow"] == "0.00" and v["tiers"] == 2
    # A, C, D paid 10.00 - 2 x 1.00 = 8.00; B was drawn free (0.00)
    assert format_fen(engine.ledger.balance(SALES)) == "24.00"
    assert engine.orders["ps-B"].amount == 0 and engine.orders["ps-A"].amount == 800
    assert refusal_of(join(engine, "E")) == ("closed", "campaign", "p1")


def test_the_deadline_closes_by_the_clock_before_the_next_event_is_checked() -> None:
    engine = make_engine()
    small_presale(engine)
    join(engine, "A")
    join(engine, "B")
    outcome = act(engine, "join", member="Z", at="2026-01-01T12:00:05+08:00")  # any event after the deadline
    assert outcome.applied
    v = view(engine)
    assert v["status"] == "closed" and v["closed_at"] == "2026-01-01T12:00:05+08:00" and v["escrow"] == "0.00"
    assert format_fen(engine.ledger.balance(SALES)) == "18.00"  # 1 tier: 2 x 9.00


def test_a_closed_campaign_with_nobody_holds_nothing() -> None:
    engine = make_engine()
    small_presale(engine)
    act(engine, "tick", at="2026-01-02T00:00:00+08:00")
    assert view(engine)["status"] == "closed" and engine.ledger.balance(escrow("p1")) == 0 and engine.draws == []


# --- refunds ------------------------------------------------------------------------------------------------------


def test_leaving_before_the_close_returns_the_whole_price() -> None:
    engine = make_engine()
    small_presale(engine)
    join(engine, "A")
    act(engine, "leave_presale", member="A", campaign="p1")
    assert engine.ledger.balance(escrow("p1")) == 0
    assert engine.orders["ps-A"].refunded
    assert engine.member_view("A")["presales"]["p1"] == {
        "order": "ps-A", "joined_at": "2026-01-01T08:00:09+08:00", "status": "left", "free": False,
        "paid": "10.00", "returned": "10.00", "rebate": "0.00", "net": "0.00"}


def test_a_refund_after_the_close_returns_the_net_price_and_keeps_the_tiers() -> None:
    engine = make_engine()
    small_presale(engine, target=4)
    for member in "ABCD":
        join(engine, member)
    assert act(engine, "refund", order="ps-A").applied
    assert format_fen(engine.ledger.balance(SALES)) == "16.00"
    v = view(engine)
    assert v["tiers"] == 2 and v["figures"]["refunded"] == "8.00" and v["figures"]["net_revenue"] == "14.00"


def test_a_purchase_earns_no_plan_reward_unless_plans_apply() -> None:
    ranks = {}
    for plans_apply in (False, True):
        # every fixed chain21 reward at most ORANGE's 100.00 (a reward above a gift pack's price is refused)
        within = {"direct_reward": {"agent": "100.00", "partner": "100.00"}, "team_reward": "100.00",
                  "self_rebate": {"agent": "100.00", "partner": "100.00"}}
        engine = make_engine(plans={"chain21": within}, gift_pack=True)
        small_presale(engine, members="R", target=4, plans_apply=plans_apply)
        act(engine, "pay", member="R", sku="ORANGE", order="r-gift")  # R becomes an agent
        for member in "ABCD":
            act(engine, "join", member=member, referrer="R")
            join(engine, member)  # B is drawn free at 3
        ranks[plans_apply] = (engine.member_view("R")["available"], engine.member_view("R")["help_fund"],
                              engine.member_view("A")["rank"], engine.member_view("B")["rank"])
        assert engine.orders["ps-B"].rewards == []  # a free product never earns a plan reward
    assert ranks[False] == ("0.00", "0.00", "member", "member")
    # A and C: 100.00 each to the agent R, who is then a partner; D: 100.00, 20% of it to the help fund
    assert ranks[True] == ("280.00", "20.00", "agent", "member")


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"price": "abc"}, ("invalid", "params.price", "abc")),
        ({"colour": "red"}, ("invalid", "params.colour", "red")),
        ({"sku": "NOPE"}, ("product_unknown", "params.sku", "NOPE")),
        ({"deadline": "2026-01-01T12:00:00"}, ("invalid", "params.deadline", "2026-01-01T12:00:00")),
        ({"deadline": "2025-12-31T12:00:00+08:00"}, ("invalid", "params.deadline", "2025-12-31T12:00:00+08:00")),
        ({"tier_rebate": "4.00"}, ("invalid", "params.max_tiers", 3)),  # 3 x 4.00 > 10.00
        ({"free_every": 0}, ("invalid", "params.free_every", 0)),
        ({"secret": "xyz"}, ("invalid", "params.secret", "xyz")),
    ],
)
def test_create_refuses_invalid_parameters_naming_the_key(params: dict[str, Any],
                                                          expected: tuple[str, str, Any]) -> None:
    engine = make_engine()
    count = engine.ledger.count
    assert refusal_of(act(engine, "create_presale", campaign="p1", params={**SMALL, **params})) == expected
    assert "p1" not in engine.modules["presale"].campaigns  # type: ignore[attr-defined]
    assert engine.ledger.count == count


def test_create_refuses_a_campaign_id_already_used() -> None:
    engine = make_engine()
    small_presale(engine)
    assert refusal_of(act(engine, "create_presale", campaign="p1", params=SMALL)) == ("exists", "campaign", "p1")


def test_join_refusals_name_the_field_and_value() -> None:
    engine = make_engine()
    small_presale(engine)
    act(engine, "create_presale", campaign="p2", params=SMALL, publish=False)
    join(engine, "A")
    act(engine, "pay", member="A", sku="TEA", order="o1")
    count = engine.ledger.count
    cases = [
        (dict(member="B", campaign="nope", order="x1"), ("not_found", "campaign", "nope")),
        (dict(member="B", campaign="p2", order="x2"), ("not_allowed", "campaign", "p2")),
        (dict(member="Q", campaign="p1", order="x3"), ("member_unknown", "member", "Q")),
        (dict(member="A", campaign="p1", order="x4"), ("not_allowed", "member", "A")),
        (dict(member="B", campaign="p1", order="o1"), ("order_exists", "order", "o1")),
    ]
    for fields, expected in cases:
        assert refusal_of(act(engine, "join_presale", **fields)) == expected
    assert engine.ledger.count == count


def test_a_join_may_not_take_the_order_id_of_a_group_seat_still_open() -> None:
    """Regression (found by the all-modules state machine): a group seat's order (``g1-A``) enters the orders only
    when it wins the draw, so a pre-sale entry that took that id was replaced by the winner's order at the draw,
    and the winner's by the entry's sale at the close: one of the two purchases could never be refunded."""
    engine = make_engine()
    small_presale(engine)
    assert act(engine, "create_group_buy", campaign="gb1",
               params={"sku": "TEA", "group_size": 2, "winners": 1, "secret": SECRET}).applied
    assert act(engine, "start_group_buy", member="A", campaign="gb1", group="g1").applied
    count = engine.ledger.count
    assert refusal_of(join(engine, "B", order="g1-A")) == ("order_exists", "order", "g1-A")
    assert engine.ledger.count == count


def test_leave_and_refund_refusals_name_the_field_and_value() -> None:
    engine = make_engine()
    small_presale(engine)
    for member in "ABC":
        join(engine, member)  # B is drawn free
    assert refusal_of(act(engine, "leave_presale", member="D", campaign="p1")) == ("not_allowed", "member", "D")
    assert refusal_of(act(engine, "leave_presale", member="B", campaign="p1")) == ("not_allowed", "member", "B")
    assert refusal_of(act(engine, "refund", order="ps-A")) == (str(Code.ORDER_NOT_REFUNDABLE), "order", "ps-A")
    act(engine, "tick", at=DEADLINE)
    assert refusal_of(act(engine, "leave_presale", member="A", campaign="p1")) == ("closed", "campaign", "p1")
    assert refusal_of(act(engine, "refund", order="ps-B")) == ("not_allowed", "order", "ps-B")


def test_published_rules_are_frozen_and_a_late_draft_cannot_be_published() -> None:
    engine = make_engine()
    small_presale(engine)
    update = act(engine, "update_campaign", campaign="p1", params={"price": "5.00"})
    assert refusal_of(update) == ("frozen", "campaign", "p1")
    act(engine, "create_presale", campaign="p2", params=SMALL, publish=False)
    act(engine, "tick", at="2026-01-01T13:00:00+08:00")
    assert refusal_of(act(engine, "publish_campaign", campaign="p2")) == ("invalid", "params.deadline", DEADLINE)


def test_the_view_tells_a_member_the_joins_to_the_next_tier_and_free_draw_and_the_price_then() -> None:
    engine = make_engine()
    small_presale(engine)  # 10.00, a tier of 1.00 every 2 joins (3 at most), a free draw every 3, target 10
    v = view(engine)
    assert (v["joins_to_next_tier"], v["price_at_next_tier"], v["joins_to_next_free"]) == (2, "9.00", 3)
    assert (v["rebate_now"], v["lowest_price"]) == ("0.00", "7.00")
    for member in "ABC":
        join(engine, member)
    v = view(engine)  # 3 joined: tier 1 reached, the first free draw done
    assert (v["tiers"], v["rebate_now"], v["price_now"]) == (1, "1.00", "9.00")
    assert (v["next_tier_at"], v["joins_to_next_tier"], v["price_at_next_tier"]) == (4, 1, "8.00")
    assert (v["next_free_at"], v["joins_to_next_free"]) == (6, 3)
    leaver = next(m for m in "ABC" if m not in v["free"])
    assert act(engine, "leave_presale", member=leaver, campaign="p1").applied
    v = view(engine)  # 2 left: the next free draw is still at 6 (the highest count was 3), 4 joins away
    assert (v["participants"], v["next_free_at"], v["joins_to_next_free"], v["joins_to_next_tier"]) == (2, 6, 4, 2)
    for member in "DEFG":
        join(engine, member)
    v = view(engine)  # 6 joined: the last tier (3) reached, so no next tier
    assert (v["tiers"], v["joins_to_next_tier"], v["price_at_next_tier"], v["rebate_now"]) == (3, None, None,
                                                                                            "3.00")


def test_each_entry_shows_the_rebate_it_got_at_the_close() -> None:
    engine = make_engine()
    small_presale(engine, target=4)
    for member in "ABCD":
        join(engine, member)
    v = view(engine)
    assert v["status"] == "closed" and v["rebate_now"] == "2.00"
    assert (v["joins_to_next_tier"], v["joins_to_next_free"], v["price_at_next_tier"]) == (None, None, None)
    entries = {m: engine.member_view(m)["presales"]["p1"] for m in "ABCD"}
    assert {e["rebate"] for e in entries.values()} == {"2.00"}, "everyone, free ones too, gets tiers x rebate"
    for member, entry in entries.items():
        assert entry["returned"] == ("12.00" if member in v["free"] else "2.00")
