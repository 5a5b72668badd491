"""``simulate --events FILE``: the event stream, replayed by ``liandong replay``, reaches the same totals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liandong import scenario as sc
from liandong.cli import app
from liandong.engine.money import parse_yuan
from liandong.sim.export import ScenarioWriter
from liandong.sim.planfile import parse_plan_doc
from liandong.sim.preset import load_preset
from liandong.sim.runner import Simulation


@pytest.mark.parametrize("plan_doc", [
    {"plan": "chain21", "settle_after_days": 2},
    {"plan": "distribution", "levels": 2, "rates": ["0.10", "0.05"], "withdrawal_fee_rate": "0.01"},
    {"plans": {"chain21": {"skus": ["GIFT"]}, "points": {}}},
], ids=["chain21", "distribution", "chain21+points"])
def test_replaying_the_written_events_reaches_the_simulations_totals(tmp_path: Path, plan_doc: dict[str, Any]) -> None:
    preset = load_preset().with_overrides(members=250, days=45, withdrawals={"every_days": 3, "threshold": "20.00"})
    plan = parse_plan_doc(plan_doc, "test", preset)
    path = tmp_path / "events.yaml"
    writer = ScenarioWriter(path, plan, preset)
    sim = Simulation(plan, preset, sink=writer)
    metrics = sim.run()
    expect = writer.finish(sim.engine)
    assert sim.withdrawals > 0 and sim.refunds > 0  # the stream exercises withdrawals and refunds too

    replayed = sc.replay(sc.load(path))
    state = replayed.end_state()
    assert state["platform"]["sales"] == metrics["totals"]["sales"]
    assert state["platform"]["rewards"] == metrics["totals"]["rewards"]
    assert state["refused"] == [] and state["ledger"]["balanced"]
    assert sc.compare(expect, state) == []
    for m in range(sim.population.size):
        mid = sim.ids[m]
        view = state["members"][mid]
        books = sum(parse_yuan(view[b]) for b in ("available", "pending", "help_fund", "withdrawing", "withdrawn"))
        assert books + sim.fees[m] == sim.rewards_of(m), mid


def test_liandong_replay_accepts_the_file_and_checks_its_expect(tmp_path: Path) -> None:
    preset = load_preset().with_overrides(members=120, days=20)
    plan = parse_plan_doc({"plan": "chain21"}, "test", preset)
    path = tmp_path / "events.yaml"
    writer = ScenarioWriter(path, plan, preset)
    sim = Simulation(plan, preset, sink=writer)
    sim.run()
    writer.finish(sim.engine)
    result = CliRunner().invoke(app, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{sim.events} events, 0 refused" in result.output
    tampered = path.read_text(encoding="utf-8").replace('"rewards": "', '"rewards": "1', 1)
    path.write_text(tampered, encoding="utf-8")
    assert CliRunner().invoke(app, ["replay", str(path)]).exit_code == 1
