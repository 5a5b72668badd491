"""``liandong replay``: exit codes 0 / 1 / 2, the ``--json`` end state of scenarios.md, member statements."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liandong.cli import app

OWN_SCENARIOS = Path(__file__).resolve().parent / "scenarios"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
MEMBER_KEYS = {"rank", "referrer", "team", "seeds", "pending", "available", "help_fund", "withdrawing", "withdrawn"}
MEMBER_MONEY_KEYS = {"pending", "available", "help_fund", "withdrawing", "withdrawn"}

# A partner A (help fund rate 0: rewards are paid whole), agent B in A's team, buyer C referred by B.
_TEAM_REWARD = """\
name: team reward
plan: chain21
config: {help_fund_rate: "0"}
products:
  - {sku: GIFT, price: "699.00", gift_pack: true}
events:
  - {join: A}
  - {pay: A, sku: GIFT}
  - {join: A1, referrer: A}
  - {pay: A1, sku: GIFT}
  - {join: A2, referrer: A}
  - {pay: A2, sku: GIFT}
  - {join: B, referrer: A}
  - {pay: B, sku: GIFT}
  - {join: C, referrer: B}
  - {pay: C, sku: GIFT}
  - {withdraw: A, amount: "5.00"}
  - {withdraw: A, amount: "50.00"}
  - {refund: o5}
"""
_HOLDS = """\
expect:
  members:
    A: {rank: partner, available: "450.00", withdrawing: "50.00"}
"""
MONEY_LINE = re.compile(r"\[(available|pending|help fund|withdrawing|withdrawn) -?\d+\.\d{2}\]$")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_replay_exits_0_when_the_expect_holds(runner: CliRunner) -> None:
    result = runner.invoke(app, ["replay", str(OWN_SCENARIOS / "chain21-late-purchase-promotion.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: Promotion by the member's own late purchase")
    assert "12 events, 0 refused" in result.stdout
    assert "ledger balanced" in result.stdout


def test_replay_exits_1_with_a_readable_diff_when_the_expect_does_not_hold(runner: CliRunner, tmp_path: Path) -> None:
    wrong = (_TEAM_REWARD + _HOLDS).replace('available: "450.00"', 'available: "450.01"').replace(
        "    A: {", "    B: {rank: partner, team: A}\n    A: {")
    result = runner.invoke(app, ["replay", str(_write(tmp_path, wrong))])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"FAIL {tmp_path / 'scenario.yaml'}: team reward"
    assert lines[1:] == [
        "  - members.B.rank: expected partner, got agent",
        "  - members.A.available: expected 450.01, got 450.00",
    ]


def test_replay_exits_2_for_a_malformed_file_naming_its_line_and_key(runner: CliRunner, tmp_path: Path) -> None:
    bad = _TEAM_REWARD.replace("  - {join: C, referrer: B}", "  - {join: C, referer: B}")
    path = _write(tmp_path, bad)
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"malformed scenario {path}:15: events[9].referer: unknown key for join")


def test_replay_exits_2_for_a_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "nothing.yaml")])
    assert result.exit_code == 2
    assert "nothing.yaml: file:" in result.stderr


def _json_state(runner: CliRunner, path: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["replay", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    state: dict[str, Any] = json.loads(result.stdout)
    return state


def test_json_output_has_the_keys_and_formats_of_scenarios_md(runner: CliRunner, tmp_path: Path) -> None:
    state = _json_state(runner, _write(tmp_path, _TEAM_REWARD))
    assert {"members", "pools", "platform", "refused", "ledger"} <= set(state)
    assert list(state["members"]) == ["A", "A1", "A2", "B", "C"]
    for member, view in state["members"].items():
        assert set(view) >= MEMBER_KEYS, member
        assert all(MONEY.match(view[key]) for key in MEMBER_MONEY_KEYS), view
        assert view["rank"] in {"member", "agent", "partner"}
    assert state["members"]["A"] == {**state["members"]["A"], "rank": "partner", "referrer": None, "team": None,
                                     "seeds": ["A1", "A2"], "available": "450.00", "help_fund": "0.00",
                                     "pending": "0.00", "withdrawing": "50.00", "withdrawn": "0.00"}
    assert state["members"]["C"]["team"] == "A"
    assert state["members"]["C"]["referrer"] == "B"
    assert state["pools"] == {"bonus": "139.80"}
    assert state["platform"] == {"sales": "2796.00", "rewards": "500.00"}
    assert [(r["event"], r["reason"]) for r in state["refused"]] == [
        (11, "amount 5.00 is below the minimum withdrawal 10.00"),
    ]
    assert state["ledger"]["balanced"] is True
    assert isinstance(state["ledger"]["transactions"], int)
    assert state["ledger"]["transactions"] > 0


def test_statement_lines_name_the_rule_the_order_the_buyer_and_the_balance_after(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["replay", str(_write(tmp_path, _TEAM_REWARD)), "--statement", "A"])
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if MONEY_LINE.search(line)]  # not coupons or points
    assert all(re.match(r"^2026-01-01 08:00:\d\d  ", line) for line in lines)
    texts = [line[len("2026-01-01 08:00:00  "):] for line in lines]
    assert texts == [
        "+100.00 direct reward · order o2 by A1 (your referral)  [available 100.00]",
        "+100.00 direct reward · order o3 by A2 (your referral)  [available 200.00]",
        "+300.00 direct reward · order o4 by B (your referral)  [available 500.00]",
        "+200.00 team reward · order o5 by C (your team)  [available 700.00]",
        "-50.00 withdrawal requested · w2  [available 650.00]",
        "+50.00 withdrawal requested → withdrawing · w2  [withdrawing 50.00]",
        "-200.00 team reward reversed · order o5 by C  [available 450.00]",
    ]


def test_statement_shows_the_help_fund_part_of_a_split_reward(runner: CliRunner, tmp_path: Path) -> None:
    split = _TEAM_REWARD.replace('config: {help_fund_rate: "0"}\n', "")
    result = runner.invoke(app, ["replay", str(_write(tmp_path, split)), "--statement", "A"])
    assert "+160.00 team reward · order o5 by C (your team)  [available 600.00]" in result.stdout
    assert "+40.00 team reward → help fund · order o5 by C (your team)  [help fund 100.00]" in result.stdout
    assert "-40.00 team reward reversed → help fund · order o5 by C  [help fund 60.00]" in result.stdout


def test_statement_in_chinese(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, _TEAM_REWARD)
    result = runner.invoke(app, ["replay", str(path), "--statement", "A", "--lang", "zh-Hans"])
    assert "+200.00 团队奖(见点) · 订单 o5 买家 C (你的团队)  [可用 700.00]" in result.stdout


def test_statement_of_someone_not_in_the_scenario_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(_write(tmp_path, _TEAM_REWARD)), "--statement", "Z"])
    assert result.exit_code == 2
    assert "statement: 'Z' is not a member of this scenario" in result.stderr
