"""``liandong simulate`` and ``liandong audit`` from the command line: outputs, runs, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from liandong.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
SMALL = ["--members", "150", "--days", "30"]


def small_preset(tmp_path: Path, **purchases: object) -> Path:
    path = tmp_path / "preset.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "market": {"innovation": 0.000002, "imitation": 0.3},
                                    "purchases": dict(purchases)}), encoding="utf-8")
    return path


def test_simulate_writes_metrics_json_and_a_self_contained_html_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "chain21.yaml"), *SMALL, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "chain21-simulation.json").read_text(encoding="utf-8"))
    assert doc["detail"]["totals"]["members"] == 150
    assert len(doc["detail"]["series"]["day"]) == 30
    assert doc["summary"]["members"] == {"mean": 150, "min": 150, "max": 150, "runs": 1}
    page = (tmp_path / "chain21-simulation.html").read_text(encoding="utf-8")
    assert page.count('class="plotly-graph-div"') == 8 and "<script src=" not in page  # plotly.js inlined
    for heading in ("Members by rank over time", "Help funds frozen", "Lorenz curve", "join cohort",
                    "Depth of the invitation graph", "net results"):
        assert heading in page
    assert "payout ratio" in page


def test_several_runs_report_means_and_ranges_over_seeds(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "referral-10.yaml"), *SMALL, "--runs", "3",
                                      "--workers", "2", "--seed", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "referral-10-simulation.json").read_text(encoding="utf-8"))
    assert [r["seed"] for r in doc["runs"]] == [5, 6, 7]
    sales = doc["summary"]["sales"]
    assert float(sales["min"]) <= float(sales["mean"]) <= float(sales["max"]) and sales["min"] != sales["max"]
    assert len(doc["bands"]["sales_cum"]["mean"]) == 30
    assert "Across runs" in (tmp_path / "referral-10-simulation.html").read_text(encoding="utf-8")


def test_simulate_events_file_replays_to_the_same_totals(tmp_path: Path) -> None:
    events = tmp_path / "run.yaml"
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "chain21.yaml"), *SMALL, "--events", str(events),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    replay = CliRunner().invoke(app, ["replay", str(events), "--json"])
    assert replay.exit_code == 0, replay.output
    state = json.loads(replay.output)
    totals = json.loads((tmp_path / "chain21-simulation.json").read_text(encoding="utf-8"))["detail"]["totals"]
    assert state["platform"] == {"sales": totals["sales"], "rewards": totals["rewards"]}


@pytest.mark.parametrize("args, message", [
    (["simulate", "missing.yaml"], "No such file"),
    (["simulate", str(EXAMPLES / "chain21.yaml"), "--members", "0"], "members: 0"),
    (["simulate", str(EXAMPLES / "chain21.yaml"), "--runs", "0"], "--runs: 0"),
    (["audit", str(EXAMPLES / "chain21.yaml"), "--stall-day", "500"], "--stall-day: 500"),
])
def test_bad_input_exits_2_naming_the_key_and_value(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_bad_plan_file_exits_2_naming_the_key_and_value(tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text('plan: chain21\nteam_reward: "2OO.00"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", str(plan)])
    assert result.exit_code == 2
    assert "chain21.team_reward: '2OO.00'" in result.output


def test_audit_exits_1_when_a_check_fails_and_0_when_none_does(tmp_path: Path) -> None:
    args = ["--members", "200", "--days", "40", "--stall-day", "15", "--out", str(tmp_path)]
    failing = CliRunner().invoke(app, ["audit", str(EXAMPLES / "chain21.yaml"), *args,
                                       "--preset", str(small_preset(tmp_path))])
    assert failing.exit_code == 1, failing.output
    assert "FAIL" in failing.output and "Entry package required to earn" in failing.output
    doc = json.loads((tmp_path / "chain21-audit.json").read_text(encoding="utf-8"))
    assert doc["verdict"] == "fail" and len(doc["checks"]) == 17
    assert all(c["sources"] and c["threshold"] and c["figure"] for c in doc["checks"])
    assert "禁止传销条例 Art. 7" in (tmp_path / "chain21-audit.html").read_text(encoding="utf-8")

    passing = CliRunner().invoke(app, ["audit", str(EXAMPLES / "referral-10.yaml"), *args,
                                       "--preset", str(small_preset(tmp_path, first_sku="TEA"))])
    assert passing.exit_code == 0, passing.output
    assert json.loads((tmp_path / "referral-10-audit.json").read_text(encoding="utf-8"))["verdict"] in ("pass", "warn")


@pytest.mark.slow
def test_runs_spread_over_a_local_dask_cluster_give_the_same_figures(tmp_path: Path) -> None:
    here = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "chain21.yaml"), *SMALL, "--runs", "2",
                                    "--workers", "1", "--out", str(tmp_path / "here")])
    dask = CliRunner().invoke(app, ["simulate", str(EXAMPLES / "chain21.yaml"), *SMALL, "--runs", "2",
                                    "--dask", "local", "--out", str(tmp_path / "dask")])
    assert here.exit_code == 0 and dask.exit_code == 0, dask.output
    a = json.loads((tmp_path / "here" / "chain21-simulation.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "dask" / "chain21-simulation.json").read_text(encoding="utf-8"))
    assert a["summary"] == b["summary"] and a["detail"] == b["detail"]
