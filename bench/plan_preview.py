"""Plan settings' preview benchmark: ``plan_preview.run_preview`` on a shop whose log holds a large history, in
PostgreSQL (figures, not a test).

    .venv/bin/python bench/plan_preview.py                                  # 100,000 members, a few minutes
    .venv/bin/python bench/plan_preview.py --members 10000 --days 20        # a quick look
    .venv/bin/python bench/plan_preview.py --worker                         # the worker applies the bulk log too

The issue's line: *the preview of a plan change on a 100,000-member history finishes under 60 s*.

The shop: the demo's plans (chain21, points, distribution) and products, set up as the service does
(``ensure_shop_setup``, applied by the worker), starting ``--days`` days ago. Its log then gets the history in bulk,
straight into ``store_loggedevent`` with ``COPY``: ``--members`` joins (each referred by an earlier member, a tree of
three), a gift pack (GIFT) for one member in three, a tea order (TEA, the distribution plan's commission to the
referrer) for one in two, a refund of one order in a hundred, and each business day's ``close_day`` at its end (the
pools share, rewards settle). Events are spread evenly over the days, in time order. By default the worker's
projections the preview reads are written directly (``MemberState`` rows, the committed position: what the
preview reads besides the log); ``--worker`` lets the worker apply the whole bulk log instead (much slower to set up;
the preview's work is the same).

The preview is then run as the page runs it: a ``PlanPreview`` row made as ``views.plans.start_preview`` makes it
(a change of chain21's ``help_fund_rate`` 0.20 → 0.15), and ``plan_preview.run_preview(id)`` (the function the
page's background thread calls) with the page's settings (the audit's ``OFFICE_PREVIEW_AUDIT``, default 20,000
members, 400 days, stall day 90). Its phases are timed by wrapping the functions it calls (nothing else changes): the
two history replays (``dryrun.replayed``), the members' figures of each (``history_figures``), the audit of each
config (``run_audit``, two simulations each), and the rest (sorting the members, progress and result writes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pages import SHOP, postgres_database  # noqa: E402

BUDGET_S = 60.0
TZ_NAME = "Asia/Shanghai"
PLAN, FIELD, PROPOSED = "chain21", "help_fund_rate", "0.15"


def set_up_django(home: Path, url: str, start: dt.datetime) -> None:
    shop = SHOP.replace("auto_close_days: false\n", f"auto_close_days: false\nstart: \"{start.isoformat()}\"\n")
    (home / "shop.yaml").write_text(shop, encoding="utf-8")
    os.environ.update({"LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "bench", "LIANDONG_INLINE_WORKER": "0",
                       "LIANDONG_SHOP_FILE": str(home / "shop.yaml"), "DJANGO_SETTINGS_MODULE": "bare_site",
                       "LIANDONG_LOG_LEVEL": "WARNING", "DATABASE_URL": url})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def history_events(members: int, days: int, start: dt.datetime) -> Any:
    """(verb, payload, at) of the bulk history, in time order (see the module docstring)."""
    per_day = -(-members // days)
    tz = start.tzinfo
    joined = 0
    order = 0
    for d in range(days):
        day = (start + dt.timedelta(days=d)).date()
        opens = dt.datetime.combine(day, dt.time(8), tzinfo=tz)
        today = range(joined, min(members, joined + per_day))
        step = 50_000 / max(1, len(today) * 2)  # seconds: the day's events between 08:00 and about 22:00
        at = opens
        for i in today:
            member = f"m{i:07d}"
            at += dt.timedelta(seconds=step)
            yield "join", {"member": member, "referrer": f"m{(i - 1) // 3:07d}" if i else None}, at
            if i % 3 == 0:
                order += 1
                yield "pay", {"member": member, "sku": "GIFT", "order": f"g{i}"}, at + dt.timedelta(seconds=1)
            if i % 2 == 1:
                order += 1
                yield "pay", {"member": member, "sku": "TEA", "order": f"t{i}"}, at + dt.timedelta(seconds=2)
                if i % 100 == 1:
                    yield "refund", {"order": f"t{i}"}, at + dt.timedelta(seconds=3)
        joined = today.stop
        yield "close_day", {"day": day.isoformat()}, dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=tz)


def bulk_log(members: int, days: int, start: dt.datetime) -> tuple[int, float]:
    """The history into ``store_loggedevent`` by COPY; the events written and the seconds."""
    from django.db import connection

    began = time.perf_counter()
    n = 0
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        with cursor.copy("COPY store_loggedevent (key, verb, payload, request_hash, actor, created_at) "
                         "FROM STDIN") as out:
            for verb, payload, at in history_events(members, days, start):
                n += 1
                out.write_row((f"bench:{n}", verb, json.dumps({**payload, "at": at.isoformat()}), "bench", "bench",
                               at))
        cursor.execute("ANALYZE store_loggedevent")
    return n, time.perf_counter() - began


def direct_projections(members: int, start: dt.datetime) -> float:
    """The reads the preview takes from the worker's projections besides the log: the members (``MemberState``, in
    join order) and the committed position (the whole log)."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("SELECT COALESCE(MAX(join_index), 0) FROM store_memberstate")
        base = int(cursor.fetchone()[0]) + 1
        with cursor.copy("COPY store_memberstate (member, referrer, joined_at, join_index, rank, team, "
                         "bound_promoter, view, reads, operator_reads) FROM STDIN") as out:
            for i in range(members):
                out.write_row((f"m{i:07d}", f"m{(i - 1) // 3:07d}" if i else "", start, base + i, "member", "", "",
                               "{}", "{}", "{}"))
        cursor.execute("SELECT MAX(position) FROM store_loggedevent")
        last = int(cursor.fetchone()[0])
        cursor.execute("UPDATE store_workerposition SET position = %s WHERE id = 1", [last])
        cursor.execute("ANALYZE store_memberstate")
    return time.perf_counter() - began


def timed(module: Any, name: str, into: list[tuple[str, float]], label: Callable[[int], str]) -> None:
    """Replace ``module.name`` by a wrapper appending (label, seconds) of each call to ``into``."""
    original = getattr(module, name)
    calls = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append((label(calls[0]), time.perf_counter() - began))
            calls[0] += 1

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432",
                        help="a PostgreSQL server (a database is created on it and dropped)")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60, help="the business days the history spreads over")
    parser.add_argument("--worker", action="store_true", help="the worker applies the bulk log (slow set-up)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    tz = ZoneInfo(TZ_NAME)
    start = dt.datetime.combine(dt.date.today() - dt.timedelta(days=args.days + 2), dt.time(0), tzinfo=tz)
    with tempfile.TemporaryDirectory() as home, postgres_database(args.database_url, args.keep) as url:
        set_up_django(Path(home), url, start)
        from django.db import connection

        from liandong.service import dryrun
        from liandong.service.shopfile import ensure_shop_setup
        from liandong.service.store.models import EventOutcome, LoggedEvent, MemberState
        from liandong.service.worker import drain
        from liandong.web.office import plan_preview, plan_reads
        from liandong.web.office.models import PlanPreview

        ensure_shop_setup()
        drain()
        events, logged = bulk_log(args.members, args.days, start)
        if args.worker:
            began = time.perf_counter()
            drain()
            applied = time.perf_counter() - began
            refused = EventOutcome.objects.filter(applied=False).count()
            setup = f"the worker applied them in {applied:.1f} s ({refused} refused)"
        else:
            seconds = direct_projections(args.members, start)
            setup = f"members and the committed position written directly in {seconds:.1f} s"
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
        current = plan_reads.current(PLAN)
        proposed = {**current["config"], FIELD: PROPOSED}
        preview = PlanPreview.objects.create(plan=PLAN, config=proposed, current=current["config"],
                                             version=current["version"], changes=[FIELD], requested_by="bench")
        phases: list[tuple[str, float]] = []
        sides = ("current", "proposed")
        timed(dryrun, "replayed", phases, lambda n: f"history replay ({sides[n % 2]})")
        timed(plan_preview, "history_figures", phases, lambda n: f"members' figures ({sides[n % 2]})")
        timed(plan_preview, "run_audit", phases, lambda n: f"audit, 2 simulations ({sides[n % 2]})")
        load = os.getloadavg()
        began = time.perf_counter()
        plan_preview.run_preview(preview.id)
        total = time.perf_counter() - began
        preview.refresh_from_db()
        load_after = os.getloadavg()
        assert preview.status == PlanPreview.DONE, preview.error
        history = preview.result["history"]
        print(f"machine: {os.cpu_count()} CPUs, load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
              f"after {load_after[0]:.2f}; Python {sys.version.split()[0]}; {version}")
        print(f"shop: {MemberState.objects.count():,} members, {LoggedEvent.objects.count():,} logged events over "
              f"{args.days} days (bulk {events:,} by COPY in {logged:.1f} s; {setup})")
        print(f"preview: {PLAN}.{FIELD} {current['config'][FIELD]} -> {PROPOSED}; audit {plan_preview.audit_command()}")
        print(f"result: history {history['members_total']:,} members, {history['members_changed']:,} with other "
              f"rewards; payout ratio {history['current']['payout_ratio']} -> {history['proposed']['payout_ratio']}; "
              f"audit {preview.result['audit']['current'].get('verdict')} -> "
              f"{preview.result['audit']['proposed'].get('verdict')}")
        print(f"{'phase':<40}{'seconds':>9}")
        for name, seconds in phases:
            print(f"{name:<40}{seconds:9.1f}")
        print(f"{'the rest (sorting, progress, result write)':<40}{total - sum(s for _n, s in phases):9.1f}")
        flag = f"  over {BUDGET_S:.0f} s" if total > BUDGET_S else ""
        print(f"{'total (run_preview)':<40}{total:9.1f}{flag}")


if __name__ == "__main__":
    main()
