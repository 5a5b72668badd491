"""Simulator benchmark: one million members over 180 days through the engine; prints wall time, events/s and peak
memory (figures, not a timed test). Aim: under 60 seconds on one core, under 4 GB.

    .venv/bin/python bench/simulate.py                        # chain21, 1,000,000 members, 180 days
    .venv/bin/python bench/simulate.py --plan examples/plans/referral-10.yaml --members 200000

The shop is the default preset grown faster so that it reaches the members cap inside the run: a market of
20,000,000, 100 founders, 200 people a day joining on their own (innovation 0.00001), half of the members
recruiting with 4 slots on average (imitation 0.1 a slot a day). Everything else is the default preset: purchases,
repeat buying, refunds, churn and withdrawals every 14 days, so the engine sees joins, payments, refunds,
withdrawals and a close every day. One process, one core; ``tune_gc`` as the simulator always runs it. Also printed:
CPU time (the figure to compare when the machine is shared) and the share of time inside ``Engine.apply``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from liandong.engine import tune_gc
from liandong.sim.planfile import load_plan
from liandong.sim.preset import load_preset
from liandong.sim.runner import Simulation

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default=str(ROOT / "examples" / "plans" / "chain21.yaml"))
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    preset = load_preset().with_overrides(
        name="bench", members=args.members, days=args.days, seed=args.seed,
        market={"size": 20_000_000, "innovation": 0.00001, "imitation": 0.1, "founders": 100},
        recruiting={"never_share": 0.5, "distribution": "geometric", "mean": 4.0, "recruiters": "buyers"},
    )
    plan = load_plan(args.plan, preset)
    tune_gc()
    sim = Simulation(plan, preset)
    engine_apply = sim.engine.apply
    inside = [0.0]
    clock = time.perf_counter

    def timed_apply(event: object) -> object:
        started = clock()
        outcome = engine_apply(event)  # type: ignore[arg-type]
        inside[0] += clock() - started
        return outcome

    sim.engine.apply = timed_apply  # type: ignore[assignment, method-assign]
    wall, cpu = time.perf_counter(), time.process_time()
    for day in range(preset.days):
        sim.run_day(day)
        if day % 30 == 29:
            print(f"  day {day + 1}: {sim.population.size:,} members, {sim.events:,} events, "
                  f"{time.perf_counter() - wall:.1f} s", file=sys.stderr, flush=True)
    days_wall, days_cpu = time.perf_counter() - wall, time.process_time() - cpu
    metrics = sim.collector.finish()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    totals = metrics["totals"]
    print(f"plan {plan.label}: {totals['members']:,} members over {preset.days} days, seed {preset.seed}")
    print(f"events: {sim.events:,} ({totals['orders']:,} orders, {totals['refunds']:,} refunds, "
          f"{sim.withdrawals:,} withdrawals), refused {totals['refused']}")
    print(f"wall time: {wall:.1f} s (days {days_wall:.1f} s, end metrics {wall - days_wall:.1f} s); "
          f"CPU time: {cpu:.1f} s")
    print(f"events/s: {sim.events / days_wall:,.0f} by wall time, {sim.events / days_cpu:,.0f} by CPU time; "
          f"inside Engine.apply: {inside[0]:.1f} s ({inside[0] / days_wall:.0%} of the days)")
    print(f"peak memory: {peak_mb:,.0f} MB (max resident set size)")
    print(f"sales {totals['sales']}, rewards {totals['rewards']}, payout ratio {totals['payout_ratio']}, "
          f"ledger balanced {totals['ledger_balanced']}")


if __name__ == "__main__":
    main()
