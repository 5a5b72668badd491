"""chain21: config validation naming key and value, configure_plan, facts, the member's progress, own invariants.

The rules' numbers are pinned by the scenario files (``shared/scenarios`` and ``tests/scenarios/chain21-*``); this
module checks what a scenario's end state cannot show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from liandong import scenario as sc
from liandong.engine import ConfigError, Engine, Shop
from liandong.engine import events as ev
from liandong.engine.core import DEFAULT_START, Product
from liandong.engine.errors import Code
from liandong.engine.module import validate_config
from liandong.engine.plans.chain21 import Chain21, Chain21Config
from liandong.engine.registry import REGISTRY, new_engine

RULEBOOK = Path(__file__).resolve().parents[3] / "shared" / "spec" / "chain21.md"
Run = Callable[..., sc.Replay]

# A partner A (seeds A1, A2), agent B in A's team: C's purchase pays B a direct and A a team reward.
PARTNER_A_AGENT_B = [
    {"join": "A"}, {"pay": "A", "sku": "GIFT"},
    {"join": "A1", "referrer": "A"}, {"pay": "A1", "sku": "GIFT"},
    {"join": "A2", "referrer": "A"}, {"pay": "A2", "sku": "GIFT"},
    {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"},
]


def _problems(raw: dict[str, Any]) -> list[tuple[str, Any, str]]:
    with pytest.raises(ConfigError) as caught:
        validate_config("chain21", Chain21Config, raw)
    return caught.value.problems


def _chain21(result: sc.Replay) -> Chain21:
    plan = result.engine.modules["chain21"]
    assert isinstance(plan, Chain21)
    return plan


# --- config ------------------------------------------------------------------------------------------------------


def test_the_defaults_are_the_rulebooks_config_block() -> None:
    block = re.search(r"## Config keys and defaults\n```yaml\n(.*?)```", RULEBOOK.read_text(encoding="utf-8"), re.S)
    assert block is not None
    from_rulebook = validate_config("chain21", Chain21Config, yaml.safe_load(block.group(1)))
    defaults = Chain21Config()
    assert from_rulebook.model_dump(exclude={"plan"}) == defaults.model_dump(exclude={"plan"})
    assert (defaults.direct_reward.agent, defaults.direct_reward.partner, defaults.team_reward) == (10000, 30000, 20000)
    assert (defaults.peer_rate, defaults.help_fund_rate, defaults.bonus_pool_rate) == (
        Fraction(1, 10), Fraction(1, 5), Fraction(1, 20))


@pytest.mark.parametrize(
    ("raw", "key", "value", "message"),
    [
        ({"help_fund_rate": "1.5"}, "help_fund_rate", "1.5", "1.50 is more than 1"),
        ({"peer_rate": 0.1}, "peer_rate", 0.1, "0.1 is not a rate"),
        ({"bonus_pool_rate": "-0.05"}, "bonus_pool_rate", "-0.05", "not a non-negative decimal rate"),
        ({"team_reward": "abc"}, "team_reward", "abc", "'abc' is not an amount"),
        ({"team_reward": 200.5}, "team_reward", 200.5, "200.5 is not an amount"),
        ({"team_reward": "-1.00"}, "team_reward", "-1.00", "greater than or equal to 0"),
        ({"direct_reward": {"agent": "100.00"}}, "direct_reward.partner", None, "Field required"),
        ({"self_rebate": {"agent": "1.00", "partner": "2.00", "member": "0.50"}}, "self_rebate.member", "0.50",
         "unknown key"),
        ({"bonus_rate": "0.05"}, "bonus_rate", "0.05", "unknown key"),
        ({"promote_after": 0}, "promote_after", 0, "greater than or equal to 1"),
        ({"seed_count": 3}, "seed_count", 3, "seed_count 3 is more than promote_after 2"),
        ({"promote_after": 3, "seed_count": 4}, "seed_count", 4, "seed_count 4 is more than promote_after 3"),
        ({"min_withdrawal": "0.00"}, "min_withdrawal", "0.00", "greater than or equal to 1"),
        ({"settle_after_days": 366}, "settle_after_days", 366, "less than or equal to 365"),
        ({"reward_repeat_purchases": "sometimes"}, "reward_repeat_purchases", "sometimes", "valid boolean"),
    ],
)
def test_an_invalid_config_is_refused_naming_the_key_and_the_value(
    raw: dict[str, Any], key: str, value: Any, message: str
) -> None:
    problems = _problems(raw)
    assert [(k, v) for k, v, _msg in problems] == [(key, value)]
    assert message in problems[0][2]


def test_a_shop_with_an_invalid_chain21_config_cannot_start() -> None:
    with pytest.raises(ConfigError, match=r"invalid chain21 config: help_fund_rate: '1\.5'"):
        new_engine(Shop(plans={"chain21": {"help_fund_rate": "1.5"}}))


def test_a_valid_override_changes_only_its_keys() -> None:
    config = validate_config("chain21", Chain21Config, {"promote_after": 3, "team_reward": 150, "peer_rate": "0.15"})
    assert isinstance(config, Chain21Config)
    assert (config.promote_after, config.seed_count, config.team_reward, config.peer_rate) == (3, 2, 15000,
                                                                                              Fraction(3, 20))
    assert config.direct_reward.partner == 30000


# --- configure_plan ----------------------------------------------------------------------------------------------


def test_a_configure_plan_with_a_bad_config_is_refused_naming_the_key_and_changes_nothing(run_chain21: Run) -> None:
    result = run_chain21([*PARTNER_A_AGENT_B,
                          {"configure_plan": "chain21", "config": {"team_reward": "150.00", "help_fund_rate": "1.5"}},
                          {"configure_plan": "chain21", "config": {"seed_count": 3}},
                          {"join": "C", "referrer": "B"}, {"pay": "C", "sku": "GIFT"}])
    bad_rate, bad_seeds = result.outcomes[8], result.outcomes[9]
    assert bad_rate.refusal is not None and bad_seeds.refusal is not None
    assert (bad_rate.refusal.code, bad_rate.refusal.field, bad_rate.refusal.value) == (
        Code.INVALID, "config.help_fund_rate", "1.5")
    assert bad_rate.refusal.reason == "config.help_fund_rate 1.5: Value error, 1.50 is more than 1"
    assert (bad_seeds.refusal.field, bad_seeds.refusal.value) == ("config.seed_count", 3)
    assert bad_rate.transactions == [] and bad_seeds.transactions == []
    assert bad_seeds.config_version == 1
    assert _chain21(result).config == Chain21Config()
    state = result.end_state()
    assert state["members"]["A"]["available"] == "600.00"  # 100 + 100 + 240 + 160: the default 200.00 team reward
    assert state["members"]["A"]["help_fund"] == "100.00"


def test_a_configure_plan_with_a_good_config_applies_to_later_events(run_chain21: Run) -> None:
    result = run_chain21([*PARTNER_A_AGENT_B,
                          {"configure_plan": "chain21",
                           "config": {"team_reward": "150.00", "help_fund_rate": "0.10",
                                      "direct_reward": {"agent": "80.00", "partner": "300.00"}}},
                          {"join": "C", "referrer": "B"}, {"pay": "C", "sku": "GIFT"}])
    configured = result.outcomes[8]
    assert configured.applied
    assert configured.facts == [{"fact": "plan_configured", "plan": "chain21", "version": 2}]
    assert result.outcomes[-1].config_version == 2
    members = result.end_state()["members"]
    # Before: A 100 + 100 + (300: 240 + 60). After: B +80.00 direct (agent), A +150.00 team: 10% = 15.00 frozen.
    assert (members["A"]["available"], members["A"]["help_fund"]) == ("575.00", "75.00")
    assert members["B"]["available"] == "80.00"


def test_a_configure_plan_keeps_the_keys_it_does_not_name() -> None:
    doc = {"name": "x", "plan": "chain21", "config": {"promote_after": 3, "skus": ["GIFT"]},
           "products": [{"sku": "GIFT", "price": "699.00", "gift_pack": True}],
           "events": [{"configure_plan": "chain21", "config": {"team_reward": "150.00"}}]}
    result = sc.replay(sc.parse(doc))
    config = _chain21(result).config
    assert (config.promote_after, config.skus, config.team_reward) == (3, ["GIFT"], 15000)


def test_configure_plan_of_a_plan_the_shop_does_not_run_is_refused(run_chain21: Run) -> None:
    result = run_chain21([{"configure_plan": "distribution", "config": {}}])
    refusal = result.outcomes[0].refusal
    assert refusal is not None
    assert (refusal.code, refusal.field, refusal.value) == (Code.PLAN_NOT_RUNNING, "plan", "distribution")


# --- rewards against gift-pack prices ----------------------------------------------------------------------------


def _shop(config: dict[str, Any] | None = None, products: list[Product] | None = None) -> Engine:
    return Engine(Shop(products=products or [Product("GIFT", 69900, gift_pack=True)],
                       plans={"chain21": config or {}}), REGISTRY)


def _event(engine: Engine, verb: str, **fields: Any) -> ev.Event:
    cls = ev.EVENT_TYPES[verb]
    return cls(at=engine.clock, **fields)


def test_a_gift_pack_priced_below_a_reward_is_refused_naming_the_keys_and_the_sku() -> None:
    engine = _shop()
    outcome = engine.apply(_event(engine, "product", sku="GIFT", price="0.01", gift_pack=True))
    refusal = outcome.refusal
    assert refusal is not None and (refusal.code, refusal.field, refusal.value) == (
        Code.REWARD_ABOVE_PRICE, "price", "0.01")
    assert refusal.reason == ("price 0.01: direct_reward.agent 100.00, direct_reward.partner 300.00, team_reward "
                              "200.00, self_rebate.agent 100.00, self_rebate.partner 300.00 is more than the price "
                              "0.01 of gift pack GIFT")
    zh = refusal.message("zh")
    assert zh.startswith("price 0.01：direct_reward.agent 100.00") and zh.endswith("超过礼包 GIFT 的价格 0.01")
    assert engine.products["GIFT"].price == 69900  # nothing changed
    partial = engine.apply(_event(engine, "product", sku="GIFT", price="250.00", gift_pack=True)).refusal
    assert partial is not None and partial.reason == ("price 250.00: direct_reward.partner 300.00, self_rebate.partner "
                                                      "300.00 is more than the price 250.00 of gift pack GIFT")


def test_a_price_at_a_reward_or_not_paying_rewards_is_accepted() -> None:
    engine = _shop({"skus": ["GIFT"]})
    for fields in ({"sku": "GIFT", "price": "300.00", "gift_pack": True},  # equal to the largest reward
                   {"sku": "TEA", "price": "0.01"},  # not a gift pack: chain21 pays nothing on it
                   {"sku": "BOX", "price": "0.01", "gift_pack": True},  # outside chain21's skus
                   {"sku": "GIFT", "price": "0.01", "gift_pack": True, "active": False}):  # cannot be bought
        assert engine.apply(_event(engine, "product", **fields)).refusal is None, fields


def test_a_configure_plan_raising_a_reward_above_a_gift_packs_price_is_refused() -> None:
    engine = _shop(products=[Product("GIFT", 69900, gift_pack=True), Product("TEA-PACK", 39900, gift_pack=True)])
    outcome = engine.apply(_event(engine, "configure_plan", plan="chain21",
                                  config={"direct_reward": {"agent": "100.00", "partner": "450.00"}}))
    refusal = outcome.refusal
    assert refusal is not None and (refusal.code, refusal.field, refusal.value) == (
        Code.REWARD_ABOVE_PRICE, "config.direct_reward.partner", "450.00")
    assert refusal.reason == ("config.direct_reward.partner 450.00: direct_reward.partner 450.00 is more than the "
                              "price 399.00 of gift pack TEA-PACK")
    assert _chain21_of(engine).config.direct_reward.partner == 30000
    lower = engine.apply(_event(engine, "configure_plan", plan="chain21", config={"team_reward": "399.00"}))
    assert lower.refusal is None


def test_a_shop_whose_gift_pack_is_below_a_reward_cannot_start() -> None:
    with pytest.raises(ConfigError) as caught:
        _shop(products=[Product("GIFT", 9900, gift_pack=True)],
              config={"self_rebate": {"agent": "50", "partner": "90"}})
    assert caught.value.problems == [("direct_reward.agent", "100.00", "more than the price 99.00 of gift pack GIFT"),
                                     ("direct_reward.partner", "300.00", "more than the price 99.00 of gift pack GIFT"),
                                     ("team_reward", "200.00", "more than the price 99.00 of gift pack GIFT")]


def test_an_approval_waiting_for_its_payout_keeps_paid_out_false_when_described() -> None:
    """``describe`` writes the event as a scenario file does; a false ``paid_out`` must survive the round trip (a
    left-out flag would read back as the default, true: approved and paid out)."""
    waiting = ev.ApproveWithdrawal(at=DEFAULT_START, withdrawal="w1", paid_out=False)
    assert waiting.describe() == {"approve_withdrawal": "w1", "paid_out": False, "at": DEFAULT_START.isoformat()}
    assert ev.ApproveWithdrawal(at=DEFAULT_START, withdrawal="w1").describe() == {
        "approve_withdrawal": "w1", "at": DEFAULT_START.isoformat()}


def _chain21_of(engine: Engine) -> Chain21:
    plan = engine.modules["chain21"]
    assert isinstance(plan, Chain21)
    return plan


def test_transpose_on_a_shop_without_chain21_is_refused() -> None:
    engine = new_engine(Shop(products=[Product("TEA", 5900)]))
    outcome = engine.apply(ev.EVENT_TYPES["transpose"].model_validate(
        {"at": DEFAULT_START, "partner": "A", "seed": "B", "with": "C"}))
    assert outcome.refusal is not None and outcome.refusal.code == Code.PLAN_NOT_RUNNING


# --- facts and the member's page -------------------------------------------------------------------------------


def test_promotion_release_and_rank_loss_are_told_as_facts(run_chain21: Run) -> None:
    result = run_chain21([*PARTNER_A_AGENT_B[:6], {"configure_plan": "chain21", "config": {"seed_count": 0}},
                          {"join": "B", "referrer": "A"}, {"pay": "B", "sku": "GIFT"},
                          {"join": "C", "referrer": "B"}, {"pay": "C", "sku": "GIFT"},
                          {"join": "D", "referrer": "B"}, {"pay": "D", "sku": "GIFT"}, {"refund": "o1"}])
    assert [f for f in result.outcomes[5].facts if f["fact"] == "promoted"] == [
        {"fact": "promoted", "member": "A", "seeds": ["A1", "A2"]}]
    # B is promoted with seed_count 0: no seed to wait for, so its (empty) help fund is released at once
    assert result.outcomes[12].facts[0] == {"fact": "rank_gained", "member": "D", "rank": "agent", "order": "o6"}
    assert [f for f in result.outcomes[12].facts if f["fact"] not in ("plan_configured", "rank_gained")] == [
        {"fact": "promoted", "member": "B", "seeds": []},
        {"fact": "help_fund_released", "member": "B", "amount": "0.00"},
    ]
    assert result.outcomes[13].facts == [{"fact": "rank_lost", "member": "A"}, {"fact": "refunded", "order": "o1",
                                                                                 "member": "A"}]


def test_progress_shows_direct_agents_seeds_and_the_help_fund(run_chain21: Run) -> None:
    result = run_chain21([*PARTNER_A_AGENT_B, {"join": "A11", "referrer": "A1"}, {"pay": "A11", "sku": "GIFT"}])
    progress = _chain21(result).progress(result.engine, "A")
    assert progress == {
        "rank": "partner", "direct_agents": 3, "promote_after": 2, "promoted_at": "2026-01-01T08:00:06+08:00",
        "team": None,
        "seeds": [{"member": "A1", "rank": "agent", "promoted": False, "direct_agents": 1},
                  {"member": "A2", "rank": "agent", "promoted": False, "direct_agents": 0}],
        "help_fund": "100.00", "help_fund_released": False,
    }
    assert _chain21(result).team_members("A") == ["A1", "A2", "B", "A11"]


def test_the_member_read_tells_when_and_with_whom_a_seed_may_be_transposed_and_a_refunded_rank(
        run_chain21: Run) -> None:
    result = run_chain21([*PARTNER_A_AGENT_B, {"join": "B1", "referrer": "B"}, {"pay": "B1", "sku": "GIFT"},
                          {"join": "B2", "referrer": "B"}, {"pay": "B2", "sku": "GIFT"}, {"refund": "o2"}])
    plan, engine = _chain21(result), result.engine
    a = plan.member_read(engine, "A")
    assert a["promoted_at"] == "2026-01-01T08:00:06+08:00" and a["transpose_after_days"] == 30
    assert a["transpose_from"] == "2026-01-31T08:00:06+08:00"
    assert a["transpose_with"] == ["B"]  # B, A's referral, is a partner now and not a seed; A1 and A2 are seeds
    assert (a["gift_packs"], a["rank_refunded"]) == (1, False)
    a1 = plan.member_read(engine, "A1")  # o2, A1's gift pack, was refunded
    assert (a1["rank"], a1["gift_packs"], a1["rank_refunded"], a1["transpose_from"]) == ("member", 0, True, None)
    assert plan.member_read(engine, "B")["transpose_with"] == []
    assert plan.member_read(engine, "B1")["rank_refunded"] is False


# --- chain21's own invariants --------------------------------------------------------------------------------------


def _tampered(run_chain21: Run) -> tuple[Engine, Chain21]:
    result = run_chain21([*PARTNER_A_AGENT_B, {"join": "C", "referrer": "B"}, {"pay": "C", "sku": "GIFT"}])
    assert result.engine.check_invariants() == []
    return result.engine, _chain21(result)


def test_invariants_catch_a_team_leader_that_was_never_promoted(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    plan._set_team(engine, plan.standing["C"], "B")  # the team sizes follow: only the leader is wrong
    assert engine.check_invariants() == ["C's team leader B was never promoted"]


def test_invariants_catch_a_team_leader_that_is_not_an_ancestor(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    plan.standing["A1"].promoted_at = DEFAULT_START
    plan._set_team(engine, plan.standing["A1"], None)
    plan._set_team(engine, plan.standing["C"], "A1")
    assert engine.check_invariants() == ["C's team leader A1 is not its ancestor"]


def test_invariants_catch_a_team_size_that_is_not_the_teams_count(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    plan.standing["C"].team = None  # not through _set_team: the size kept is one too many
    assert engine.check_invariants() == ["the team sizes kept are not the members' teams counted"]


def test_invariants_catch_a_partner_in_a_team(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    plan.standing["B"].promoted_at = DEFAULT_START
    assert "partner B is in team A" in engine.check_invariants()


def test_invariants_catch_a_released_partner_holding_a_help_fund(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    for seed in ("A1", "A2"):
        plan.standing[seed].promoted_at = DEFAULT_START
        plan._set_team(engine, plan.standing[seed], None)
    assert engine.check_invariants() == ["A's seeds are all partners but its help fund holds 100.00"]


def test_invariants_catch_a_wrong_count_of_direct_agents(run_chain21: Run) -> None:
    engine, plan = _tampered(run_chain21)
    plan.standing["B"].direct_agents = 2
    assert engine.check_invariants() == ["B counts 2 direct agents but has 1"]


def test_invariants_catch_a_negative_bonus_pool(run_chain21: Run) -> None:
    engine, _plan = _tampered(run_chain21)
    engine.ledger.post(engine.seq, "tamper", ((("@pool", "bonus"), -100000), (("@platform", "sales"), 100000)))
    assert engine.check_invariants() == ["the bonus pool is below zero"]


# --- settlement after a release (docs/chain21-decisions.md) ----------------------------------------------------------


def test_a_pending_reward_settling_after_the_release_is_paid_whole(run_chain21: Run) -> None:
    seeds_promoted = [e for seed in ("S1", "S2") for child in ("1", "2")
                      for e in ({"join": seed + child, "referrer": seed}, {"pay": seed + child, "sku": "GIFT"})]
    result = run_chain21([
        {"join": "A"}, {"pay": "A", "sku": "GIFT"},
        {"join": "S1", "referrer": "A"}, {"pay": "S1", "sku": "GIFT"},   # A +100.00 pending
        {"join": "S2", "referrer": "A"}, {"pay": "S2", "sku": "GIFT"},   # A +100.00 pending; promoted
        {"join": "Z", "referrer": "A"}, {"pay": "Z", "sku": "GIFT"},     # A +300.00 pending, 60.00 of it frozen
        *seeds_promoted,                                                 # A +4 × 200.00 team, 40.00 frozen each;
                                                                         # S1, S2 promoted: A's fund is released
        {"close_day": "2026-01-02"},
    ], config={"settle_after_days": 1, "bonus_pool_rate": "0"})
    a = result.end_state()["members"]["A"]
    assert (a["pending"], a["available"], a["help_fund"]) == ("0.00", "1300.00", "0.00")
    assert [t.entries for t in result.engine.ledger.transactions if t.rule == "settlement" and t.ref == "direct_reward"
            and t.order == "o4"] == [((("A", "pending"), -30000), (("A", "available"), 30000))]


def test_a_pay_with_an_amount_books_that_amount_not_todays_price() -> None:
    """The API creates an order at the price of the moment; a price change before payment does not change it."""
    doc = {
        "name": "amount", "plan": "chain21",
        "products": [{"sku": "GIFT", "price": "699.00", "gift_pack": True}],
        "events": [
            {"join": "A"},
            {"product": "GIFT", "price": "799.00", "gift_pack": True},
            {"pay": "A", "sku": "GIFT", "amount": "699.00"},
            {"pay": "A", "sku": "GIFT"},
        ],
    }
    state = sc.replay(sc.parse(doc)).end_state()
    assert state["platform"]["sales"] == "1498.00"  # 699.00 as ordered + 799.00 at today's price
    assert state["pools"]["bonus"] == "74.90"  # 34.95 + 39.95
