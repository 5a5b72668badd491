"""``liandong``: the command line. Exit codes: 0 ok, 1 a check failed (a diff, a failed audit), 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import scenario as sc

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Liandong (链动): an auditable incentive engine.")
out = Console()
err = Console(stderr=True)


@app.command()
def replay(
    file: Annotated[Path, typer.Argument(help="a scenario YAML file")],
    as_json: Annotated[bool, typer.Option("--json", help="print the end state as JSON")] = False,
    statement: Annotated[str | None, typer.Option("--statement", help="print this member's statement")] = None,
    lang: Annotated[str, typer.Option(help="en or zh-Hans")] = "en",
) -> None:
    """Replay a scenario through the engine; exit 1 with a diff when its `expect` does not hold, 2 if malformed."""
    try:
        scenario = sc.load(file)
    except sc.ScenarioError as exc:
        err.print(f"[red]malformed scenario[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    result = sc.replay(scenario)
    state = result.end_state()
    if statement is not None:
        if statement not in result.engine.members:
            err.print(f"statement: {statement!r} is not a member of this scenario", highlight=False)
            raise typer.Exit(2)
        for line in sc.statement_lines(result.engine, statement, lang):
            print(line)
    elif as_json:
        print(json.dumps(state, ensure_ascii=False, indent=2))
    diffs = sc.compare(scenario.expect, state) if scenario.expect is not None else []
    if diffs:
        err.print(f"[red]FAIL[/red] {file}: {scenario.name}", markup=True, highlight=False)
        for line in diffs:
            err.print(f"  - {line}", highlight=False, markup=False)
        raise typer.Exit(1)
    if not as_json and statement is None:
        verdict = "ok" if scenario.expect is not None else "replayed (no expect)"
        out.print(
            f"{verdict}: {scenario.name} — {len(scenario.events)} events, "
            f"{len(state['refused'])} refused, {state['ledger']['transactions']} transactions, "
            f"ledger {'balanced' if state['ledger']['balanced'] else 'NOT balanced'}",
            highlight=False, markup=False,
        )


@app.command("verify-draw")
def verify_draw(
    file: Annotated[Path, typer.Argument(help="a draw record, a JSON list of them, or replay --json")],
) -> None:
    """Recompute draws from their published records: exit 0 when all match, 1 naming the first that does not."""
    from .engine.draw import verify_draw_file

    code, message = verify_draw_file(file)
    (out if code == 0 else err).print(message, highlight=False, markup=False)
    raise typer.Exit(code)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="folder of scenarios")] = Path("../shared/scenarios"),
) -> None:
    """Replay every scenario in a folder and print a summary (exit 1 if any fails)."""
    failed = 0
    files = sorted(directory.glob("*.yaml"))
    for file in files:
        try:
            scenario = sc.load(file)
        except sc.ScenarioError as exc:
            out.print(f"[red]malformed[/red] {exc}", highlight=False)
            failed += 1
            continue
        state = sc.replay(scenario).end_state()
        diffs = sc.compare(scenario.expect, state) if scenario.expect else []
        mark = "[green]ok  [/green]" if not diffs else "[red]FAIL[/red]"
        out.print(f"{mark} {file.name}: {scenario.name} (sales {state['platform']['sales']}, "
                  f"rewards {state['platform']['rewards']})", highlight=False)
        failed += bool(diffs)
    out.print(f"{len(files) - failed} passed, {failed} failed", highlight=False)
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
