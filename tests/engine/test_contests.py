"""Team contests (engine/plans/contests.py): the four metrics counted from a member's joining and inside the window
only, ties to the team that reached its figure first, refunds inside the window taken out and after the end not,
the rules frozen at the start, joins by invite or by assignment, the day's standings told to every team member, and
prizes paid once at the end as ledger postings naming the contest and the rank."""

from __future__ import annotations

from typing import Any

from liandong import scenario as sc

PRODUCTS: list[dict[str, Any]] = [{"sku": "TEA", "price": "10.00"},
                                  {"sku": "GIFT", "price": "699.00", "gift_pack": True}]
START = "2026-01-02T00:00:00+08:00"
END = "2026-01-03T00:00:00+08:00"


def contest(cid: str, metric: str, joining: str = "invite", prizes: list[dict[str, Any]] | None = None,
            **over: Any) -> dict[str, Any]:
    return {"create_contest": cid, "name": f"PK {cid}", "start": START, "end": END, "metric": metric,
            "teams": [{"id": "red", "name": "Red", "captain": "A"}, {"id": "blue", "name": "Blue", "captain": "B"}],
            "joining": joining, "prizes": prizes or [], **over}


def run(events: list[dict[str, Any]]) -> sc.Replay:
    doc = {"name": "test", "plans": {"contests": {}}, "products": PRODUCTS,
           "events": [{"join": "A"}, {"join": "B"}, *events]}
    return sc.replay(sc.parse(doc), check_invariants=True)


def view(result: sc.Replay, cid: str) -> dict[str, Any]:
    found: dict[str, Any] = result.end_state()["contests"][cid]
    return found


def standings(result: sc.Replay, cid: str) -> list[tuple[str, str]]:
    return [(s["team"], s["figure"]) for s in view(result, cid)["standings"]]


def codes(result: sc.Replay) -> list[tuple[int, str]]:
    return [(seq, str(r.code)) for seq, r in result.engine.refused]


def test_invites_count_from_the_start_and_from_the_member_joining_its_team() -> None:
    result = run([
        contest("c1", "invites"),                                              # 3
        {"join": "C", "referrer": "A", "at": "2026-01-01T10:00:00+08:00"},    # 4 before the start
        {"join": "D", "referrer": "C", "at": "2026-01-02T09:00:00+08:00"},    # 5 C in no team yet
        {"join_contest_team": "C", "contest": "c1", "captain": "A"},           # 6
        {"join": "E", "referrer": "C"},                                       # 7 red 1
        {"join": "F", "referrer": "B"},                                       # 8 blue 1, later: red first
        {"join": "G", "referrer": "B", "at": END},                            # 9 the end: not counted
    ])
    assert standings(result, "c1") == [("red", "1"), ("blue", "1")]
    assert view(result, "c1")["status"] == "over"


def test_orders_tie_goes_to_who_reached_the_figure_first_and_a_refund_moves_the_reach() -> None:
    result = run([
        contest("c1", "orders"),
        {"pay": "A", "sku": "TEA", "at": "2026-01-02T10:00:00+08:00"},   # o1 red 1
        {"pay": "A", "sku": "TEA"},                                      # o2 red 2
        {"pay": "B", "sku": "TEA"},                                      # o3 blue 1
        {"refund": "o1"},                                                # red 1, reached now: blue first
    ])
    assert standings(result, "c1") == [("blue", "1"), ("red", "1")]


def test_new_agents_are_invitees_whose_first_gift_pack_is_paid_in_the_window() -> None:
    result = run([
        contest("c1", "new_agents", joining="assigned", prizes=[{"rank": 1, "coupons": 3, "to": "each"}]),
        {"join": "C", "referrer": "A"},
        {"assign_contest_team": "C", "contest": "c1", "team": "red"},
        {"join_contest_team": "C", "contest": "c1", "captain": "B"},       # 6 refused: assigned only
        {"join": "D", "referrer": "C"},
        {"join": "E", "referrer": "B"},
        {"pay": "D", "sku": "GIFT", "at": "2026-01-02T10:00:00+08:00"},   # red 1 (D's referrer C is red)
        {"pay": "D", "sku": "GIFT"},                                      # not a first gift pack
        {"pay": "E", "sku": "TEA"},                                       # not a gift pack
        {"tick": "", "at": END},
    ])
    assert codes(result) == [(6, "contest_assigned_only")]
    assert standings(result, "c1") == [("red", "1"), ("blue", "0")]
    assert view(result, "c1")["prizes_paid"] == [{"rank": 1, "team": "red", "member": "A", "coupons": 3},
                                                 {"rank": 1, "team": "red", "member": "C", "coupons": 3}]
    assert result.engine.balance("C", "contest_coupons") == 3


def test_rules_freeze_at_the_start_and_bad_rules_are_refused_naming_why() -> None:
    change = {**contest("c1", "sales"), "metric": "orders"}
    change["change_contest"] = change.pop("create_contest")
    result = run([
        contest("c1", "sales"),                                               # 3
        change,                                                               # 4 applied: before the start
        contest("c2", "sales", end=START),                                    # 5 refused: end not after start
        contest("c3", "sales", start="2025-12-31T00:00:00+08:00"),            # 6 refused: start passed
        contest("c4", "sales", teams=[{"id": "red", "name": "R", "captain": "Z"},
                                      {"id": "blue", "name": "B", "captain": "B"}]),   # 7 unknown captain
        contest("c1", "sales"),                                               # 8 exists
        {"tick": "", "at": START},
        change,                                                               # 10 frozen
    ])
    assert codes(result) == [(5, "invalid"), (6, "contest_start_passed"), (7, "contest_captain_unknown"),
                             (8, "contest_exists"), (10, "contest_frozen")]
    assert view(result, "c1")["metric"] == "orders"
    reason = dict(result.engine.refused)[5]
    assert "end must be after start" in str(reason.params)


def test_prizes_are_paid_once_at_the_end_naming_contest_and_rank_and_late_refunds_change_nothing() -> None:
    result = run([
        contest("c1", "sales", prizes=[{"rank": 1, "cash": "100.00"}, {"rank": 2, "cash": "20.00"}]),
        {"join": "C"},
        {"join_contest_team": "C", "contest": "c1", "captain": "B"},
        {"pay": "C", "sku": "TEA", "quantity": 3, "at": "2026-01-02T10:00:00+08:00"},   # o1 blue 30.00
        {"pay": "A", "sku": "TEA", "quantity": 2},                                      # o2 red 20.00
        {"tick": "", "at": END},                                                        # blue 1st, red 2nd
        {"refund": "o1"},                                                               # after the end
        {"tick": "", "at": "2026-01-04T00:00:00+08:00"},
        {"close_day": "2026-01-04"},
    ])
    assert standings(result, "c1") == [("blue", "30.00"), ("red", "20.00")]
    engine = result.engine
    assert (engine.balance("B"), engine.balance("A"), engine.balance("C")) == (10000, 2000, 0)
    prizes = [t for t in engine.ledger.transactions if t.rule == "contest_prize"]
    assert [(t.ref, dict(t.entries)[(m, "available")]) for t, m in zip(prizes, ["B", "A"], strict=True)] == [
        ("c1 #1", 10000), ("c1 #2", 2000)]
    lines = sc.statement_lines(engine, "B")
    assert any("team contest prize" in line and "c1 #1" in line for line in lines), lines


def test_each_day_close_in_the_window_tells_every_team_member_the_standings() -> None:
    result = run([
        contest("c1", "orders"),
        {"join": "C"},
        {"join_contest_team": "C", "contest": "c1", "captain": "A"},
        {"pay": "C", "sku": "TEA", "at": "2026-01-02T10:00:00+08:00"},
        {"close_day": "2026-01-02"},
    ])
    facts = [f for o in result.outcomes for f in o.facts if f["fact"] == "contest_day_standings"]
    assert len(facts) == 1
    assert facts[0]["members"] == ["A", "B", "C"]
    assert facts[0]["day"] == "2026-01-02"
    assert [(s["rank"], s["team"], s["figure"]) for s in facts[0]["standings"]] == [(1, "red", "1"),
                                                                                    (2, "blue", "0")]


def test_a_member_joins_by_a_captains_invite_only() -> None:
    result = run([
        contest("c1", "orders"),
        {"join": "C"},
        {"join": "D"},
        {"join_contest_team": "C", "contest": "c1", "captain": "D"},    # 6 refused: D captains no team
        {"join_contest_team": "C", "contest": "c1", "captain": "B"},    # 7 blue
        {"assign_contest_team": "D", "contest": "c1", "team": "green"},  # 8 refused: no such team
    ])
    assert codes(result) == [(6, "contest_not_captain"), (8, "contest_team_unknown")]
    assert result.end_state()["members"]["C"]["contests"] == {"c1": "blue"}
