"""The operator's ``reparent_member`` and the distribution plan's ``revoke_promoter``: what each changes and what
it leaves (docs/reparenting.md, docs/events-distribution.md), with the invariants checked after every event.

The money of ``tests/scenarios/chain21-reparent.yaml`` is pinned there; this module checks the tree's counts, the
teams, promotion by a move, refusals changing nothing, and the revocation's effects on later orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liandong import scenario as sc
from liandong.engine.plans.chain21 import Chain21
from liandong.engine.plans.distribution import Distribution

Run = Callable[..., sc.Replay]
REASON = "registered through the wrong invite link"


def _chain21(result: sc.Replay) -> Chain21:
    plan = result.engine.modules["chain21"]
    assert isinstance(plan, Chain21)
    return plan


def _agents(*pairs: tuple[str, str | None]) -> list[dict[str, Any]]:
    """Each member joins (under its referrer) and buys a gift pack."""
    events: list[dict[str, Any]] = []
    for member, referrer in pairs:
        events += [{"join": member, **({"referrer": referrer} if referrer else {})}, {"pay": member, "sku": "GIFT"}]
    return events


def test_a_move_counts_the_member_as_a_direct_agent_of_its_new_referrer_only(run_chain21: Run) -> None:
    result = run_chain21([*_agents(("R0", None), ("R1", None), ("M", "R0")),
                          {"reparent_member": "M", "referrer": "R1", "reason": REASON}])
    plan, engine = _chain21(result), result.engine
    assert (plan.standing["R0"].direct_agents, plan.standing["R1"].direct_agents) == (0, 1)
    assert engine.members["M"].referrer == "R1"
    assert "M" not in engine.members["R0"].children and engine.members["R1"].children == ["M"]
    assert result.outcomes[-1].facts[-1] == {"fact": "reparented", "member": "M", "previous": "R0",
                                             "referrer": "R1", "reason": REASON}
    assert engine.check_invariants() == []


def test_rewards_already_earned_stay_and_later_ones_follow_the_new_referrer(run_chain21: Run) -> None:
    result = run_chain21([*_agents(("R0", None), ("R1", None), ("M", "R0")),
                          {"reparent_member": "M", "referrer": "R1", "reason": REASON},
                          *_agents(("N", "M"))])
    view = result.end_state()["members"]
    # R0 keeps the 100.00 direct reward of M's purchase; nobody above M earns N's purchase but M (agents only)
    assert (view["R0"]["available"], view["R1"]["available"], view["M"]["available"]) == ("100.00", "0.00", "100.00")
    assert result.outcomes[-3].transactions == []  # the move posts nothing


def test_a_move_that_brings_the_second_direct_agent_promotes_the_new_referrer(run_chain21: Run) -> None:
    result = run_chain21([*_agents(("R", None), ("A1", "R"), ("O", None), ("A2", "O")),
                          {"reparent_member": "A2", "referrer": "R", "reason": REASON}])
    plan = _chain21(result)
    assert plan.standing["R"].promoted_at is not None and plan.standing["R"].seeds == ["A1", "A2"]
    # R had no team above it: its teamless subtree, A2 included, is its team now
    assert (plan.standing["A1"].team, plan.standing["A2"].team) == ("R", "R")
    assert any(f["fact"] == "promoted" and f["member"] == "R" for f in result.outcomes[-1].facts)


def test_a_team_led_from_inside_the_moved_subtree_stays_one_led_from_outside_is_retaken(run_chain21: Run) -> None:
    # L partner (seeds L1, L2); under L: Q promoted (seeds Q1, Q2 stay in L's team, the "2" slides up); Q3 joins Q
    events = [*_agents(("L", None), ("L1", "L"), ("L2", "L"), ("Q", "L"), ("Q1", "Q"), ("Q2", "Q"), ("Q3", "Q")),
              *_agents(("K", None))]  # K: an agent with no team above
    before = _chain21(run_chain21(events))
    assert (before.standing["Q1"].team, before.standing["Q3"].team) == ("L", "Q")
    result = run_chain21([*events, {"reparent_member": "Q", "referrer": "K", "reason": REASON}])
    plan = _chain21(result)
    assert plan.standing["Q3"].team == "Q"            # Q still leads it: Q is still Q3's ancestor
    # L is no longer above Q1: it takes the team a member joining under Q would get, Q's (Q is a partner)
    assert (plan.standing["Q1"].team, plan.standing["Q2"].team) == ("Q", "Q")
    assert plan.standing["Q"].seeds == ["Q1", "Q2"]   # seeds are fixed at promotion
    assert "Q" in plan.standing["K"].promoted_referrals and "Q" not in plan.standing["L"].promoted_referrals
    assert result.engine.check_invariants() == []


def test_a_move_under_a_partner_puts_the_teamless_subtree_in_the_partners_team(run_chain21: Run) -> None:
    result = run_chain21([*_agents(("L", None), ("L1", "L"), ("L2", "L"), ("M", None), ("M1", "M")),
                          {"join": "M2", "referrer": "M1"},
                          {"reparent_member": "M", "referrer": "L1", "reason": REASON}])
    plan = _chain21(result)
    assert [plan.standing[m].team for m in ("M", "M1", "M2")] == ["L", "L", "L"]  # L1's team is L


def test_refusals_name_the_field_and_change_nothing(run_chain21: Run) -> None:
    base = _agents(("A", None), ("B", "A"), ("C", "B"))
    result = run_chain21([*base,
                          {"reparent_member": "NOBODY", "referrer": "A", "reason": REASON},
                          {"reparent_member": "C", "referrer": "NOBODY", "reason": REASON},
                          {"reparent_member": "C", "referrer": "B", "reason": REASON},
                          {"reparent_member": "B", "referrer": "C", "reason": REASON},
                          {"reparent_member": "B", "referrer": "B", "reason": REASON},
                          {"reparent_member": "C", "referrer": "A", "reason": "x" * 201},
                          {"reparent_member": "C", "referrer": "A", "reason": "tab\there"}])
    codes = [(str(r.code), r.field, r.value) for _seq, r in result.engine.refused]
    assert codes == [("member_unknown", "member", "NOBODY"), ("referrer_unknown", "referrer", "NOBODY"),
                     ("reparent_same_referrer", "referrer", "B"), ("reparent_cycle", "referrer", "C"),
                     ("reparent_cycle", "referrer", "B"), ("reparent_reason_invalid", "reason", "x" * 40 + "…"),
                     ("reparent_reason_invalid", "reason", "tab\there")]
    assert result.engine.members["C"].referrer == "B" and _chain21(result).standing["B"].direct_agents == 1
    assert result.engine.refused[3][1].message("en") == (
        "referrer C is B itself or in B's referral tree: the tree would become a loop")


def test_a_member_without_a_referrer_can_be_placed_under_one(run_chain21: Run) -> None:
    result = run_chain21([*_agents(("A", None), ("B", None)),
                          {"reparent_member": "B", "referrer": "A", "reason": REASON}])
    assert result.engine.members["B"].referrer == "A" and _chain21(result).standing["A"].direct_agents == 1


def test_a_reparent_event_reads_back_as_it_was_written() -> None:
    doc = {"name": "t", "plan": "chain21", "products": [{"sku": "GIFT", "price": "699.00", "gift_pack": True}],
           "events": [{"join": "A"}, {"join": "B"},
                      {"reparent_member": "B", "referrer": "A", "reason": f"  {REASON} "}]}
    result = sc.replay(sc.parse(doc), check_invariants=True)
    described = result.outcomes[-1].event.describe()
    assert {k: v for k, v in described.items() if k != "at"} == {"reparent_member": "B", "referrer": "A",
                                                                  "reason": REASON}


# --- revoke_promoter ------------------------------------------------------------------------------------------------

PRODUCTS = [{"sku": "TEA", "price": "99.00"}]


def _distribution(events: list[dict[str, Any]], **config: Any) -> sc.Replay:
    doc = {"name": "t", "plan": "distribution", "config": {"eligibility": "approved", "settle_after_days": 0,
                                                           "levels": 2, "rates": ["0.10", "0.05"], **config},
           "products": PRODUCTS, "events": events}
    return sc.replay(sc.parse(doc), check_invariants=True)


APPROVED_CHAIN = [{"join": "P"}, {"approve_promoter": "P"}, {"join": "Q"}, {"approve_promoter": "Q"},
                  {"visit": "Q", "promoter": "P"}, {"join": "D"}, {"visit": "D", "promoter": "Q"},
                  {"pay": "D", "sku": "TEA"}]  # Q +9.90, P +4.95


def test_a_revoked_promoter_keeps_what_it_earned_and_earns_nothing_later() -> None:
    result = _distribution([*APPROVED_CHAIN, {"revoke_promoter": "Q", "reason": "misleading health claims"},
                            {"pay": "D", "sku": "TEA"}])
    view = result.end_state()["members"]
    assert (view["Q"]["available"], view["Q"]["promoter"]) == ("9.90", False)
    # D stays bound to Q; the level above still counts through Q: P earns its 5% again
    assert (view["D"]["bound_to"], view["P"]["available"]) == ("Q", "9.90")
    plan = result.engine.modules["distribution"]
    assert isinstance(plan, Distribution)
    read = plan.member_read(result.engine, "Q")
    assert read["revoked"]["reason"] == "misleading health claims" and read["can_apply"] is True
    assert result.outcomes[-2].facts == [{"fact": "promoter_revoked", "member": "Q",
                                          "reason": "misleading health claims"}]


def test_a_revoked_promoters_link_binds_nobody_until_it_is_approved_again() -> None:
    result = _distribution([*APPROVED_CHAIN, {"revoke_promoter": "Q", "reason": "misleading health claims"},
                            {"join": "E"}, {"visit": "E", "promoter": "Q"},
                            {"approve_promoter": "Q"}, {"visit": "E", "promoter": "Q"}])
    refused = [(str(r.code), r.field) for _seq, r in result.engine.refused]
    assert refused == [("not_allowed", "promoter")]
    plan = result.engine.modules["distribution"]
    assert isinstance(plan, Distribution)
    assert plan.bound_promoter("E", result.engine.clock) == "Q"
    assert plan.member_read(result.engine, "Q")["revoked"] is None


def test_revoking_a_member_who_is_not_approved_is_refused() -> None:
    result = _distribution([{"join": "P"}, {"revoke_promoter": "P", "reason": "x"},
                            {"revoke_promoter": "NOBODY", "reason": "x"}])
    assert [(str(r.code), r.field, r.value) for _s, r in result.engine.refused] == [
        ("promoter_not_approved", "revoke_promoter", "P"), ("member_unknown", "revoke_promoter", "NOBODY")]
    assert result.engine.refused[0][1].message("en") == (
        "revoke_promoter P is not an approved promoter: there is no approval to revoke")


def test_a_seed_moved_away_still_releases_its_partners_help_fund_when_promoted(run_chain21: Run) -> None:
    # R partner, seeds S1 and S2; S2 is moved under K; S1 and then S2 become partners: R's help fund is released
    events = [*_agents(("R", None), ("S1", "R"), ("S2", "R"), ("B", "R"), ("K", None)),
              {"reparent_member": "S2", "referrer": "K", "reason": REASON},
              *_agents(("S1a", "S1"), ("S1b", "S1"), ("S2a", "S2"), ("S2b", "S2"))]
    result = run_chain21(events)
    plan = _chain21(result)
    assert plan.standing["R"].seeds == ["S1", "S2"] and plan.standing["R"].released
    assert result.engine.balance("R", "help_fund") == 0
    assert result.engine.check_invariants() == []


def test_referral_counts_are_kept_once_asked_for_and_follow_the_moves(run_chain21: Run) -> None:
    result = run_chain21([{"join": "A"}, {"join": "B", "referrer": "A"}, {"join": "C", "referrer": "B"},
                          {"join": "D"}, {"reparent_member": "B", "referrer": "D", "reason": REASON}])
    engine = result.engine
    assert engine.recounted is None and engine.members["D"].descendants == 0  # a replay keeps no counts
    engine.track_referral_counts()  # as the worker does after its replay: one pass over the moved tree
    assert [engine.members[m].descendants for m in "ABCD"] == [0, 1, 0, 2]
    for event in ({"join": "E", "referrer": "C"}, {"reparent_member": "B", "referrer": "A", "reason": REASON}):
        verb = next(iter(event))
        fields = {k: v for k, v in event.items() if k != verb}
        cls = __import__("liandong.engine.events", fromlist=["EVENT_TYPES"]).EVENT_TYPES[verb]
        assert engine.apply(cls(at=engine.clock, **{cls.primary: event[verb]}, **fields)).applied
    assert [engine.members[m].descendants for m in "ABCDE"] == [3, 2, 1, 0, 0]
    assert engine.recounted == {"A", "B", "C", "D"} and engine.check_invariants() == []
    engine.members["A"].descendants += 1
    assert engine.check_invariants() == ["A counts 4 descendants but has 3"]
