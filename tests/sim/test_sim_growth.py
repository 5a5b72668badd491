"""The growth model and the runner on shops whose answer is known in closed form, and determinism by seed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from liandong.engine.ledger import Ledger, Transaction
from liandong.sim.growth import IndexedSet, Population
from liandong.sim.planfile import parse_plan_doc
from liandong.sim.preset import Preset, load_preset
from liandong.sim.runner import Simulation


def binary_tree_preset(members: int) -> Preset:
    """One founder; every member buys the gift pack the day it joins and brings exactly two people, who join the
    next day (imitation 1 and a market too large to saturate); nobody churns, refunds, rebuys or withdraws."""
    return load_preset().with_overrides(
        members=members, days=6, seed=7,
        market={"size": 10**12, "innovation": 0.0, "imitation": 1.0, "founders": 1},
        recruiting={"never_share": 0.0, "distribution": "fixed", "mean": 2.0, "recruiters": "buyers"},
        purchases={"first_sku": "GIFT", "first_share": 1.0, "first_delay_days": 0.0, "repeat_sku": "TEA",
                   "repeat_daily": 0.0, "customer_daily": 0.0, "first_again_daily": 0.0, "refund_share": 0.0},
        churn={"daily": 0.0}, withdrawals={"every_days": 1, "threshold": "1000000.00"},
    )


def run(plan_doc: dict[str, Any], preset: Preset) -> tuple[Simulation, dict[str, Any]]:
    sim = Simulation(parse_plan_doc(plan_doc, "test", preset), preset, check_invariants=True)
    return sim, sim.run()


def test_every_member_brings_exactly_two_makes_a_full_binary_tree() -> None:
    sim, metrics = run({"plan": "chain21"}, binary_tree_preset(15))
    pop = sim.population
    assert metrics["depth"]["members_by_depth"] == [1, 2, 4, 8]
    children = [sum(1 for r in pop.referrer if r == m) for m in range(15)]
    assert sorted(children) == [0] * 8 + [2] * 7
    assert metrics["series"]["joins"][:5] == [1, 2, 4, 8, 0]


def test_chain21_on_a_binary_tree_pays_what_the_rulebook_gives_by_hand() -> None:
    # 15 members, 7 of them with two recruits. Every recruit's gift pack pays its referrer 100.00 (the referrer is
    # still an agent: it is promoted after its second recruit's rewards): 14 × 100.00. The founder A is a partner
    # from day 1 and every member below depth 1 is in A's team (seeds stay in the team above when their referrer is
    # promoted), so each of their 12 packs pays A a 200.00 team reward. Nobody credited is a partner under a partner:
    # no peer reward. The pool (5% of 15 × 699.00 = 524.25) goes whole to A, the only partner with rewarded sales.
    sim, metrics = run({"plan": "chain21"}, binary_tree_preset(15))
    totals = metrics["totals"]
    assert totals["sales"] == "10485.00"
    assert totals["rewards_by_rule"] == {"bonus_share": "524.25", "direct_reward": "1400.00",
                                         "team_reward": "2400.00"}
    assert totals["rewards"] == "4324.25"
    assert totals["plan_balances"] == {"chain21.bonus_pool": "0.00", "chain21.help_fund": "0.00"}
    ranks = metrics["series"]["ranks"]["chain21"]
    assert (ranks["member"][-1], ranks["agent"][-1], ranks["partner"][-1]) == (0, 8, 7)
    assert sim.rewards_of(0) == 100_00 + 100_00 + 12 * 200_00 + 524_25
    # A nets 3124.25 - 699.00; the six inner partners 200.00 - 699.00; the eight leaves -699.00
    assert metrics["net_result"]["share_below_zero"] == round(14 / 15, 6)
    assert metrics["net_result"]["max"] == "2425.25"
    assert metrics["net_result"]["quantiles"]["p50"] == "-699.00"
    assert metrics["totals"]["refused"] == 0 and metrics["totals"]["ledger_balanced"]


def test_ledger_balanced_is_false_when_a_reward_pays_a_fen_more_than_its_entries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A broken ledger: every direct reward's member balance gets a fen more than its entries say, taken from the
    # reward expense. Money still sums to zero overall; only a check against the entries sees it.
    transfer = Ledger.transfer
    skimmed: list[str] = []

    def transfer_and_skim(self: Ledger, event: int, rule: str, src: Any, dst: Any, amount: int,
                          **cause: Any) -> Transaction | None:
        txn = transfer(self, event, rule, src, dst, amount, **cause)
        if rule == "direct_reward" and txn is not None:
            self.balances[dst] += 1
            self.balances[src] -= 1
            skimmed.append(dst[0])
        return txn

    preset = binary_tree_preset(15)
    honest = Simulation(parse_plan_doc({"plan": "chain21"}, "test", preset), preset).run()
    assert honest["totals"]["ledger_balanced"] is True
    monkeypatch.setattr(Ledger, "transfer", transfer_and_skim)
    broken = Simulation(parse_plan_doc({"plan": "chain21"}, "test", preset), preset).run()
    assert len(skimmed) == 14  # the skim ran on every direct reward, unseen by the rules
    assert broken["totals"]["ledger_balanced"] is False


def test_one_level_referral_on_a_binary_tree_pays_ten_percent_of_every_recruit() -> None:
    _sim, metrics = run({"plan": "distribution", "levels": 1, "rates": ["0.10"], "settle_after_days": 0},
                        binary_tree_preset(15))
    assert metrics["totals"]["rewards"] == "978.60"  # 14 recruits × 69.90
    assert metrics["classification"]["max_paid_level"] == 1
    assert metrics["classification"]["rewards_by_level"] == {"1": "978.60"}
    assert metrics["classification"]["team_based_share"] == 0.0


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    preset = load_preset().with_overrides(members=400, days=40)
    first = json.dumps(run({"plan": "chain21"}, preset)[1], sort_keys=True)
    again = json.dumps(run({"plan": "chain21"}, preset)[1], sort_keys=True)
    other = json.dumps(run({"plan": "chain21"}, preset.with_overrides(seed=2))[1], sort_keys=True)
    assert first == again
    assert first != other


def test_joins_stop_at_the_stall_day_and_at_the_members_cap() -> None:
    preset = load_preset().with_overrides(members=300, days=60, stall_day=20)
    _sim, metrics = run({"plan": "chain21"}, preset)
    joins = metrics["series"]["joins"]
    assert sum(joins[20:]) == 0 and sum(joins[:20]) > 0
    capped = run({"plan": "chain21"}, load_preset().with_overrides(members=50, days=60))[1]
    assert capped["totals"]["members"] == 50


def test_nobody_recruits_when_never_share_is_one() -> None:
    preset = load_preset().with_overrides(members=200, days=30, recruiting={"never_share": 1.0},
                                          market={"innovation": 0.0005, "founders": 5})
    pop = Population(preset)
    for day in range(30):
        for member in pop.plan_day(day).first_buys:
            pop.first_purchase_made(member)
    assert all(r == -1 for r in pop.referrer) and pop.live_slots == 0


def test_indexed_set_adds_discards_and_keeps_positions() -> None:
    s = IndexedSet()
    for i in (5, 7, 9):
        s.add(i)
    s.add(7)
    assert len(s) == 3
    assert s.discard(5) and not s.discard(5)
    assert sorted(s.items) == [7, 9] and all(s.items[s.pos[i]] == i for i in s.items)
    assert 9 in s and 5 not in s


@pytest.mark.parametrize("distribution, mean", [("fixed", 3.0), ("poisson", 3.0), ("geometric", 3.0)])
def test_slots_average_the_configured_mean(distribution: str, mean: float) -> None:
    preset = load_preset().with_overrides(recruiting={"distribution": distribution, "mean": mean})
    counts = Population(preset)._slot_counts(20000)
    assert counts.min() >= 1
    assert abs(float(counts.mean()) - mean) < 0.1
