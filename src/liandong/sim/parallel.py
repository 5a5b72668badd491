"""Several runs of one plan with different seeds: in this process, over processes, or over a Dask cluster.

Run i uses seed ``preset.seed + i``. Each run is a pure function of (plan, preset, seed), shipped to workers as
plain data, so it gives the same figures in a process pool, on a Dask worker or here. ``summarize`` reports, for
each headline figure, the mean and the range over the runs; money means are floored to the fen.

    runs = run_many(plan, preset, runs=4)                   # 4 seeds over local processes
    runs = run_many(plan, preset, runs=16, dask="tcp://scheduler:8786")
    summary = summarize(runs)                               # {"payout_ratio": {"mean": .., "min": .., "max": ..}}
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import Manager
from typing import Any

from ..engine import tune_gc
from ..engine.money import format_fen, parse_yuan
from .export import ScenarioWriter
from .planfile import PlanSpec
from .preset import Preset
from .runner import Simulation

Progress = Callable[[int, int, int], None]  # (run index, days done, days)


@dataclass(frozen=True)
class RunTask:
    """One run as plain data (picklable): the plan file's content, the preset's and the seed."""

    index: int
    plan: dict[str, Any]
    preset: dict[str, Any]
    events_path: str | None = None


def task_for(plan: PlanSpec, preset: Preset, index: int, events_path: str | None = None,
             seed: int | None = None) -> RunTask:
    """Run ``index`` of a batch; its seed is ``preset.seed + index`` unless given."""
    spec = {"path": plan.path, "plans": plan.plans, "campaigns": plan.campaigns}
    seed = preset.seed + index if seed is None else seed
    return RunTask(index, spec, preset.with_overrides(seed=seed).describe(), events_path)


def run_task(task: RunTask, progress: Any = None) -> dict[str, Any]:
    """Run one simulation; ``progress`` is a queue (or callable) told ``(index, day + 1, days)`` after each day."""
    tune_gc()
    preset = Preset.model_validate(task.preset)
    plan = PlanSpec(task.plan["path"], task.plan["plans"], task.plan["campaigns"])
    writer = ScenarioWriter(task.events_path, plan, preset) if task.events_path else None
    sim = Simulation(plan, preset, sink=writer)

    def on_day(day: int, days: int) -> None:
        if progress is None:
            return
        if callable(progress):
            progress(task.index, day + 1, days)
        else:
            progress.put((task.index, day + 1, days))

    started = time.perf_counter()
    metrics = sim.run(on_day)
    seconds = time.perf_counter() - started
    if writer is not None:
        writer.finish(sim.engine)
    return {"index": task.index, "seed": preset.seed, "seconds": round(seconds, 3), "events": sim.events,
            "metrics": metrics}


def run_many(plan: PlanSpec, preset: Preset, runs: int = 1, *, workers: int | None = None, dask: str | None = None,
             events_path: str | None = None, progress: Progress | None = None) -> list[dict[str, Any]]:
    """``runs`` simulations (seeds ``preset.seed`` upwards), in run order. The first run writes ``events_path``."""
    tasks = [task_for(plan, preset, i, events_path if i == 0 else None) for i in range(runs)]
    return run_tasks(tasks, workers=workers, dask=dask, progress=progress)


def run_tasks(tasks: list[RunTask], *, workers: int | None = None, dask: str | None = None,
              progress: Progress | None = None) -> list[dict[str, Any]]:
    """Run tasks (indexed 0..n-1) here, over processes, or on Dask; results in task order."""
    if dask is not None:
        return _on_dask(tasks, dask, progress)
    workers = min(len(tasks), workers or os.cpu_count() or 1)
    if workers <= 1:
        return [run_task(t, progress) for t in tasks]
    return _on_processes(tasks, workers, progress)


def _on_processes(tasks: list[RunTask], workers: int, progress: Progress | None) -> list[dict[str, Any]]:
    with Manager() as manager, ProcessPoolExecutor(max_workers=workers) as pool:
        days_done = manager.Queue()
        futures: list[Future[dict[str, Any]]] = [pool.submit(run_task, t, days_done) for t in tasks]
        while not all(f.done() for f in futures):
            try:
                index, day, days = days_done.get(timeout=0.2)
            except queue.Empty:
                continue
            if progress is not None:
                progress(index, day, days)
        return [f.result() for f in futures]


def _on_dask(tasks: list[RunTask], address: str, progress: Progress | None) -> list[dict[str, Any]]:
    """Over a Dask cluster: ``address`` of a scheduler, or ``local`` for a LocalCluster on this machine."""
    from distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=min(len(tasks), os.cpu_count() or 1),  # type: ignore[no-untyped-call]
                           threads_per_worker=1, processes=True, dashboard_address=None) if address == "local" else None
    client = Client(cluster if cluster is not None else address)  # type: ignore[no-untyped-call]
    try:
        futures = [client.submit(run_task, t, key=f"liandong-run-{t.index}-{t.preset['seed']}", pure=False)
                   for t in tasks]
        results: dict[int, dict[str, Any]] = {}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            result = future.result()
            results[result["index"]] = result
            if progress is not None:
                days = tasks[result["index"]].preset["days"]
                progress(result["index"], days, days)
        return [results[i] for i in range(len(tasks))]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


# --- the summary over runs ------------------------------------------------------------------------------------------

#: Headline figures: (name in the summary, path in a run's metrics, kind: "money", "ratio" or "count")
HEADLINES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("members", ("totals", "members"), "count"),
    ("earners", ("totals", "earners"), "count"),
    ("sales", ("totals", "sales"), "money"),
    ("rewards", ("totals", "rewards"), "money"),
    ("margin", ("totals", "margin"), "money"),
    ("cash", ("totals", "cash"), "money"),
    ("liabilities", ("totals", "liabilities"), "money"),
    ("payout_ratio", ("totals", "payout_ratio"), "ratio"),
    ("share_net_below_zero", ("net_result", "share_below_zero"), "ratio"),
    ("median_net_result", ("net_result", "quantiles", "p50"), "money"),
    ("gini", ("rewards_concentration", "gini"), "ratio"),
    ("top_1pct_share", ("rewards_concentration", "top_1pct_share"), "ratio"),
    ("top_10pct_share", ("rewards_concentration", "top_10pct_share"), "ratio"),
    ("max_depth", ("depth", "max"), "count"),
    ("max_paid_level", ("classification", "max_paid_level"), "count"),
    ("recruitment_triggered_share", ("classification", "recruitment_triggered_share"), "ratio"),
    ("early_late_ratio", ("classification", "early_late_ratio"), "ratio"),
)


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean, min and max of each headline figure over the runs (figures a run could not measure are left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name, path, kind in HEADLINES:
        values = [v for r in runs if (v := _dig(r["metrics"], path)) is not None]
        if not values:
            continue
        if kind == "money":
            fen = [parse_yuan(v) for v in values]
            out[name] = {"mean": format_fen(sum(fen) // len(fen)), "min": format_fen(min(fen)),
                         "max": format_fen(max(fen))}
        else:
            mean = sum(values) / len(values)
            shown = round(mean, 6) if kind == "ratio" else (int(mean) if mean == int(mean) else round(mean, 2))
            out[name] = {"mean": shown, "min": min(values), "max": max(values)}
        out[name]["runs"] = len(values)
    return out


BAND_SERIES = ("members", "sales_cum", "rewards_cum", "margin_cum", "cash")


def bands(runs: list[dict[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    """Per day, the mean and range over runs of a few cumulative series (for the report's run bands)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for name in BAND_SERIES:
        columns = [r["metrics"]["series"][name] for r in runs]
        money = isinstance(columns[0][0], str) if columns[0] else False
        rows = list(zip(*columns, strict=True))
        if money:
            fen_rows = [[parse_yuan(v) for v in row] for row in rows]
            out[name] = {"mean": [format_fen(sum(r) // len(r)) for r in fen_rows],
                         "min": [format_fen(min(r)) for r in fen_rows], "max": [format_fen(max(r)) for r in fen_rows]}
        else:
            out[name] = {"mean": [round(sum(r) / len(r), 2) for r in rows], "min": [min(r) for r in rows],
                         "max": [max(r) for r in rows]}
    return out
