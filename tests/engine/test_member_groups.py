"""Member groups and exclusive products: groups by rank, by spend over a window (refunds taken out) and by hand;
an outsider's order of an exclusive product refused, changing nothing; membership at the order's instant; the config
refused when a rank group names a plan the shop does not run or a rank it does not declare; the reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from liandong import scenario as sc
from liandong.engine import events as ev
from liandong.engine.core import Shop
from liandong.engine.module import ConfigError
from liandong.engine.plans.member_groups import MemberGroups
from liandong.engine.registry import new_engine

SH = dt.timezone(dt.timedelta(hours=8))
PRODUCTS: list[dict[str, Any]] = [
    {"sku": "GIFT", "price": "699.00", "gift_pack": True},
    {"sku": "TEA", "price": "59.00"},
    {"sku": "RICE", "price": "300.00"},
]
GROUPS: dict[str, Any] = {
    "agents": {"name": "Agents", "rank": {"plan": "chain21", "at_least": "agent"}},
    "partners": {"name": "Partners", "rank": {"plan": "chain21", "at_least": "partner"}},
    "big": {"name": "Big", "spend": {"at_least": "500.00", "days": 7}},
    "friends": {"name": "Friends", "by_hand": True},
}


def run(events: list[dict[str, Any]], exclusive: dict[str, list[str]] | None = None,
        groups: dict[str, Any] | None = None) -> sc.Replay:
    plans = {"chain21": {"skus": ["GIFT"]},
             "member_groups": {"groups": GROUPS if groups is None else groups, "exclusive": exclusive or {}}}
    doc = {"name": "test", "plans": plans, "products": PRODUCTS, "events": events}
    return sc.replay(sc.parse(doc), check_invariants=True)


def plan_of(result: sc.Replay) -> MemberGroups:
    plan = result.engine.modules["member_groups"]
    assert isinstance(plan, MemberGroups)
    return plan


def refusals(result: sc.Replay) -> list[tuple[int, str, str, Any]]:
    return [(seq, str(r.code), r.field, r.value) for seq, r in result.engine.refused]


def test_rank_groups_follow_the_plan_rank() -> None:
    result = run([{"join": "A"}, {"join": "B", "referrer": "A"}, {"join": "C", "referrer": "A"},
                  {"pay": "A", "sku": "GIFT"}, {"pay": "B", "sku": "GIFT"}, {"pay": "C", "sku": "GIFT"}])
    plan, engine = plan_of(result), result.engine
    # A has two agents under it (promote_after 2): partner; B and C agents; each paid 699.00 (big: 500.00)
    assert plan.groups_of(engine, "A", engine.clock) == ["agents", "partners", "big"]
    assert plan.groups_of(engine, "B", engine.clock) == ["agents", "big"]
    assert result.end_state()["member_groups"] == {"agents": ["A", "B", "C"], "partners": ["A"], "big": ["A", "B", "C"],
                                             "friends": []}


def test_an_outsiders_exclusive_order_is_refused_and_changes_nothing() -> None:
    before = run([{"join": "A"}, {"join": "B"}, {"pay": "A", "sku": "GIFT"}], exclusive={"TEA": ["agents"]})
    result = run([{"join": "A"}, {"join": "B"}, {"pay": "A", "sku": "GIFT"}, {"pay": "B", "sku": "TEA"},
                  {"pay": "A", "sku": "TEA"}], exclusive={"TEA": ["agents"]})
    assert refusals(result) == [(4, "member_group_exclusive", "sku", "TEA")]
    refusal = result.engine.refused[0][1]
    assert refusal.reason == "sku TEA is for members of Agents only: B is in none of them"
    assert "o2" not in result.engine.orders and "o3" in result.engine.orders
    assert result.engine.ledger.balances.get(("@platform", "sales")) == 69900 + 5900
    assert before.engine.ledger.balances.get(("@platform", "sales")) == 69900
    assert result.engine.balance("B") == 0


def test_spend_window_counts_the_orders_paid_in_the_last_days_less_refunds() -> None:
    # the window is 7 × 24 hours ending at the order's instant; an order at exactly instant - 7 days is out
    t0 = dt.datetime(2026, 1, 1, 10, 0, tzinfo=SH)
    at = [(t0 + dt.timedelta(days=d)).isoformat() for d in (0, 3, 7)]
    result = run([
        {"join": "A"},
        {"pay": "A", "sku": "RICE", "at": at[0]},                              # o1 300.00
        {"pay": "A", "sku": "TEA", "at": at[1]},                               # o2 refused: 300.00
        {"pay": "A", "sku": "RICE", "at": at[1]},                              # o3 600.00
        {"pay": "A", "sku": "TEA"},                                            # o4: in big
        {"pay": "A", "sku": "TEA", "at": (t0 + dt.timedelta(days=7, seconds=-1)).isoformat()},  # o5: 659.00
        {"pay": "A", "sku": "TEA", "at": at[2]},                               # o6 refused: o1 out, 418.00
        {"pay": "A", "sku": "RICE"},                                           # o7 718.00
        {"refund": "o7"},                                                      # 418.00
        {"pay": "A", "sku": "TEA"},                                            # o8 refused
    ], exclusive={"TEA": ["big"]})
    assert [(seq, value) for seq, _code, _field, value in refusals(result)] == [(3, "TEA"), (7, "TEA"), (10, "TEA")]
    plan, engine = plan_of(result), result.engine
    assert plan.spend("A", 7, engine.clock) == 30000 + 5900 + 5900
    assert plan.spend("A", 7, t0 + dt.timedelta(days=6)) == 30000 + 30000 + 5900


def test_a_spend_membership_runs_out_with_a_fact_and_the_member_read_says_until_when() -> None:
    t0 = dt.datetime(2026, 1, 1, 10, 0, tzinfo=SH)
    result = run([{"join": "A"}, {"pay": "A", "sku": "RICE", "at": t0.isoformat()},
                  {"pay": "A", "sku": "RICE", "at": (t0 + dt.timedelta(days=2)).isoformat()}])
    plan, engine = plan_of(result), result.engine
    read = plan.member_read(engine, "A")
    # 600.00: o1 leaving the window on 01-08 10:00 leaves 300.00 < 500.00
    assert read == {"groups": [{"group": "big", "name": "Big", "by": "spend",
                                "spend": {"at_least": "500.00", "days": 7},
                                "until": "2026-01-08T10:00:00+08:00"}]}
    early = engine.apply(ev.Tick(at=t0 + dt.timedelta(days=7, seconds=-1)))
    assert early.facts == []
    late = engine.apply(ev.Tick(at=t0 + dt.timedelta(days=7)))
    assert late.facts == [{"fact": "member_group_left", "member": "A", "group": "big",
                           "at": "2026-01-08T10:00:00+08:00"}]
    assert plan.member_read(engine, "A") == {"groups": []}


def test_by_hand_add_and_remove_with_refusals() -> None:
    result = run([{"join": "A"}, {"add_to_member_group": "A", "group": "friends"},
                  {"pay": "A", "sku": "TEA"},
                  {"add_to_member_group": "A", "group": "friends"},
                  {"add_to_member_group": "A", "group": "big"},
                  {"add_to_member_group": "A", "group": "nobody"},
                  {"add_to_member_group": "X", "group": "friends"},
                  {"remove_from_member_group": "A", "group": "friends"},
                  {"remove_from_member_group": "A", "group": "friends"},
                  {"pay": "A", "sku": "TEA"}], exclusive={"TEA": ["friends", "partners"]})
    assert refusals(result) == [
        (4, "member_group_already_in", "member", "A"),
        (5, "member_group_not_by_hand", "group", "big"),
        (6, "member_group_unknown", "group", "nobody"),
        (7, "member_unknown", "member", "X"),
        (9, "member_group_not_in", "member", "A"),
        (10, "member_group_exclusive", "sku", "TEA"),
    ]
    assert result.engine.refused[1][1].reason == "group big is joined by spend, not by hand"
    assert result.engine.refused[-1][1].reason == ("sku TEA is for members of Friends, Partners only: A is in none "
                                                   "of them")
    assert not result.engine.orders["o1"].refunded  # leaving the group does nothing to an order already paid


def test_config_is_refused_naming_the_key() -> None:
    shop = Shop(plans={"member_groups": {"groups": {"g": {"name": "G", "rank": {"plan": "chain21",
                                                                                 "at_least": "agent"}}}}})
    with pytest.raises(ConfigError, match=r"groups\.g\.rank\.plan: 'chain21': not a plan this shop runs"):
        new_engine(shop)
    bad_rank = Shop(plans={"chain21": {}, "member_groups": {"groups": {"g": {"name": "G", "rank": {
        "plan": "chain21", "at_least": "boss"}}}}})
    with pytest.raises(ConfigError, match=r"not a rank of chain21 \(member, agent, partner\)"):
        new_engine(bad_rank)
    with pytest.raises(ConfigError, match="exactly one of rank, spend or by_hand"):
        new_engine(Shop(plans={"member_groups": {"groups": {"g": {"name": "G", "by_hand": True,
                                                                   "spend": {"at_least": "1.00", "days": 1}}}}}))
    with pytest.raises(ConfigError, match=r"exclusive: .*TEA: vip is not one of the groups"):
        new_engine(Shop(plans={"member_groups": {"groups": {}, "exclusive": {"TEA": ["vip"]}}}))


def test_configure_plan_freezes_rules_per_version() -> None:
    result = run([{"join": "A"}, {"pay": "A", "sku": "TEA"},
                  {"configure_plan": "member_groups", "config": {"exclusive": {"TEA": ["friends"]}}},
                  {"pay": "A", "sku": "TEA"},
                  {"configure_plan": "member_groups", "config": {"groups": {"g": {"name": "G", "rank": {
                      "plan": "distribution", "at_least": "promoter"}}}, "exclusive": {}}}])
    assert refusals(result) == [(4, "member_group_exclusive", "sku", "TEA"),
                                (5, "invalid", "config.groups.g.rank.plan", "distribution")]
    assert result.engine.config_version == 2
    assert "o1" in result.engine.orders  # paid before the product became exclusive: untouched


def test_shop_read_lists_groups_and_exclusives() -> None:
    result = run([], exclusive={"TEA": ["agents", "friends"]})
    read = plan_of(result).shop_read(result.engine)
    assert read["exclusive"] == {"TEA": ["agents", "friends"]}
    assert [g["group"] for g in read["groups"]] == ["agents", "partners", "big", "friends"]
    assert read["groups"][0] == {"group": "agents", "name": "Agents", "by": "rank",
                                 "rank": {"plan": "chain21", "at_least": "agent"}}
    assert read["groups"][3] == {"group": "friends", "name": "Friends", "by": "hand"}
