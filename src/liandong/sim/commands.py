"""What ``liandong simulate`` and ``liandong audit`` do, apart from parsing their options (``cli.py``).

Both read a plan file and a preset (bad input: exit 2 naming the file, the key and the value), show a rich
progress bar, and write a JSON and an HTML file into ``--out``: ``<plan>-simulation.json/.html`` or
``<plan>-audit.json/.html``. ``audit`` exits 1 when any check fails, so it can gate a plan change in CI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .parallel import Progress as ProgressCallback
from .parallel import bands, run_many, summarize
from .planfile import PlanFileError, PlanSpec, load_plan
from .preset import Preset, PresetError, load_preset
from .report import simulation_html

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass(frozen=True)
class Inputs:
    plan: PlanSpec
    preset: Preset


def read_inputs(plan_file: Path, preset_file: Path | None, err: Console, **overrides: Any) -> Inputs | None:
    """The plan and the preset with the command line's overrides; None (after saying why) when either is bad."""
    try:
        preset = load_preset(preset_file).with_overrides(**overrides)
        plan = load_plan(plan_file, preset)
    except (PresetError, PlanFileError) as exc:
        err.print(f"[red]bad input[/red] {exc}", highlight=False)
        return None
    return Inputs(plan, preset)


@contextmanager
def progress_bar(console: Console, runs: int, days: int, what: str) -> Iterator[ProgressCallback]:
    """A rich progress bar per run (days done); yields the callback the runs report to."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = [progress.add_task(f"{what} run {i + 1}", total=days) for i in range(runs)]

        def update(index: int, day: int, total: int) -> None:
            progress.update(tasks[index], completed=day, total=total)

        yield update


def simulation_doc(inputs: Inputs, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``simulate`` JSON: inputs, each run's headline, the summary over runs, bands, and the first run in full."""
    return {
        "plan": inputs.plan.label,
        "plans": inputs.plan.plans,
        "preset": inputs.preset.describe(),
        "runs": [{"seed": r["seed"], "seconds": r["seconds"], "events": r["events"],
                  "totals": r["metrics"]["totals"]} for r in runs],
        "summary": summarize(runs),
        "bands": bands(runs) if len(runs) > 1 else {},
        "detail": runs[0]["metrics"],
    }


def write_outputs(out_dir: Path, stem: str, doc: dict[str, Any], page: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / f"{stem}.json", out_dir / f"{stem}.html"
    json_path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    html_path.write_text(page, encoding="utf-8")
    return json_path, html_path


def simulate_command(plan_file: Path, preset_file: Path | None, *, runs: int, workers: int | None,
                     dask: str | None, events: Path | None, out_dir: Path, console: Console, err: Console,
                     **overrides: Any) -> int:
    inputs = read_inputs(plan_file, preset_file, err, **overrides)
    if inputs is None:
        return EXIT_BAD_INPUT
    if runs < 1:
        err.print(f"[red]bad input[/red] --runs: {runs}: at least 1", highlight=False)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    with progress_bar(console, runs, inputs.preset.days, inputs.plan.label) as update:
        results = run_many(inputs.plan, inputs.preset, runs, workers=workers, dask=dask,
                           events_path=str(events) if events else None, progress=update)
    doc = simulation_doc(inputs, results)
    json_path, html_path = write_outputs(out_dir, f"{inputs.plan.label}-simulation", doc, simulation_html(doc))
    _print_summary(console, doc, time.perf_counter() - started)
    console.print(f"wrote {json_path} and {html_path}" + (f"; events of the first run in {events}" if events else ""),
                  highlight=False)
    return EXIT_OK


def _print_summary(console: Console, doc: dict[str, Any], seconds: float) -> None:
    events = sum(r["events"] for r in doc["runs"])
    console.print(f"{len(doc['runs'])} run(s), {events:,} events in {seconds:.1f} s", highlight=False)
    for name, figure in doc["summary"].items():
        spread = "" if figure["min"] == figure["max"] else f"  (range {figure['min']} to {figure['max']})"
        console.print(f"  {name}: {figure['mean']}{spread}", highlight=False)


def audit_command(plan_file: Path, preset_file: Path | None, *, stall_day: int, workers: int | None,
                  dask: str | None, out_dir: Path, console: Console, err: Console, **overrides: Any) -> int:
    """Exit 0 when every check passes or warns, 1 when any fails, 2 for bad input."""
    from .audit import FAIL, audit_doc, gather
    from .report import audit_html

    inputs = read_inputs(plan_file, preset_file, err, **overrides)
    if inputs is None:
        return EXIT_BAD_INPUT
    if not 0 < stall_day < inputs.preset.days:
        err.print(f"[red]bad input[/red] --stall-day: {stall_day}: between 1 and days - 1 ({inputs.preset.days - 1})",
                  highlight=False)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    with progress_bar(console, 2, inputs.preset.days, f"audit {inputs.plan.label}") as update:
        evidence = gather(inputs.plan, inputs.preset, stall_day, workers=workers, dask=dask, progress=update)
    doc = audit_doc(evidence)
    json_path, html_path = write_outputs(out_dir, f"{inputs.plan.label}-audit", doc, audit_html(doc))
    marks = {"pass": "[green]pass[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]",
             "n/a": "[dim]n/a [/dim]"}
    for check in doc["checks"]:
        console.print(f"{marks[check['status']]}  {check['title']}: {check['figure']}", highlight=False)
    counts = doc["counts"]
    console.print(f"{doc['verdict'].upper()}: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail, "
                  f"{counts['n/a']} n/a in {time.perf_counter() - started:.1f} s; wrote {json_path} and {html_path}",
                  highlight=False)
    return EXIT_FAILED if doc["verdict"] == FAIL else EXIT_OK
