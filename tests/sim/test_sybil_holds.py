"""The Sybil probe with the fraud holds on: fakes run from the attacker's phone and cashing out to its account are
held, so the best gain that gets past the holds is below the gain without them; the audit's ``sybil_gain`` check
reports both (and how much the holds remove), its status still the gain without holds."""

from __future__ import annotations

from liandong.engine.money import format_fen
from liandong.sim import audit
from liandong.sim.planfile import parse_plan_doc
from liandong.sim.preset import load_preset
from liandong.sim.probes import ProbeShop, sybil

SMALL = load_preset().with_overrides(members=400, days=100, market={"innovation": 0.000002, "imitation": 0.3})


def test_the_holds_remove_the_sybil_gain_of_chain21() -> None:
    plan = parse_plan_doc({"plan": "chain21"}, "chain21", SMALL)
    without = sybil(plan, SMALL)
    held = sybil(plan, SMALL, holds=True)
    assert without.gain > 0  # chain21 pays for fake identities (the audit fails it)
    assert held.cases == without.cases
    assert held.gain <= 0 < without.gain
    evidence = audit.Evidence(plan, SMALL, {}, {}, 1, without, None, None, [], sybil_held=held)  # type: ignore[arg-type]
    check = audit.sybil_gain(evidence)
    assert check.status == "fail"
    assert f"best gain {format_fen(without.gain)}" in check.figure
    assert f"with fraud holds on (self-referral, duplicate payout account): best gain {format_fen(held.gain)}" \
        in check.figure
    assert f"the holds remove {format_fen(without.gain)}" in check.figure


def test_with_holds_the_fakes_rewards_wait_in_held_and_honest_members_are_not_held() -> None:
    plan = parse_plan_doc({"plan": "chain21"}, "chain21", SMALL)
    shop = ProbeShop(plan, SMALL, holds=True)
    shop.buyer("U", None)
    shop.buyer("A", "U")
    shop.join("F0", "A", as_of="A")
    shop.pay("F0", SMALL.purchases.first_sku)
    shop.buyer("R0", "A")
    engine = shop.engine
    assert engine.balance("A", "held") > 0  # F0's purchase: the buyer shares A's device
    assert engine.balance("U", "held") == 0 and engine.balance("U") > 0  # A is honest to U
    assert engine.check_invariants() == []
