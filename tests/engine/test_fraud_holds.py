"""Fraud holds: each rule flags a crafted case and leaves an honest one alone; a held reward waits in ``held`` with
its rule, evidence and review date; release, reject and ban move the money as the ledger says; a refund takes a held
reward back from ``held``; a lapsed review stays held (overdue), never released by time."""

from __future__ import annotations

from typing import Any

from liandong import scenario as sc
from liandong.engine.plans.fraud_holds import FraudHolds, normalise_email, normalise_phone

PRODUCTS: list[dict[str, Any]] = [{"sku": "GIFT", "price": "699.00", "gift_pack": True},
                                  {"sku": "TEA", "price": "59.00"}]
ALL_RULES: dict[str, Any] = {"self_referral": {"levels": 3}, "duplicate_payout": {}}


def run(events: list[dict[str, Any]], holds: dict[str, Any] | None = None) -> sc.Replay:
    plans = {"chain21": {"skus": ["GIFT"]}, "fraud_holds": ALL_RULES if holds is None else holds}
    doc = {"name": "test", "plans": plans, "products": PRODUCTS, "events": events}
    result = sc.replay(sc.parse(doc), check_invariants=True)
    assert result.engine.check_invariants() == []
    return result


def module(result: sc.Replay) -> FraudHolds:
    m = result.engine.modules["fraud_holds"]
    assert isinstance(m, FraudHolds)
    return m


def refusals(result: sc.Replay) -> list[str]:
    return [str(r.code) for _seq, r in result.engine.refused]


def pair(a_signals: dict[str, str], b_signals: dict[str, str], holds: dict[str, Any] | None = None,
         more: list[dict[str, Any]] | None = None) -> sc.Replay:
    """A joins and buys; B joins under A with its own signals and buys: A's 100.00 direct reward is at stake."""
    return run([{"observe_signals": "A", **a_signals}, {"join": "A"}, {"pay": "A", "sku": "GIFT"},
                {"observe_signals": "B", **b_signals}, {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"},
                *(more or [])], holds)


def test_contacts_are_normalised() -> None:
    assert normalise_email(" A.B+promo@GoogleMail.com ") == "ab@gmail.com"
    assert normalise_email("a.b+x@qq.com") == "a.b@qq.com"
    assert normalise_phone("+86 138-0013-8000") == normalise_phone("13800138000") == "13800138000"


def test_self_referral_flags_a_shared_device_and_leaves_an_honest_buyer_alone() -> None:
    flagged = pair({"device": "d1"}, {"device": "d1"})
    engine = flagged.engine
    assert engine.balance("A") == 0 and engine.balance("A", "held") == 10000
    (hold,) = module(flagged).holds_of(engine, "A")
    assert hold["rule"] == "self_referral" and hold["evidence"] == {"signal": "device", "other": "A", "buyer": "B"}
    assert hold["amount"] == "100.00" and hold["status"] == "held" and hold["review_by"] == "2026-01-08"
    honest = pair({"device": "d1"}, {"device": "d2", "user_agent": "same browser"})
    assert honest.engine.balance("A") == 10000 and honest.engine.balance("A", "held") == 0
    assert module(honest).holds == {}


def test_self_referral_matches_normalised_contacts_and_the_upline() -> None:
    flagged = pair({"email": "ab@googlemail.com"}, {"email": "A.B+second@gmail.com"})
    (hold,) = module(flagged).holds_of(flagged.engine, "A")
    assert hold["evidence"]["signal"] == "email"
    # U <- A <- B: B shares A's address; U's reward on B's order is held (A stands between them), U's honest one not
    result = run([{"join": "U"}, {"pay": "U", "sku": "GIFT"},
                  {"observe_signals": "A", "address": "10.0.0.9"}, {"join": "A", "referrer": "U"},
                  {"observe_signals": "B", "address": "10.0.0.9"}, {"join": "B", "referrer": "A"},
                  {"pay": "A", "sku": "GIFT"}, {"pay": "B", "sku": "GIFT"}],
                 {"self_referral": {"signals": ["device", "address"]}})
    m, engine = module(result), result.engine
    assert [(h["member"], h["evidence"]["other"]) for h in m.open_holds(engine)] == [("A", "A")]
    # a reward to U (two levels up) caused by B: A, between them, shares B's address
    upline = m.flag(engine, "U", 5000, "team_reward", engine.orders["o3"], "B")
    assert upline is not None and upline.rule == "self_referral" and upline.evidence["other"] == "A"
    # with levels 1, U is beyond the line checked (only A, B's referrer, is)
    assert m._self_referral(engine, "B", "U", 1) is None
    assert m.flag(engine, "U", 5000, "team_reward", None, "A") is None  # A shares nothing with U


def test_self_referral_off_holds_nothing() -> None:
    result = pair({"device": "d1"}, {"device": "d1"}, holds={})
    assert result.engine.balance("A") == 10000 and module(result).holds == {}


def test_duplicate_payout_flags_a_shared_payout_account() -> None:
    rules = {"duplicate_payout": {}}
    flagged = run([{"observe_signals": "Z", "payout": "hash-1"}, {"join": "Z"},
                   {"observe_signals": "A", "payout": "hash-1"}, {"join": "A"}, {"pay": "A", "sku": "GIFT"},
                   {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"}], rules)
    (hold,) = module(flagged).holds_of(flagged.engine, "A")
    assert hold["rule"] == "duplicate_payout" and hold["evidence"] == {"signal": "payout", "other": "Z"}
    honest = run([{"observe_signals": "Z", "payout": "hash-1"}, {"join": "Z"},
                  {"observe_signals": "A", "payout": "hash-2"}, {"join": "A"}, {"pay": "A", "sku": "GIFT"},
                  {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"}], rules)
    assert honest.engine.balance("A") == 10000 and module(honest).holds == {}


def test_join_velocity_flags_a_burst_of_joins_under_one_referrer() -> None:
    rules = {"join_velocity": {"max_joins": 2, "hours": 24}}
    burst = [{"join": "A"}, {"pay": "A", "sku": "GIFT"},
             {"join": "B1", "referrer": "A"}, {"join": "B2", "referrer": "A"}, {"join": "B3", "referrer": "A"},
             {"pay": "B1", "sku": "GIFT"}]
    flagged = run(burst, rules)
    (hold,) = module(flagged).holds_of(flagged.engine, "A")
    assert hold["rule"] == "join_velocity" and hold["evidence"] == {"joins": "3", "hours": "24"}
    spread = [{"join": "A"}, {"pay": "A", "sku": "GIFT"},
              {"join": "B1", "referrer": "A", "at": "2026-01-01T09:00:00+08:00"},
              {"join": "B2", "referrer": "A", "at": "2026-01-02T09:00:00+08:00"},
              {"join": "B3", "referrer": "A", "at": "2026-01-03T09:00:00+08:00"},
              {"pay": "B1", "sku": "GIFT"}]
    honest = run(spread, rules)
    assert module(honest).holds == {} and honest.engine.balance("A") == 10000


def test_refund_rate_flags_a_referrer_whose_buyers_refund() -> None:
    rules = {"refund_rate": {"at_least": "0.50", "min_orders": 2}}
    start = [{"join": "A"}, {"pay": "A", "sku": "GIFT"}, {"join": "B", "referrer": "A"}, {"join": "C", "referrer": "A"},
             {"join": "D", "referrer": "A"}, {"pay": "B", "sku": "TEA"}]
    flagged = run([*start, {"refund": "o2"}, {"pay": "C", "sku": "GIFT"}, {"pay": "D", "sku": "GIFT"}], rules)
    holds = module(flagged).holds_of(flagged.engine, "A")
    assert [h["rule"] for h in holds] == ["refund_rate"]  # o3 (C): 1 of 1 order refunded, under min_orders
    assert holds[0]["evidence"] == {"refunded": "1", "orders": "2", "at_least": "0.50"} and holds[0]["order"] == "o4"
    honest = run([*start, {"pay": "C", "sku": "GIFT"}, {"pay": "D", "sku": "GIFT"}], rules)
    assert module(honest).holds == {}


def test_release_moves_held_to_available() -> None:
    result = pair({"device": "d1"}, {"device": "d1"}, more=[{"release_hold": "h7"}])
    engine = result.engine
    assert engine.balance("A") == 10000 and engine.balance("A", "held") == 0
    txn = engine.ledger.transactions[-1]
    assert txn.rule == "hold_released" and txn.ref == "h7"
    assert dict(txn.entries) == {("A", "held"): -10000, ("A", "available"): 10000}
    assert module(result).holds["h7"].status == "released"
    again = pair({"device": "d1"}, {"device": "d1"}, more=[{"release_hold": "h7"}, {"release_hold": "h7"},
                                                         {"release_hold": "h99"}])
    assert refusals(again) == ["hold_decided", "hold_unknown"]


def test_reject_returns_the_reward_to_the_platform_and_a_refund_takes_nothing_twice() -> None:
    result = pair({"device": "d1"}, {"device": "d1"},
                  more=[{"reject_hold": "h7", "reason": "B is A's second account"}, {"refund": "o2"}])
    engine = result.engine
    assert engine.balance("A") == 0 and engine.balance("A", "held") == 0
    reject = next(t for t in engine.ledger.transactions if t.rule == "hold_rejected")
    assert dict(reject.entries) == {("A", "held"): -10000, ("@platform", "reward_expense"): 10000}
    assert reject.reverses == 7
    hold = module(result).holds["h7"]
    assert hold.status == "rejected" and hold.reason == "B is A's second account"
    assert engine.ledger.balance(("@platform", "reward_expense")) == 0  # returned; the refund took nothing
    assert engine.ledger.rewards_fen() == 0  # a rejected reward is not a reward paid
    empty = pair({"device": "d1"}, {"device": "d1"}, more=[{"reject_hold": "h7", "reason": " "}])
    assert refusals(empty) == ["hold_reason_invalid"]


def test_a_refund_takes_a_held_reward_back_from_held() -> None:
    result = pair({"device": "d1"}, {"device": "d1"}, more=[{"refund": "o2"}, {"release_hold": "h7"}])
    engine = result.engine
    assert engine.balance("A") == 0 and engine.balance("A", "held") == 0
    assert module(result).holds["h7"].status == "refunded"
    assert refusals(result) == ["hold_decided"]


def test_ban_rejects_open_holds_and_holds_every_later_reward() -> None:
    result = pair({"device": "d1"}, {"device": "d1"},
                  more=[{"ban_member": "A", "reason": "a ring of fake accounts"},
                        {"observe_signals": "C", "device": "d3"}, {"join": "C", "referrer": "A"},
                        {"pay": "C", "sku": "GIFT"}, {"ban_member": "A", "reason": "again"}])
    engine, m = result.engine, module(result)
    assert m.holds["h7"].status == "rejected" and m.holds["h7"].reason == "a ring of fake accounts"
    later = [h for h in m.holds_of(engine, "A") if h["status"] == "held"]
    assert [h["rule"] for h in later] == ["banned"] and engine.balance("A", "held") == 10000
    assert engine.balance("A") == 0 and refusals(result) == ["member_banned"]
    assert m.member_read(engine, "A")["banned"] is True


def test_a_lapsed_review_stays_held_and_shows_overdue() -> None:
    result = pair({"device": "d1"}, {"device": "d1"}, more=[{"close_day": "2026-01-20"}])
    engine = result.engine
    (hold,) = module(result).holds_of(engine, "A")
    assert hold["status"] == "held" and hold["overdue"] is True and engine.balance("A", "held") == 10000
    assert engine.balance("A") == 0


def test_a_held_reward_is_owed_in_the_proof_of_liabilities() -> None:
    from liandong.service.liabilities import FIELDS, OWED, snapshot

    result = pair({"device": "d1"}, {"device": "d1"})
    tree = snapshot(result.engine, "2026-01-01", b"k")
    leaf = tree.leaf_of("A")
    assert leaf is not None
    amounts = dict(zip(FIELDS, leaf.amounts, strict=True))
    assert amounts["other"] == 10000 and amounts["available"] == 0
    assert sum(amounts[f] for f in OWED) == 10000
    released = pair({"device": "d1"}, {"device": "d1"}, more=[{"release_hold": "h7"}])
    leaf = snapshot(released.engine, "2026-01-01", b"k").leaf_of("A")
    assert leaf is not None and dict(zip(FIELDS, leaf.amounts, strict=True))["available"] == 10000


def test_a_shared_address_alone_is_not_self_referral_unless_the_rule_names_it() -> None:
    shared = {"address": "10.0.0.9"}
    assert module(pair(shared, shared)).holds == {}
    named = pair(shared, shared, holds={"self_referral": {"signals": ["address"]}})
    assert [h["evidence"]["signal"] for h in module(named).holds_of(named.engine, "A")] == ["address"]


def distribution_pair(more: list[dict[str, Any]]) -> sc.Replay:
    """A promoter P and a buyer B on P's phone: P's 10% commission on B's 59.00 TEA (5.90) is held."""
    doc = {"name": "test", "products": PRODUCTS, "plans": {"distribution": {"rates": ["0.10"]},
                                                           "fraud_holds": ALL_RULES},
           "events": [{"observe_signals": "P", "device": "d1"}, {"join": "P"},
                      {"observe_signals": "B", "device": "d1"}, {"join": "B", "referrer": "P"},
                      {"pay": "B", "sku": "TEA"}, *more]}
    result = sc.replay(sc.parse(doc), check_invariants=True)
    assert result.engine.check_invariants() == []
    return result


def commissions(result: sc.Replay) -> dict[str, str]:
    read = result.engine.modules["distribution"].member_read(result.engine, "P")
    assert read is not None
    assert read["commissions"][0] == {"level": 1, **read["commission_totals"]}
    return dict(read["commission_totals"])


def test_a_held_commission_reads_as_held_then_settled_when_released_or_reversed_when_rejected() -> None:
    held = distribution_pair([])
    assert held.engine.balance("P", "held") == 590
    assert commissions(held) == {"pending": "0.00", "settled": "0.00", "held": "5.90", "reversed": "0.00"}
    hold = next(iter(module(held).holds))
    released = distribution_pair([{"release_hold": hold}])
    assert commissions(released) == {"pending": "0.00", "settled": "5.90", "held": "0.00", "reversed": "0.00"}
    rejected = distribution_pair([{"reject_hold": hold, "reason": "B is P's second account"}, {"refund": "o1"}])
    assert commissions(rejected) == {"pending": "0.00", "settled": "0.00", "held": "0.00", "reversed": "5.90"}
    assert rejected.engine.modules["distribution"].end_state(rejected.engine)["distribution"]["commissions"] == {
        "level 1": "0.00"}
    refunded = distribution_pair([{"refund": "o1"}])
    assert commissions(refunded) == {"pending": "0.00", "settled": "0.00", "held": "0.00", "reversed": "5.90"}
