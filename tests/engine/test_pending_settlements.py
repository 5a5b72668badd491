"""The core's read of when each pending amount settles (``Engine.pending_settlements``, ``core_member_read``) and
the withdrawal rules as pure functions (``withdrawal_policy_of``, ``withdrawal_fee``, ``withdraw_refusal``) that the
engine decides with and the member pages quote with."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from liandong import scenario as sc
from liandong.engine.core import (
    DEFAULT_MIN_WITHDRAWAL,
    withdraw_refusal,
    withdrawal_fee,
    withdrawal_policy,
    withdrawal_policy_of,
)
from liandong.engine.errors import Code
from liandong.service.projections import member_reads

PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "99.00"}, {"sku": "HONEY", "price": "200.00"}]
BOUND = [{"join": "P", "at": "2026-03-01T09:00:00+08:00"}, {"join": "D", "at": "2026-03-01T09:00:00+08:00"},
         {"visit": "D", "promoter": "P", "at": "2026-03-01T09:00:00+08:00"}]


def run(events: list[dict[str, Any]], config: dict[str, Any] | None = None) -> sc.Replay:
    doc = {"name": "pending", "plan": "distribution", "config": config or {}, "products": PRODUCTS,
           "events": [*BOUND, *events]}
    return sc.replay(sc.parse(doc), check_invariants=True)


def pay(sku: str, day: str, hour: int = 10) -> dict[str, Any]:
    return {"pay": "D", "sku": sku, "at": f"2026-03-{day}T{hour:02d}:00:00+08:00"}


def test_each_pending_amount_is_due_on_its_orders_day_plus_the_window_and_sums_to_pending() -> None:
    result = run([pay("TEA", "01"), pay("HONEY", "01", 11), pay("TEA", "03")])  # 10% commissions, 7 days
    engine = result.engine

    assert engine.pending_settlements("P") == [(dt.date(2026, 3, 8), 990 + 2000, 2), (dt.date(2026, 3, 10), 990, 1)]
    assert sum(amount for _day, amount, _n in engine.pending_settlements("P")) == engine.balance("P", "pending")
    assert engine.pending_settlements("D") == []
    assert engine.core_member_read("P") == {"pending_settles": [
        {"day": "2026-03-08", "amount": "29.90", "rewards": 2}, {"day": "2026-03-10", "amount": "9.90", "rewards": 1}]}
    assert engine.core_member_read("D") is None


def test_a_close_on_the_due_day_settles_it_and_a_refund_takes_it_out_of_the_schedule() -> None:
    result = run([pay("TEA", "01"), pay("HONEY", "03"), {"refund": "o1", "at": "2026-03-04T10:00:00+08:00"},
                  {"pay": "D", "sku": "TEA", "at": "2026-03-05T10:00:00+08:00"}])
    engine = result.engine
    assert [(d.isoformat(), a) for d, a, _n in engine.pending_settlements("P")] == [("2026-03-10", 2000),
                                                                                    ("2026-03-12", 990)]
    later = run([pay("TEA", "01"), pay("HONEY", "03"), {"close_day": "2026-03-07"}, {"close_day": "2026-03-08"}])
    assert [(d.isoformat(), a) for d, a, _n in later.engine.pending_settlements("P")] == [("2026-03-10", 2000)]
    assert later.engine.balance("P", "available") == 990
    done = run([pay("TEA", "01"), {"close_day": "2026-03-12"}])  # a close after the due day settles it too
    assert done.engine.pending_settlements("P") == [] and done.engine.core_member_read("P") is None


def test_the_worker_projects_the_core_read_as_the_members_reads_core() -> None:
    engine = run([pay("TEA", "01")]).engine
    reads, _operator = member_reads(engine, "P")
    assert reads["core"] == {"pending_settles": [{"day": "2026-03-08", "amount": "9.90", "rewards": 1}]}
    assert "core" not in member_reads(engine, "D")[0]  # nothing pending: left out, as a module that shows nothing


def test_real_time_rewards_have_no_schedule() -> None:
    engine = run([pay("TEA", "01")], {"settle_after_days": 0}).engine
    assert engine.balance("P", "available") == 990 and engine.pending_settlements("P") == []


def test_the_fee_rule_is_floor_of_the_rate_and_the_engine_charges_it_at_approval() -> None:
    assert withdrawal_fee(6000, Fraction(1, 100)) == 60
    assert withdrawal_fee(1999, Fraction(3, 100)) == 59  # 59.97 fen, floored
    assert withdrawal_fee(6000, None) == 0 and withdrawal_fee(6000, Fraction(0)) == 0
    result = run([pay("HONEY", "01"), {"close_day": "2026-03-08"},
                  {"withdraw": "P", "amount": "19.99", "withdrawal": "w1", "at": "2026-03-09T10:00:00+08:00"},
                  {"approve_withdrawal": "w1", "at": "2026-03-09T11:00:00+08:00"}],
                 {"withdrawal_fee_rate": "0.03", "min_withdrawal": "1.00"})
    engine = result.engine
    minimum, rate = withdrawal_policy(engine)
    assert (minimum, rate) == (100, Fraction(3, 100))
    assert engine.withdrawals["w1"].fee == withdrawal_fee(1999, rate) == 59
    assert engine.balance("P", "withdrawn") == 1999 - 59


def test_the_policy_comes_from_the_plans_alone() -> None:
    engine = run([], {"withdrawal_fee_rate": "0.02", "min_withdrawal": "50.00"}).engine
    assert withdrawal_policy_of(engine.plans) == withdrawal_policy(engine) == (5000, Fraction(2, 100))
    assert withdrawal_policy_of([]) == (DEFAULT_MIN_WITHDRAWAL, None)


def test_a_withdrawal_is_refused_below_the_minimum_then_above_available_with_the_engines_reason() -> None:
    below = withdraw_refusal(500, 1000, 99999)
    assert below is not None and below.code == Code.WITHDRAWAL_BELOW_MINIMUM and below.field == "amount"
    assert below.reason == "amount 5.00 is below the minimum withdrawal 10.00"
    above = withdraw_refusal(5000, 1000, 1200)
    assert above is not None and above.code == Code.WITHDRAWAL_ABOVE_AVAILABLE
    assert above.reason == "amount 50.00 is more than the available balance 12.00"
    assert withdraw_refusal(1200, 1000, 1200) is None
    assert withdraw_refusal(1000, 1000, -500) is not None  # a debt: nothing can be withdrawn
    result = run([pay("HONEY", "01"), {"close_day": "2026-03-08"},
                  {"withdraw": "P", "amount": "25.00", "withdrawal": "w1", "at": "2026-03-09T10:00:00+08:00"}])
    refused = [r for _seq, r in result.engine.refused]
    assert [r.reason for r in refused] == [withdraw_refusal(2500, 1000, 2000).reason]  # type: ignore[union-attr]
