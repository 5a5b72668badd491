"""``liandong``: the command line. Exit codes: 0 ok, 1 a check failed (a diff, a failed audit), 2 bad input."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import scenario as sc

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Liandong (链动): an auditable incentive engine.")
# soft_wrap: a long line (a diff naming a key path, a file:line: key message) stays one line, whatever the width
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


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
    for note in result.notes:  # a campaign without a secret in the file drew with a random one: say which
        err.print(note, highlight=False, markup=False)
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


@app.command("verify-liabilities")
def verify_liabilities(
    file: Annotated[Path, typer.Argument(help="your inclusion path, downloaded from the shop's /liabilities page")],
    root: Annotated[str | None, typer.Option(help="the published root (hex); default: the one in the file")] = None,
    total: Annotated[str | None, typer.Option(help="the published total owed, e.g. 12345.67")] = None,
    members: Annotated[int | None, typer.Option(help="the published member count")] = None,
) -> None:
    """Check a member's inclusion path in a day's proof of liabilities: exit 0 when it recomputes to the root and
    total, 1 naming what differs, 2 for a file that is not a path."""
    from .service.liabilities import verify_proof_file

    code, message = verify_proof_file(file, root=root, total=total, members=members)
    (out if code == 0 else err).print(message, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="folder of scenarios")] = Path("../shared/scenarios"),
) -> None:
    """Replay every scenario in a folder and print a summary (exit 1 if any fails)."""
    if not directory.is_dir():
        err.print(f"demo: {directory} is not a folder of scenarios", highlight=False, markup=False)
        raise typer.Exit(2)
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


# --- the simulator and the audit (see docs/simulator.md and docs/audit.md) ---------------------------------------

PresetOption = Annotated[Path | None, typer.Option("--preset", help="a scenario preset YAML (default: the built-in)")]
OutOption = Annotated[Path, typer.Option("--out", help="folder for the JSON and HTML reports")]


@app.command()
def simulate(
    plan_file: Annotated[Path, typer.Argument(help="a plan file: `plan: chain21` and its keys, or `plans:`")],
    preset: PresetOption = None,
    members: Annotated[int | None, typer.Option(help="members cap (overrides the preset)")] = None,
    days: Annotated[int | None, typer.Option(help="days to simulate (overrides the preset)")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed of the first run (overrides the preset)")] = None,
    stall_day: Annotated[int | None, typer.Option(help="nobody joins from this day on")] = None,
    runs: Annotated[int, typer.Option(help="runs with seeds seed, seed+1, …; reports means and ranges")] = 1,
    workers: Annotated[int | None, typer.Option(help="processes for --runs (default: one per CPU)")] = None,
    dask: Annotated[str | None, typer.Option(help="run on a Dask scheduler ADDRESS, or `local` for a local cluster")]
    = None,
    events: Annotated[Path | None, typer.Option(help="write the first run's events as a scenario for replay")] = None,
    out_dir: OutOption = Path("."),
) -> None:
    """Grow a synthetic shop under a plan, day by day, through the engine; write metrics JSON and an HTML report."""
    from .sim.commands import simulate_command

    raise typer.Exit(simulate_command(plan_file, preset, runs=runs, workers=workers, dask=dask, events=events,
                                      out_dir=out_dir, console=out, err=err, members=members, days=days,
                                      seed=seed, stall_day=stall_day))


@app.command()
def audit(
    plan_file: Annotated[Path, typer.Argument(help="a plan file: `plan: chain21` and its keys, or `plans:`")],
    preset: PresetOption = None,
    members: Annotated[int | None, typer.Option(help="members cap (overrides the preset)")] = None,
    days: Annotated[int, typer.Option(help="days of each simulation (400 reaches the 365-day figures)")] = 400,
    seed: Annotated[int | None, typer.Option(help="random seed (overrides the preset)")] = None,
    stall_day: Annotated[int, typer.Option(help="the stall run: nobody joins from this day on")] = 90,
    workers: Annotated[int | None, typer.Option(help="processes for the two simulations")] = None,
    dask: Annotated[str | None, typer.Option(help="run on a Dask scheduler ADDRESS, or `local`")] = None,
    out_dir: OutOption = Path("."),
) -> None:
    """Simulate growth and a growth stall, probe attacks, grade each check against its cited threshold; write JSON
    and HTML. Exit 0 when all pass or warn, 1 when any fails, 2 for bad input."""
    from .sim.commands import audit_command

    raise typer.Exit(audit_command(plan_file, preset, stall_day=stall_day, workers=workers, dask=dask,
                                   out_dir=out_dir, console=out, err=err, members=members, days=days, seed=seed))


# --- the service (Django; see docs/service.md) --------------------------------------------------------------------


class BadConfiguration(Exception):
    """The service cannot start as configured: the message is the one line the command prints (exit 2)."""


def _database_name() -> str:
    """The database the settings name, without its password: "postgresql test_x at 127.0.0.1:5432"."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    vendor = str(db.get("ENGINE", "")).rsplit(".", 1)[-1]
    where = f" at {db.get('HOST')}:{db.get('PORT') or 'default port'}" if db.get("HOST") else ""
    return f"{vendor} database {db.get('NAME')}{where}"


def _django(needs_secret: bool = True) -> None:
    """Django set up from the environment, and the database reachable; else ``BadConfiguration``.
    A command that signs nothing (``verify``, ``worker``) runs without ``LIANDONG_SECRET_KEY``: it gets a random
    key for this process only (no session, token or form is made with it)."""
    import os
    import secrets

    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError, connection

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liandong.web.settings")
    if not needs_secret and not os.environ.get("LIANDONG_SECRET_KEY"):
        os.environ["LIANDONG_SECRET_KEY"] = secrets.token_urlsafe(32)
    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise BadConfiguration(_first_line(exc)) from None
    except (ValueError, OSError) as exc:  # dj-database-url's unknown scheme, an unusable LIANDONG_HOME
        detail = _first_line(exc)
        raise BadConfiguration(f"DATABASE_URL or LIANDONG_HOME cannot be used: {detail}") from None
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        raise BadConfiguration(f"cannot reach the {_database_name()}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
    return text.removeprefix("ImproperlyConfigured: ")


def _shop_file_check() -> None:
    """A shop file named by ``LIANDONG_SHOP_FILE`` is checked at every start (it is read on a new database only,
    so a wrong one would otherwise pass unnoticed until then)."""
    import os

    from .service.shopfile import load_shop_file

    if os.environ.get("LIANDONG_SHOP_FILE"):
        load_shop_file(os.environ["LIANDONG_SHOP_FILE"])


def _payment_providers() -> None:
    """Say which payment providers are on (docs/payments.md): each needs all its LIANDONG_WECHATPAY_* or
    LIANDONG_ALIPAY_* settings; the demo provider serves `make run` whatever they are."""
    from .web.payments import registry

    for line in registry.load():
        err.print(f"payments: {line}", highlight=False, markup=False)


@contextlib.contextmanager
def _service(command: str) -> Iterator[None]:
    """Bad configuration ends the service command with one line and exit 2: a missing secret key, a bad
    DATABASE_URL, an unreachable or unmigrated database, a missing or invalid shop file."""
    try:
        yield
    except Exception as exc:
        problem = _configuration_problem(exc)
        if problem is None:
            raise
        err.print(f"liandong {command}: {problem}", highlight=False, markup=False)
        raise typer.Exit(2) from None


def _configuration_problem(exc: Exception) -> str | None:
    from django.apps import apps
    from django.db import DatabaseError

    if isinstance(exc, BadConfiguration):
        return str(exc)
    if isinstance(exc, DatabaseError):
        return (f"the {_database_name()} failed: {_first_line(exc)} (is it migrated? `liandong manage migrate`)")
    if apps.ready:  # the shop file's module reads the store's models, which need Django set up
        from .service.shopfile import ShopFileError

        if isinstance(exc, ShopFileError):
            return f"shop file {exc}"
    return None


@app.command()
def worker(
    batch: Annotated[int, typer.Option(help="events applied per database transaction, at most")] = 500,
) -> None:
    """The engine worker, the single writer: applies the event log in batches and commits; a second one waits."""
    with _service("worker"):
        _django(needs_secret=False)
        _shop_file_check()
        from .service.worker import run_worker_process

        run_worker_process(batch_size=batch)


@app.command()
def verify() -> None:
    """Replay the whole event log in memory and compare every outcome, entry, balance and projection with the
    database: exit 0 when all match, 1 listing the differences."""
    with _service("verify"):
        _django(needs_secret=False)
        from .service.verify import verify as verify_database

        report = verify_database()
    if report.ok:
        out.print(report.summary(), highlight=False, markup=False)
        raise typer.Exit(0)
    for line in report.differences:
        err.print(line, highlight=False, markup=False)
    if report.hidden:
        err.print(f"… and {report.hidden} more", highlight=False, markup=False)
    err.print(f"FAIL: {len(report.differences) + report.hidden} differences; {report.summary()}",
              highlight=False, markup=False)
    raise typer.Exit(1)


@app.command()
def run(
    port: Annotated[int, typer.Option(help="the web server's port on 127.0.0.1")] = 8000,
    members: Annotated[int, typer.Option(help="members in the seeded demo shop")] = 300,
    seed: Annotated[int, typer.Option(help="random seed of the demo shop")] = 2026,
) -> None:
    """The demo (`make run`): migrate, seed a demo shop if the database is empty, start the web server and the
    worker, print the URLs and the demo logins. Ctrl-C stops both. SQLite under ./var unless DATABASE_URL is set."""
    import os

    os.environ["LIANDONG_DEBUG"] = "1"
    with _service("run"):
        _django()
        _shop_file_check()
        _payment_providers()
        from .web.demo import run_demo

        run_demo(port=port, members=members, seed=seed)


@app.command()
def serve(
    bind: Annotated[str, typer.Option(help="address:port to listen on")] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(help="gunicorn worker processes (0: 2 × CPUs + 1)")] = 0,
    threads: Annotated[int, typer.Option(min=2, help="threads per worker process (each open notice stream holds "
                                                     "one for up to a minute)")] = 16,
) -> None:
    """The production web server (gunicorn, threaded workers: the income notices' stream holds a thread while a
    member's page is open). Run `liandong worker` beside it, and `liandong manage migrate` first."""
    import os
    import sys

    count = workers or 2 * (os.cpu_count() or 1) + 1
    with _service("serve"):
        _django()
        _shop_file_check()
        _payment_providers()
        from .service.shopfile import ensure_shop_setup

        ensure_shop_setup()  # on a new database, the shop file's products enter the log before any request
    argv = [sys.executable, "-m", "gunicorn", "liandong.web.wsgi:application", "--bind", bind,
            "--workers", str(count), "--worker-class", "gthread", "--threads", str(threads),
            # a stop waits this long for requests in hand, then cuts the notice streams (their pages reconnect)
            "--graceful-timeout", "10", "--access-logfile", "-"]
    os.execv(sys.executable, argv)


@app.command("office-user")
def office_user(
    username: Annotated[str, typer.Argument(help="the login's username")],
    role: Annotated[str, typer.Option(help="owner, operator, finance or read-only (docs/office.md)")],
    password_env: Annotated[str | None, typer.Option(help="read the password from this environment variable "
                                                          "(else it is asked)")] = None,
    name: Annotated[str | None, typer.Option(help="the name the back office shows")] = None,
) -> None:
    """Create a back-office login with a role, or change an existing one's role (`/office/`)."""
    with _service("office-user"):
        _django()
        from django.core.management import call_command
        from django.core.management.base import CommandError

        extra = [*(["--password-env", password_env] if password_env else []), *(["--name", name] if name else [])]
        try:
            call_command("office_user", username, "--role", role, *extra)
        except CommandError as exc:
            err.print(f"liandong office-user: {exc}", highlight=False, markup=False)
            raise typer.Exit(2) from None


@app.command()
def reconcile(
    file: Annotated[Path, typer.Argument(help="the provider's daily bill (CSV): WeChat Pay's trade bill or "
                                              "Alipay's 业务明细")],
) -> None:
    """Match a provider's daily bill against the ledger to the fen (docs/payments.md): each payment or refund missing
    on either side, or whose amount differs, on one line; exit 0 when all match, 1 when anything is unmatched, 2 for
    a file that is not a bill."""
    with _service("reconcile"):
        _django(needs_secret=False)
        from .web.payments.reconcile import BillError, parse_bill
        from .web.payments.reconcile import reconcile as match_bill

        try:
            bill = parse_bill(file.read_bytes())
        except (OSError, BillError) as exc:
            err.print(f"liandong reconcile: {file}: {exc}", highlight=False, markup=False)
            raise typer.Exit(2) from None
        result = match_bill(bill)
    days = ", ".join(day.isoformat() for day in result.days) or "no day"
    for mismatch in result.mismatches:
        out.print(mismatch.describe(), highlight=False, markup=False, soft_wrap=True)
    out.print(f"{result.provider} {days}: {result.matched} matched, {len(result.mismatches)} unmatched",
              highlight=False, markup=False)
    raise typer.Exit(0 if result.clean else 1)


@app.command()
def payout(
    withdrawal: Annotated[str, typer.Argument(help="an approved withdrawal whose payout is pending")],
    remark: Annotated[str, typer.Option(help="what the member reads with the transfer")] = "佣金提现",
    payee_name: Annotated[str | None, typer.Option(help="the payee's real name (Alipay checks it when given)")] = None,
) -> None:
    """Pay a withdrawal through the provider its payee names (wechat:<openid>, alipay:<account>) and record its
    state: sent (waiting: run again later to refresh it), confirmed (marked paid) or failed (the money returns to
    the member's available balance with the reason). Exit 1 when it failed or could not be sent."""
    with _service("payout"):
        _django()
        from .web.payments import payouts
        from .web.payments.base import ProviderError

        try:  # the event it logs (mark paid, payout failed) is applied by `liandong worker`
            result = payouts.send(withdrawal, remark=remark, payee_name=payee_name)
        except ProviderError as exc:
            err.print(f"liandong payout: {exc}", highlight=False, markup=False)
            raise typer.Exit(1) from None
    reason = f": {result.reason}" if result.reason else ""
    out.print(f"{withdrawal}: {result.state} ({result.provider} {result.provider_state}{reason})",
              highlight=False, markup=False)
    raise typer.Exit(1 if result.state == "failed" else 0)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Django's management commands: `liandong manage migrate`, `liandong manage createsuperuser`, …"""
    with _service("manage"):
        _django()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["liandong manage", *ctx.args])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
