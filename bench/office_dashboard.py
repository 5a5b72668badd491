"""Back-office dashboard benchmark: ``/office/dashboard`` on a large shop in PostgreSQL (figures, not a test).

    .venv/bin/python bench/office_dashboard.py --members 100000 --entries 1000000          # about a minute
    .venv/bin/python bench/office_dashboard.py --members 1000000 --entries 10000000        # several minutes
    .venv/bin/python bench/office_dashboard.py --database-url postgres://postgres@127.0.0.1:5432 --renders 300

The issue's line: *the dashboard renders under 300 ms p99 on a shop of 1,000,000 members and 10,000,000 entries in
PostgreSQL (aggregates kept by the worker, not computed per request)*.

The shop: a real one first (the demo's plans, chain21 and points, and products), a few hundred events applied by
the worker (``Worker.drain``) so that every kept read (the plans' shop reads, the pools, the daily figures) is the
worker's own; then the rest in bulk, straight into the tables with ``COPY`` (triggers and foreign keys off for the
load: ``session_replication_role = replica``), as large as asked:

- ``--members`` ``MemberState`` rows (ranks member / agent / partner) and three ``Balance`` rows each (available,
  pending, help fund; one in fifty owes), one ``WithdrawalState`` row per ten members (most paid, some waiting);
- ``--entries`` ``LedgerEntry`` rows, two per ``LedgerTransaction`` (a sale, a reward), spread over ``--days`` days;
- ``DailyFigure`` rows for those ``--days`` days: what the worker keeps for such a history (sales, refunds, four
  reward rules, pools, books, debts, joins, ranks: about 20 rows a day).

Each period (today, 7, 30 days, a custom year) is rendered ``--renders`` times after ``--warm-up`` renders, as the
shop's owner (a superuser) with Django's test ``Client`` in this process (the whole Django stack, no HTTP server),
interleaved with a bare baseline (``GET /bench/page``, ``bench/bare_urls.py``); per page p50, p99, max in ms and the
SQL queries of one render. The database is created on the server and dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pages import SHOP, client_for, postgres_database, queries, render  # noqa: E402

BUDGET_MS = 300.0
TZ_NAME = "Asia/Shanghai"


def set_up_django(home: Path, url: str) -> None:
    (home / "shop.yaml").write_text(SHOP, encoding="utf-8")
    os.environ.update({"LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "bench", "LIANDONG_INLINE_WORKER": "0",
                       "LIANDONG_SHOP_FILE": str(home / "shop.yaml"), "DJANGO_SETTINGS_MODULE": "bare_site",
                       "LIANDONG_LOG_LEVEL": "WARNING", "DATABASE_URL": url})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def real_shop(today: dt.date) -> None:
    """Sixty members, their gift packs and a refund, applied by the worker, today (rewards settle after two days:
    the withdrawals are the bulk part's)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from liandong.service.log import append_event
    from liandong.service.shopfile import ensure_shop_setup
    from liandong.service.worker import drain

    ensure_shop_setup()
    drain()
    tz = ZoneInfo(TZ_NAME)
    at = timezone.now().astimezone(tz)  # the shop starts now (its file has no start): its events from now on

    def log(verb: str, fields: dict[str, Any], key: str) -> None:
        nonlocal at
        at += dt.timedelta(seconds=1)
        append_event(verb, {**fields, "at": at.isoformat()}, key=f"bench:{key}", request_hash=key, actor="bench")

    members = [f"r{i:03d}" for i in range(60)]
    for i, member in enumerate(members):
        log("join", {"member": member, "referrer": members[i // 3] if i else None}, f"join:{member}")
        log("pay", {"member": member, "sku": "GIFT", "order": f"o-{member}"}, f"pay:{member}")
    log("refund", {"order": "o-r059"}, "refund")
    drain()
    from liandong.service.store.models import EventOutcome

    refused = EventOutcome.objects.filter(applied=False).count()
    assert refused == 0, f"{refused} events of the real shop were refused"


def copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Any) -> int:
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)
            n += 1
    return n


def bulk_shop(members: int, entries: int, days: int, today: dt.date, rng: random.Random) -> dict[str, float]:
    """The large part of the shop, by COPY (see the module docstring); seconds per table."""
    from django.db import connection

    from liandong.service.store.models import LoggedEvent

    seconds: dict[str, float] = {}
    first = today - dt.timedelta(days=days - 1)
    event = LoggedEvent.objects.order_by("position").values_list("position", flat=True).first()
    start = dt.datetime.combine(first, dt.time(8), tzinfo=dt.UTC)
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("SET session_replication_role = replica")

        def timed(name: str, table: str, columns: tuple[str, ...], rows: Any) -> None:
            began = time.perf_counter()
            copy(cursor, table, columns, rows)
            seconds[name] = time.perf_counter() - began

        def member_rows() -> Any:
            for i in range(members):
                rank = "partner" if i % 50 == 0 else "agent" if i % 4 else "member"
                yield (f"b{i:07d}", f"b{i // 3:07d}" if i else "", start + dt.timedelta(seconds=i), i + 1000, rank,
                       "", "", "{}", "{}", "{}")

        timed("members", "store_memberstate", ("member", "referrer", "joined_at", "join_index", "rank", "team",
                                               "bound_promoter", "view", "reads", "operator_reads"), member_rows())

        def balance_rows() -> Any:
            for i in range(members):
                m = f"b{i:07d}"
                yield (m, "available", -5000 if i % 50 == 7 else rng.randrange(0, 50000))
                yield (m, "pending", rng.randrange(0, 20000))
                yield (m, "help_fund", rng.randrange(0, 10000) if i % 50 == 0 else 0)

        timed("balances", "store_balance", ("owner", "book", "amount"), balance_rows())

        def withdrawal_rows() -> Any:
            for i in range(0, members, 10):
                status = "requested" if i % 1000 == 0 else "approved" if i % 1000 == 10 else "paid"
                at = start + dt.timedelta(seconds=i)
                yield (f"wb{i:07d}", f"b{i:07d}", 10000, 100, status, at, None if status == "requested" else at,
                       "", "alipay:1", status == "approved", "")

        timed("withdrawals", "store_withdrawalstate", ("withdrawal", "member", "amount", "fee", "status",
                                                       "requested_at", "decided_at", "reference", "payee",
                                                       "payout_pending", "reason"), withdrawal_rows())
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM store_ledgertransaction")
        base = int(cursor.fetchone()[0]) + 1
        pairs = entries // 2
        span = days * 86400

        def transaction_rows() -> Any:
            for n in range(pairs):
                rule = "sale" if n % 2 == 0 else "direct_reward"
                yield (base + n, event, rule, "" if rule == "sale" else "chain21", f"ob{n // 2}", "", None, "",
                       start + dt.timedelta(seconds=span * n // pairs))

        timed("transactions", "store_ledgertransaction", ("id", "event_id", "rule", "plan", '"order"', "source",
                                                          "reverses", "ref", "at"), transaction_rows())

        def entry_rows() -> Any:
            for n in range(pairs):
                member = f"b{n % members:07d}"
                if n % 2 == 0:
                    yield (base + n, "@external", "payments", "fen", -69900, -69900 * (n // 2 + 1))
                    yield (base + n, "@platform", "sales", "fen", 69900, 69900 * (n // 2 + 1))
                else:
                    yield (base + n, "@platform", "reward_expense", "fen", -10000, -10000 * (n // 2 + 1))
                    yield (base + n, member, "available", "fen", 10000, 10000)

        timed("entries", "store_ledgerentry", ("transaction_id", "owner", "book", "unit", "amount",
                                               "balance_after"), entry_rows())
        per_day = max(1, pairs // days // 2)

        def figure_rows() -> Any:
            for d in range(days):
                day = first + dt.timedelta(days=d)
                if day == today:
                    continue  # today's are the real shop's
                sales = per_day * 69900
                yield (day, "sales", "", "", sales, per_day)
                yield (day, "refunds", "", "", sales // 50, per_day // 50)
                for rule, share in (("direct_reward", 7), ("team_reward", 3), ("peer_reward", 1), ("self_rebate", 2)):
                    yield (day, "reward", "chain21", rule, sales * share // 100, per_day * share // 10)
                yield (day, "pools", "", "bonus", sales // 20, 0)
                for book in ("available", "pending", "help_fund", "withdrawing", "withdrawn"):
                    yield (day, "book", "", book, rng.randrange(0, sales // 10), 0)
                yield (day, "owing", "", "", rng.randrange(0, 20000), rng.randrange(0, 3))
                yield (day, "joined", "", "", 0, members // days)
                for rank, count in (("agent", members // days // 2), ("partner", members // days // 50)):
                    yield (day, "rank", "chain21", rank, 0, count)
                    yield (day, "rank_held", "chain21", rank, 0, count)
                yield (day, "rank_lost", "chain21", "agent", 0, 1)

        timed("daily figures", "store_dailyfigure", ("day", "figure", "plan", "key", "amount", "count"),
              figure_rows())
        cursor.execute("SET session_replication_role = DEFAULT")
        began = time.perf_counter()
        for table in ("store_memberstate", "store_balance", "store_withdrawalstate", "store_ledgertransaction",
                      "store_ledgerentry", "store_dailyfigure"):
            cursor.execute(f"ANALYZE {table}")
        seconds["analyze"] = time.perf_counter() - began
    return seconds


def owner() -> str:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("bench-owner", password="!")
    return "bench-owner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432",
                        help="a PostgreSQL server (a database is created on it and dropped)")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="the days of history the entries spread over")
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as home, postgres_database(args.database_url, args.keep) as url:
        set_up_django(Path(home), url)
        from django.db import connection

        from liandong.web.api import reads as api_reads

        load = os.getloadavg()
        today = api_reads.today()
        began = time.perf_counter()
        real_shop(today)
        real = time.perf_counter() - began
        seconds = bulk_shop(args.members, args.entries, args.days, today, rng)
        with connection.cursor() as cursor:
            counts = {}
            for table in ("store_memberstate", "store_ledgerentry", "store_balance", "store_withdrawalstate",
                          "store_dailyfigure"):
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
        client = client_for(owner())
        year = f"period=custom&from={(today - dt.timedelta(days=364)).isoformat()}&to={today.isoformat()}"
        paths = [("bare baseline", "/bench/page"), ("today", "/office/dashboard?period=today"),
                 ("7 days", "/office/dashboard?period=7"), ("30 days", "/office/dashboard?period=30"),
                 ("a year (custom)", f"/office/dashboard?{year}"),
                 ("sales.csv, a year", f"/office/dashboard/sales.csv?{year}")]
        for _ in range(args.warm_up):
            for _name, path in paths:
                render(client, path)
        times: dict[str, list[float]] = {name: [] for name, _path in paths}
        for _ in range(args.renders):
            for name, path in paths:
                times[name].append(render(client, path))
        print(f"machine: {os.cpu_count()} CPUs, load average before the run {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}; Python {sys.version.split()[0]}; {version}; Django test Client in-process")
        print(f"shop: {counts['store_memberstate']:,} members, {counts['store_ledgerentry']:,} ledger entries, "
              f"{counts['store_balance']:,} balances, {counts['store_withdrawalstate']:,} withdrawals, "
              f"{counts['store_dailyfigure']:,} daily figure rows over {args.days} days; real part applied by the "
              f"worker in {real:.1f} s, bulk load " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
        print(f"{args.renders} renders per page after {args.warm_up} warm-up rounds, interleaved")
        print(f"{'page':<22}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'SQL':>6}  flags")
        for name, path in paths:
            samples = sorted(times[name])
            p50 = statistics.median(samples)
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            flag = f"over {BUDGET_MS:.0f} ms" if p99 > BUDGET_MS else ""
            print(f"{name:<22}{p50:8.1f}{p99:8.1f}{samples[-1]:8.1f}{queries(client, path):6d}  {flag}")


if __name__ == "__main__":
    main()
