"""Every scenario file replays with its engine invariants intact and its ``expect`` holding; malformed files are
``ScenarioError``s naming the line and the key; a failing ``expect`` reads as a diff naming the key path and both
values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from liandong import scenario as sc

TESTS = Path(__file__).resolve().parent
SHARED_SCENARIOS = TESTS.parents[1] / "shared" / "scenarios"  # ../shared/scenarios from the repository root
OWN_SCENARIOS = TESTS / "scenarios"
SCENARIO_FILES = sorted(SHARED_SCENARIOS.glob("*.yaml")) + sorted(OWN_SCENARIOS.glob("*.yaml"))


def _scenario_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def test_the_shared_scenarios_are_found_beside_the_repository() -> None:
    assert (TESTS.parent / "pyproject.toml").is_file()
    assert (SHARED_SCENARIOS / "chain21-first-partner.yaml").is_file()
    assert len(list(OWN_SCENARIOS.glob("chain21-*.yaml"))) >= 16


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=_scenario_id)
def test_scenario_replays_and_its_expect_holds(path: Path) -> None:
    scenario = sc.load(path)
    # every event of ordinary files; every 100th of the long generated ones (the pre-sale check figure: 4,000 events)
    result = sc.replay(scenario, check_invariants=True, check_every=1 if len(scenario.events) <= 500 else 100)
    state = result.end_state()
    assert state["ledger"]["balanced"] is True
    if path.parent == OWN_SCENARIOS and path.name.startswith("chain21-"):
        assert scenario.expect, f"{path.name} has no expect: it would test nothing"
    assert sc.compare(scenario.expect or {}, state) == []


# --- the diff of a failing expect --------------------------------------------------------------------------------

_TWO_AGENTS = """\
name: diff
plan: chain21
products:
  - {sku: GIFT, price: "699.00", gift_pack: true}
events:
  - {join: A}
  - {pay: A, sku: GIFT}
  - {join: B, referrer: A}
  - {pay: B, sku: GIFT}
  - {withdraw: B, amount: "5.00"}
"""


def _diff(expect: dict[str, Any]) -> list[str]:
    scenario = sc.parse(_load_text(_TWO_AGENTS))
    return sc.compare(expect, sc.replay(scenario).end_state())


def _load_text(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=sc._Loader)


def test_a_failing_expect_names_the_key_path_and_both_values() -> None:
    diffs = _diff({"members": {"A": {"available": "99.00", "rank": "agent"}, "B": {"team": "A"}},
                   "pools": {"bonus": "69.90"}})
    assert diffs == [
        "members.A.available: expected 99.00, got 100.00",
        "members.B.team: expected A, got null",
    ]


def test_a_key_that_is_not_in_the_end_state_is_named() -> None:
    assert _diff({"members": {"C": {"rank": "agent"}}}) == [
        "members.C: expected {'rank': 'agent'}, but there is no such key",
    ]


def test_a_wrong_refused_count_lists_the_refused_events_with_their_reasons() -> None:
    assert _diff({"refused": 0}) == [
        "refused: expected 0 refused events, got 1 (#5 amount 5.00 is below the minimum withdrawal 10.00)",
    ]


def test_a_refused_list_is_compared_entry_by_entry() -> None:
    assert _diff({"refused": [{"event": 5, "code": "withdrawal_above_available"}]}) == [
        "refused[0].code: expected withdrawal_above_available, got withdrawal_below_minimum",
    ]


def test_an_expect_that_holds_has_no_diff() -> None:
    assert _diff({"members": {"A": {"available": "100.00", "seeds": []}}, "refused": 1,
                  "platform": {"sales": "1398.00"}}) == []


# --- malformed files ---------------------------------------------------------------------------------------------

_MALFORMED = [
    pytest.param("name: x\nplan: chain21\nevents:\n  - {join: A\n", 5, "yaml", id="bad-yaml"),
    pytest.param("name: x\nplan: chain21\nproducts: []\nevnts: []\n", 4, "evnts", id="unknown-top-level-key"),
    pytest.param("name: x\nplan: chain21\nevents:\n  - {join: A}\n  - {buy: A, sku: GIFT}\n", 5, "events[2]",
                 id="unknown-event-verb"),
    pytest.param("name: x\nplan: chain21\nevents:\n  - {join: A,\n     referer: B}\n", 5, "events[1].referer",
                 id="unknown-key-of-an-event"),
    pytest.param("name: x\nplan: chain21\nevents:\n  - {join: A}\n  - withdraw: A\n    amount: 10.5\n", 6,
                 "events[2].amount", id="float-amount"),
    pytest.param("name: x\nplan: chain21\nproducts:\n  - {sku: GIFT,\n     price: 699.0}\n", 5, "products[0].price",
                 id="float-price"),
    pytest.param("name: x\nplan: chain21\nevents:\n  - join: A\n    at: next tuesday\n", 5, "events[1].at",
                 id="bad-at"),
    pytest.param("name: x\nplan: chain21\nconfig:\n  peer_rate: \"0.10\"\n  help_fund_rate: \"1.5\"\n", 5,
                 "config.help_fund_rate", id="invalid-config-value"),
    pytest.param("name: x\nplan: chain21\nconfig:\n  team_rewards: \"200.00\"\n", 4, "config.team_rewards",
                 id="unknown-config-key"),
    pytest.param("name: x\nplans:\n  chain21:\n    team_reward: abc\n", 4, "plans.chain21.team_reward",
                 id="invalid-config-under-plans"),
    pytest.param("name: x\nplan: chain22\nevents: []\n", 2, "plan", id="unknown-plan"),
]


@pytest.mark.parametrize(("text", "line", "key"), _MALFORMED)
def test_a_malformed_file_raises_scenario_error_naming_line_and_key(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sc.ScenarioError) as caught:
        sc.load(path)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert str(caught.value).startswith(f"{path}:{line}: {key}: ")


def test_an_invalid_config_error_names_the_value() -> None:
    doc = _load_text('name: x\nplan: chain21\nconfig: {help_fund_rate: "1.5"}\n')
    with pytest.raises(sc.ScenarioError, match=r"help_fund_rate: '1\.5': .*1\.50 is more than 1"):
        sc.parse(doc, "inline.yaml")


def test_a_float_amount_error_says_to_write_a_string() -> None:
    doc = _load_text("name: x\nplan: chain21\nevents:\n  - {withdraw: A, amount: 10.5}\n")
    with pytest.raises(sc.ScenarioError, match=r"10\.5 is not an amount: write it as a string with two decimals"):
        sc.parse(doc, "inline.yaml")
