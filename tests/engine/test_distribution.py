"""Distribution: commissions per level and product, bindings (first, last, expiry, renewal), eligibility, the
settlement window on refunds, withdrawal policy, refusals naming field and value, and the config's errors."""

from __future__ import annotations

from typing import Any

import pytest

from liandong import scenario as sc
from liandong.engine import Shop
from liandong.engine.module import ConfigError
from liandong.engine.plans.distribution import format_percent
from liandong.engine.registry import new_engine

PRODUCTS: list[dict[str, Any]] = [
    {"sku": "TEA", "price": "99.00"},
    {"sku": "HONEY", "price": "200.00"},
    {"sku": "GIFT", "price": "699.00", "gift_pack": True},
]
THREE_LEVELS = {"levels": 3, "rates": ["0.10", "0.05", "0.02"]}
CHAIN = [{"join": "P1"}, {"join": "P2", "referrer": "P1"}, {"join": "P3", "referrer": "P2"}, {"join": "D"},
         {"visit": "D", "promoter": "P3"}]


def run(events: list[dict[str, Any]], config: dict[str, Any] | None = None) -> sc.Replay:
    doc = {"name": "test", "plan": "distribution", "config": config or {}, "products": PRODUCTS, "events": events}
    return sc.replay(sc.parse(doc), check_invariants=True)


def members(result: sc.Replay, *keys: str) -> dict[str, tuple[Any, ...]]:
    state = result.end_state()["members"]
    return {m: tuple(view[k] for k in keys) for m, view in state.items()}


def refusals(result: sc.Replay) -> list[tuple[int, str, str, Any]]:
    return [(seq, str(r.code), r.field, r.value) for seq, r in result.engine.refused]


def commission_lines(result: sc.Replay, member: str) -> list[str]:
    """The member's statement lines about commissions (without the time stamp)."""
    lines = [line.split("  ", 1)[1] for line in sc.statement_lines(result.engine, member)]
    return [line for line in lines if "distribution commission" in line]


# --- commissions ---------------------------------------------------------------------------------------------------


def test_each_level_earns_its_rate_of_the_order_into_pending() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}], THREE_LEVELS)
    assert members(result, "pending", "available", "commission") == {
        "P1": ("1.98", "0.00", "1.98"), "P2": ("4.95", "0.00", "4.95"), "P3": ("9.90", "0.00", "9.90"),
        "D": ("0.00", "0.00", "0.00"),
    }
    commissions = [t for t in result.engine.ledger.transactions if t.rule.startswith("distribution_commission")]
    assert [(t.rule, t.order, t.source, t.ref) for t in commissions] == [
        ("distribution_commission_l1", "o1", "D", "10%"),
        ("distribution_commission_l2", "o1", "D", "5%"),
        ("distribution_commission_l3", "o1", "D", "2%"),
    ]
    assert result.end_state()["platform"]["rewards"] == "16.83"


def test_a_statement_line_names_the_order_the_buyer_the_level_and_the_rate() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}], {**THREE_LEVELS, "settle_after_days": 0})
    assert commission_lines(result, "P3") == [
        "+9.90 distribution commission · order o1 by D (level 1, 10%)  [available 9.90]"]
    assert commission_lines(result, "P2") == [
        "+4.95 distribution commission · order o1 by D (level 2, 5%)  [available 4.95]"]


def test_a_products_own_rates_override_the_plans() -> None:
    config = {**THREE_LEVELS, "product_rates": {"HONEY": ["0.20", "0.10", "0.05"]}}
    result = run([*CHAIN, {"pay": "D", "sku": "HONEY"}, {"pay": "D", "sku": "TEA"}], config)
    assert members(result, "commission") == {"P1": ("11.98",), "P2": ("24.95",), "P3": ("49.90",), "D": ("0.00",)}


def test_levels_stop_at_the_configured_depth() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}])  # levels 1 by default
    assert members(result, "commission") == {"P1": ("0.00",), "P2": ("0.00",), "P3": ("9.90",), "D": ("0.00",)}


def test_a_chain_that_comes_back_to_the_buyer_stops_there() -> None:
    result = run([{"join": "A"}, {"join": "B"}, {"visit": "A", "promoter": "B"}, {"visit": "B", "promoter": "A"},
                  {"pay": "A", "sku": "TEA"}], THREE_LEVELS)
    assert members(result, "commission") == {"A": ("0.00",), "B": ("9.90",)}


def test_self_commission_pays_the_promoter_level_1_on_its_own_order() -> None:
    result = run([*CHAIN, {"pay": "P3", "sku": "TEA"}], {**THREE_LEVELS, "self_commission": True})
    assert members(result, "commission") == {"P1": ("1.98",), "P2": ("4.95",), "P3": ("9.90",), "D": ("0.00",)}


def test_without_self_commission_a_promoters_own_order_pays_its_promoter() -> None:
    result = run([*CHAIN, {"pay": "P3", "sku": "TEA"}], THREE_LEVELS)
    assert members(result, "commission") == {"P1": ("4.95",), "P2": ("9.90",), "P3": ("0.00",), "D": ("0.00",)}


def test_a_commission_on_a_first_entry_package_is_flagged_for_the_audit() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "GIFT"}, {"pay": "D", "sku": "GIFT"}], THREE_LEVELS)
    assert result.end_state()["distribution"] == {
        "commissions": {"level 1": "139.80", "level 2": "69.90", "level 3": "27.96"},
        "entry_package_commissions": 3,  # the first gift pack's three commissions; the repeat is not flagged
    }


# --- the settlement window -----------------------------------------------------------------------------------------


def test_a_commission_refunded_inside_the_window_comes_out_of_pending() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}, {"close_day": "2026-01-07"}, {"refund": "o1"}])
    reversal = result.engine.ledger.transactions[-1]
    assert reversal.entries == ((("P3", "pending"), -990), (("@platform", "reward_expense"), 990))
    assert members(result, "pending", "available", "commission")["P3"] == ("0.00", "0.00", "0.00")


def test_a_commission_refunded_after_the_window_comes_out_of_available() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}, {"close_day": "2026-01-08"}, {"refund": "o1"}])
    reversal = result.engine.ledger.transactions[-1]
    assert reversal.entries == ((("P3", "available"), -990), (("@platform", "reward_expense"), 990))
    assert members(result, "pending", "available", "commission")["P3"] == ("0.00", "0.00", "0.00")


def test_settle_after_days_sets_the_window() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}, {"close_day": "2026-01-03"}], {"settle_after_days": 2})
    assert members(result, "pending", "available")["P3"] == ("0.00", "9.90")


# --- bindings ------------------------------------------------------------------------------------------------------


def test_binding_first_keeps_the_first_promoter() -> None:
    result = run([*CHAIN, {"visit": "D", "promoter": "P1"}, {"pay": "D", "sku": "TEA"}])
    assert members(result, "bound_to", "commission")["D"] == ("P3", "0.00")
    assert members(result, "commission")["P3"] == ("9.90",)


def test_binding_last_moves_the_buyer_to_the_latest_link() -> None:
    result = run([*CHAIN, {"visit": "D", "promoter": "P1"}, {"pay": "D", "sku": "TEA"}], {"binding": "last"})
    assert members(result, "bound_to")["D"] == ("P1",)
    assert members(result, "commission")["P1"] == ("9.90",)
    assert result.outcomes[5].facts == [{"fact": "bound", "member": "D", "promoter": "P1", "via": "link",
                                         "previous": "P3"}]


def test_a_binding_expires_binding_days_after_it_was_made_not_a_second_earlier() -> None:
    # D is bound to P3 at 2026-01-01 08:00:05; with 30 days it lasts until 2026-01-31 08:00:05
    live = run([*CHAIN, {"pay": "D", "sku": "TEA", "at": "2026-01-31T08:00:04"}], {"binding_days": 30})
    expired = run([*CHAIN, {"pay": "D", "sku": "TEA", "at": "2026-01-31T08:00:05"}], {"binding_days": 30})
    assert members(live, "commission")["P3"] == ("9.90",)
    assert members(expired, "commission")["P3"] == ("0.00",)
    assert members(expired, "bound_to")["D"] == (None,)


def test_opening_the_bound_promoters_link_again_renews_the_binding() -> None:
    result = run([*CHAIN, {"visit": "D", "promoter": "P3", "at": "2026-01-20T10:00:00"},
                  {"pay": "D", "sku": "TEA", "at": "2026-02-10T10:00:00"}], {"binding_days": 30})
    assert members(result, "commission")["P3"] == ("9.90",)


def test_after_expiry_the_next_visit_binds_anew_even_with_binding_first() -> None:
    result = run([*CHAIN, {"visit": "D", "promoter": "P1", "at": "2026-02-01T10:00:00"},
                  {"pay": "D", "sku": "TEA"}], {"binding_days": 30})
    assert members(result, "bound_to")["D"] == ("P1",)
    assert members(result, "commission")["P1"] == ("9.90",)


def test_joining_through_a_link_binds_like_opening_it() -> None:
    result = run([{"join": "A"}, {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "TEA"}])
    assert members(result, "bound_to", "commission") == {"A": (None, "9.90"), "B": ("A", "0.00")}


# --- eligibility ---------------------------------------------------------------------------------------------------


def test_with_approved_eligibility_only_approved_members_bind_and_earn() -> None:
    result = run([
        {"join": "A"}, {"join": "B", "referrer": "A"},  # A is not approved: B is not bound by joining
        {"visit": "B", "promoter": "A"},                # refused
        {"approve_promoter": "A"},
        {"visit": "B", "promoter": "A"},
        {"pay": "B", "sku": "TEA"},
        {"approve_promoter": "A"},                      # refused: already approved
        {"approve_promoter": "Z"},                      # refused: not a member
    ], {"eligibility": "approved"})
    assert refusals(result) == [(3, "not_allowed", "promoter", "A"), (7, "not_allowed", "approve_promoter", "A"),
                                (8, "member_unknown", "approve_promoter", "Z")]
    assert [r.reason for _s, r in result.engine.refused] == [
        "promoter A: not a promoter: eligibility is approved and A was not approved",
        "approve_promoter A: already approved as a promoter",
        "approve_promoter Z is not a member",
    ]
    assert members(result, "promoter", "commission") == {"A": (True, "9.90"), "B": (False, "0.00")}


def test_a_member_who_is_not_a_promoter_earns_nothing_but_the_level_above_still_counts() -> None:
    result = run([
        {"join": "P1"}, {"pay": "P1", "sku": "TEA"},    # o1: P1 is a promoter now
        {"join": "P2", "referrer": "P1"},               # P2 bound to P1
        {"pay": "P2", "sku": "TEA"},                    # o2: P1 +9.90; P2 is a promoter now
        {"join": "D", "referrer": "P2"},                # D bound to P2
        {"refund": "o2"},                               # P1 -9.90; P2 has no paid order: no longer a promoter
        {"join": "E"}, {"visit": "E", "promoter": "P2"},  # refused: P2 is no promoter
        {"pay": "D", "sku": "TEA"},                     # o3: level 1 (P2) earns nothing, level 2 (P1) +4.95
    ], {"levels": 2, "rates": ["0.10", "0.05"], "eligibility": "after_purchase"})
    assert refusals(result) == [(8, "not_allowed", "promoter", "P2")]
    assert result.engine.refused[0][1].reason == (
        "promoter P2: not a promoter: promoters need a paid order (eligibility after_purchase) and P2 has none")
    assert members(result, "promoter", "bound_to", "commission") == {
        "P1": (True, None, "4.95"), "P2": (False, "P1", "0.00"), "D": (True, "P2", "0.00"), "E": (False, None, "0.00"),
    }


# --- refusals ------------------------------------------------------------------------------------------------------


def test_every_visit_refusal_names_the_field_and_the_value() -> None:
    result = run([{"join": "A"}, {"visit": "X", "promoter": "A"}, {"visit": "A", "promoter": "Y"},
                  {"visit": "A", "promoter": "A"}])
    assert refusals(result) == [(2, "member_unknown", "visit", "X"), (3, "member_unknown", "promoter", "Y"),
                                (4, "invalid", "promoter", "A")]
    assert result.engine.refused[2][1].reason == "promoter A: a member's own link binds nobody"


def test_the_plans_events_are_refused_on_a_shop_that_does_not_run_it() -> None:
    doc = {"name": "t", "plan": "chain21", "products": PRODUCTS,
           "events": [{"join": "A"}, {"join": "B"}, {"visit": "A", "promoter": "B"}, {"approve_promoter": "A"}]}
    result = sc.replay(sc.parse(doc))
    assert refusals(result) == [(3, "plan_not_running", "visit", "distribution"),
                                (4, "plan_not_running", "approve_promoter", "distribution")]
    assert result.engine.refused[0][1].reason == "plan distribution does not run on this shop"


# --- withdrawals ---------------------------------------------------------------------------------------------------


def test_the_plans_minimum_withdrawal_and_fee_apply() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "HONEY"}, {"withdraw": "P3", "amount": "19.99"},
                  {"withdraw": "P3", "amount": "20.00"}, {"approve_withdrawal": "w2"}],
                 {"rates": ["0.10"], "settle_after_days": 0, "min_withdrawal": "20.00",
                  "withdrawal_fee_rate": "0.01"})
    assert refusals(result) == [(7, "withdrawal_below_minimum", "amount", "19.99")]
    assert members(result, "available", "withdrawn")["P3"] == ("0.00", "19.80")  # 20.00 less 1% fee


# --- config --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("config", "key", "message"), [
    ({"levels": 2}, "rates", "1 rates for 2 levels: give one rate per level"),
    ({"levels": 4, "rates": ["0.1"] * 4}, "levels", "less than or equal to 3"),
    ({"levels": 2, "rates": ["0.60", "0.50"]}, "rates", "the rates add up to 1.10, more than 1"),
    ({"product_rates": {"TEA": ["0.10", "0.05"]}}, "product_rates", "TEA: 2 rates for 1 levels"),
    ({"binding": "sticky"}, "binding", "'first' or 'last'"),
    ({"eligibility": "friends"}, "eligibility", "'anyone', 'after_purchase' or 'approved'"),
    ({"rates": ["1.5"]}, "rates.0", "1.50 is more than 1"),
])
def test_an_invalid_config_names_the_key(config: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        new_engine(Shop(plans={"distribution": config}))
    problem_key, _value, problem = caught.value.problems[0]
    assert problem_key == key
    assert message in problem


def test_format_percent_drops_trailing_zeros() -> None:
    from fractions import Fraction

    assert [format_percent(Fraction(n, d)) for n, d in [(1, 10), (1, 20), (1, 8), (1, 1), (1, 1000)]] == [
        "10%", "5%", "12.5%", "100%", "0.1%"]


# --- promoter applications (eligibility approved) -----------------------------------------------------------------


def read_of(result: sc.Replay, member: str) -> dict[str, Any]:
    read = result.engine.modules["distribution"].member_read(result.engine, member)
    assert read is not None
    return read


APPROVED = {"eligibility": "approved"}


def test_a_member_applies_the_operator_rejects_with_a_reason_and_the_member_applies_again() -> None:
    result = run([
        {"join": "A", "at": "2026-01-01T10:00:00"},
        {"apply_promoter": "A", "at": "2026-01-01T11:00:00"},
        {"reject_promoter": "A", "reason": "no shop photos yet", "at": "2026-01-02T09:00:00"},
    ], APPROVED)
    assert refusals(result) == []
    read = read_of(result, "A")
    assert read["promoter"] is False and read["can_apply"] is True
    assert read["application"] == {"status": "rejected", "applied_at": "2026-01-01T11:00:00+08:00",
                                   "decided_at": "2026-01-02T09:00:00+08:00", "reason": "no shop photos yet"}
    again = run([
        {"join": "A", "at": "2026-01-01T10:00:00"},
        {"apply_promoter": "A", "at": "2026-01-01T11:00:00"},
        {"reject_promoter": "A", "reason": "no shop photos yet", "at": "2026-01-02T09:00:00"},
        {"apply_promoter": "A", "at": "2026-01-03T09:00:00"},
    ], APPROVED)
    read = read_of(again, "A")
    assert read["application"] == {"status": "pending", "applied_at": "2026-01-03T09:00:00+08:00",
                                   "decided_at": None, "reason": None}
    assert read["can_apply"] is False


def test_approving_an_application_makes_a_promoter_and_closes_the_application() -> None:
    result = run([{"join": "A"}, {"join": "B"}, {"apply_promoter": "A"}, {"approve_promoter": "A"},
                  {"visit": "B", "promoter": "A"}, {"pay": "B", "sku": "TEA"}], APPROVED)
    assert refusals(result) == []
    read = read_of(result, "A")
    assert read["promoter"] is True and read["can_apply"] is False and read["why_not_promoter"] is None
    assert read["application"] is not None and read["application"]["status"] == "approved"
    assert read["application"]["decided_at"] is not None and read["application"]["reason"] is None
    assert read["commissions"] == [{"level": 1, "pending": "9.90", "settled": "0.00", "held": "0.00",
                                    "reversed": "0.00"}]
    assert read["commission_totals"] == {"pending": "9.90", "settled": "0.00", "held": "0.00", "reversed": "0.00"}


def test_application_refusals_name_the_field_and_the_value() -> None:
    result = run([
        {"join": "A"}, {"join": "B"},
        {"apply_promoter": "Z"},                                  # 3: not a member
        {"reject_promoter": "A", "reason": "no"},                 # 4: nothing to reject
        {"apply_promoter": "A"},
        {"apply_promoter": "A"},                                  # 6: already waiting
        {"approve_promoter": "B"},
        {"apply_promoter": "B"},                                  # 8: already approved
        {"reject_promoter": "Z", "reason": "no"},                 # 9: not a member
    ], APPROVED)
    assert refusals(result) == [
        (3, "member_unknown", "apply_promoter", "Z"), (4, "promoter_no_application", "reject_promoter", "A"),
        (6, "promoter_application_pending", "apply_promoter", "A"),
        (8, "promoter_already_approved", "apply_promoter", "B"), (9, "member_unknown", "reject_promoter", "Z")]
    assert [r.reason for _s, r in result.engine.refused][1:4] == [
        "reject_promoter A: no promoter application is waiting for a decision",
        "apply_promoter A: an application is already waiting for the operator's decision",
        "apply_promoter B is already approved as a promoter"]
    assert read_of(result, "B")["application"] is None  # approved without applying


@pytest.mark.parametrize("eligibility", ["anyone", "after_purchase"])
def test_no_application_is_made_when_eligibility_does_not_ask_for_approval(eligibility: str) -> None:
    result = run([{"join": "A"}, {"apply_promoter": "A"}], {"eligibility": eligibility})
    assert refusals(result) == [(2, "promoter_application_not_needed", "apply_promoter", "A")]
    assert result.engine.refused[0][1].reason == (
        f"apply_promoter A: eligibility is {eligibility}, so there is no application to make")
    assert read_of(result, "A")["can_apply"] is False and read_of(result, "A")["application"] is None


@pytest.mark.parametrize("reason", ["", " leading space", "a\tb", "x" * 201])
def test_a_rejection_reason_must_be_1_to_200_characters_without_control_characters(reason: str) -> None:
    with pytest.raises(Exception, match="reason"):
        run([{"join": "A"}, {"apply_promoter": "A"}, {"reject_promoter": "A", "reason": reason}], APPROVED)


def test_the_commission_totals_are_the_levels_pending_and_settled() -> None:
    result = run([*CHAIN, {"pay": "D", "sku": "TEA"}, {"close_day": "2026-01-20"}, {"pay": "D", "sku": "HONEY"}],
                 {**THREE_LEVELS, "settle_after_days": 7})
    read = read_of(result, "P2")
    zero = {"held": "0.00", "reversed": "0.00"}
    assert read["commissions"] == [{"level": 1, "pending": "0.00", "settled": "0.00", **zero},
                                   {"level": 2, "pending": "10.00", "settled": "4.95", **zero},
                                   {"level": 3, "pending": "0.00", "settled": "0.00", **zero}]
    assert read["commission_totals"] == {"pending": "10.00", "settled": "4.95", **zero}
