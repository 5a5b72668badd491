"""Members' pages benchmark: every member page rendered as one member of a large shop (figures, not a test).

    .venv/bin/python bench/pages.py                          # SQLite, 10,000 members; a few minutes
    .venv/bin/python bench/pages.py --members 2000 --renders 50                      # a quick look
    .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432   # PostgreSQL too

The shop is the demo shop's (``service/shop.yaml``: chain21 with its config and its four products), with the points
and distribution plans running too, so that every page shows real figures. Its history is ``--days`` business days
before today, every event logged in bulk (as ``bench/api.py`` does) and applied by the worker (``Worker.drain``, in
this process), each day closed:

- ``--members`` members join; the first is *star*, the member the pages are rendered for; the next four join
  with no referrer (the tops of other trees); ``--star-share`` of the others are star's own referrals, the rest are
  referred by an earlier member (preferential attachment, as the demo seed), so star leads a team of hundreds;
- three in four buy a gift pack, and ``--repeat-orders`` everyday orders are spread over the team; star buys a few
  orders of its own, asks for two withdrawals (one approved and paid) and one the engine refuses;
- every member has a login (a username ``u00042``), so names and the team's search are by username.
Star's money statement gets one line per reward it earns (gift packs in its team and its referrals' direct reward,
help fund, settlement, points releases): about 5,000 lines with the defaults (printed).

Each page is rendered ``--renders`` times (after ``--warm-up`` renders) with Django's test ``Client`` in this
process: the whole Django stack (middleware, session and auth, the view, the templates, the database), without an
HTTP server or network. The baseline is ``GET /bench/page`` (``bench/bare_urls.py``): a bare view behind the same
middleware and login that renders a one-line template; it is measured in rounds interleaved with the pages (each
round renders every page once, the baseline first), so a noisy neighbour slows both alike. Per page: p50, p99 and
max in ms, the ratio of its p50 to the baseline's p50, and the SQL queries of one render for star and for *small*
(a member with a small team and statement): a page whose count is larger for star than for small is flagged, as is
a page over 100 ms at p99.

On SQLite the database is a file in a temporary directory; with ``--database-url SERVER`` a fresh database is
created on that PostgreSQL server and dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TZ_NAME = "Asia/Shanghai"
BUDGET_MS = 100.0
#: Members who join with no referrer after star: the tops of the shop's other trees.
ROOTS = 4
SHOP = """name: 链动 demo shop
timezone: Asia/Shanghai
auto_close_days: false
plans:
  chain21: {promote_after: 2, seed_count: 2, help_fund_rate: "0.20", bonus_pool_rate: "0.05",
            min_withdrawal: "10.00", settle_after_days: 2}
  points: {}
  distribution: {eligibility: anyone, levels: 2, rates: ["0.05", "0.02"], binding_days: 30, settle_after_days: 2}
products:
  - {sku: GIFT, price: "699.00", gift_pack: true, name: "Gift pack · 礼包"}
  - {sku: GIFT-TEA, price: "399.00", gift_pack: true, name: "Tea gift pack · 茶礼包"}
  - {sku: TEA, price: "59.00", name: "Oolong tea 250 g · 乌龙茶"}
  - {sku: HONEY, price: "88.00", name: "Wild honey 500 g · 野蜂蜜"}
"""


# --- the database ---------------------------------------------------------------------------------------------------


@contextmanager
def postgres_database(server: str, keep: bool) -> Iterator[str]:
    """A fresh database on ``server`` (postgres://user@host:port); its URL."""
    import psycopg

    name = f"liandong_pagebench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept the database {name}")


def set_up_django(home: Path, url: str | None) -> None:
    (home / "shop.yaml").write_text(SHOP, encoding="utf-8")
    os.environ.update({"LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "bench", "LIANDONG_INLINE_WORKER": "0",
                       "LIANDONG_SHOP_FILE": str(home / "shop.yaml"), "DJANGO_SETTINGS_MODULE": "bare_site",
                       "LIANDONG_LOG_LEVEL": "WARNING"})
    if url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(HERE))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- the shop ------------------------------------------------------------------------------------------------------


def log_rows(events: list[tuple[str, dict[str, Any], str]], prefix: str) -> None:
    """Append validated events to the log in bulk (as append_event would, one by one)."""
    from liandong.service.log import validate_event
    from liandong.service.store.models import LoggedEvent

    rows = []
    for i, (verb, fields, actor) in enumerate(events):
        validate_event(verb, fields)
        rows.append(LoggedEvent(key=f"{prefix}:{i}", verb=verb, payload=fields, actor=actor,
                                request_hash=hashlib.sha256(f"{prefix}:{i}".encode()).hexdigest()))
    LoggedEvent.objects.bulk_create(rows, batch_size=2000)


def history(members: int, days: int, repeat_orders: int, star_share: float, rng: random.Random,
            first_day: dt.date) -> tuple[list[tuple[str, dict[str, Any], str]], list[str]]:
    """The shop's events in time order (each with its ``at``) and the member ids in join order (star first)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TZ_NAME)
    start = dt.datetime.combine(first_day, dt.time(8, 0), tzinfo=tz)
    span = dt.timedelta(days=days) - dt.timedelta(hours=9)
    ids = ["star"] + [f"m{i:05d}" for i in range(1, members)]
    planned: list[tuple[dt.datetime, int, str, dict[str, Any], str]] = []
    weights = [1] * members
    for i, member in enumerate(ids):
        at = start + span * (i / members) ** 1.2
        referrer = None
        if i > ROOTS:
            if rng.random() < star_share:
                referrer = "star"
            else:
                pick = rng.choices(range(i), weights=weights[:i])[0] if i < 2000 else rng.randrange(i)
                referrer = ids[pick]
                weights[pick] += 2
        planned.append((at, 0, "join", {"member": member, "referrer": referrer}, "bench"))
        if member == "star" or rng.random() < 0.75:
            sku = "GIFT" if rng.random() < 0.8 else "GIFT-TEA"
            planned.append((at + dt.timedelta(minutes=rng.uniform(1, 600)), 0, "pay",
                            {"member": member, "sku": sku, "order": f"o-gift-{member}"}, "payment"))
    end = start + span
    for n in range(repeat_orders):
        buyer = ids[rng.randrange(1, members)]
        at = start + (end - start) * rng.random()
        planned.append((at, 0, "pay", {"member": buyer, "sku": rng.choice(("TEA", "HONEY")), "order": f"o-r{n}"},
                        "payment"))
    for n in range(30):  # star's own everyday orders
        at = start + (end - start) * (0.2 + 0.8 * n / 30)
        planned.append((at, 0, "pay", {"member": "star", "sku": "TEA", "order": f"o-star-{n}"}, "payment"))
    for day in range(days):
        day_end = dt.datetime.combine(first_day + dt.timedelta(days=day), dt.time(23, 59, 59), tzinfo=tz)
        planned.append((day_end, 2, "close_day", {"day": (first_day + dt.timedelta(days=day)).isoformat()}, "system"))
    last = dt.datetime.combine(first_day + dt.timedelta(days=days - 1), dt.time(21, 0), tzinfo=tz)
    for n, (amount, actor) in enumerate((("100.00", "member:star"), ("50.00", "member:star"),
                                         ("99999999.00", "member:star"))):
        planned.append((last + dt.timedelta(minutes=n), 1, "withdraw",
                        {"member": "star", "amount": amount, "withdrawal": f"w-star-{n}",
                         "payee": "alipay:13800000000"}, actor))
    planned.append((last + dt.timedelta(minutes=10), 1, "approve_withdrawal",
                    {"withdrawal": "w-star-0", "paid_out": False}, "operator:bench"))
    planned.append((last + dt.timedelta(minutes=20), 1, "mark_withdrawal_paid",
                    {"withdrawal": "w-star-0", "reference": "BANK-0001"}, "operator:bench"))
    planned.sort(key=lambda item: (item[0], item[1]))
    events = [(verb, {**fields, "at": at.isoformat()}, actor) for at, _tie, verb, fields, actor in planned]
    return events, ids


def make_logins(ids: list[str]) -> None:
    """A login for every member (username ``u`` and the member's number; star's is ``star``)."""
    from django.contrib.auth import get_user_model

    from liandong.web.accounts.models import MemberLogin

    users = get_user_model().objects
    rows = [get_user_model()(username="star" if m == "star" else f"u{m[1:]}", password="!") for m in ids]
    users.bulk_create(rows, batch_size=2000)
    by_name = dict(users.values_list("username", "id"))
    logins = [MemberLogin(user_id=by_name["star" if m == "star" else f"u{m[1:]}"], member=m,
                          invite_code=hashlib.sha256(m.encode()).hexdigest()[:10].upper()) for m in ids]
    MemberLogin.objects.bulk_create(logins, batch_size=2000)


def build_shop(args: argparse.Namespace) -> dict[str, Any]:
    """Log and apply the shop's history; what was built (counts and seconds)."""
    from zoneinfo import ZoneInfo

    from liandong.service.shopfile import ensure_shop_setup
    from liandong.service.worker import Worker

    tz = ZoneInfo(TZ_NAME)
    first_day = dt.datetime.now(tz).date() - dt.timedelta(days=args.days)
    started = time.monotonic()
    ensure_shop_setup(start=dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=tz))
    events, ids = history(args.members, args.days, args.repeat_orders, args.star_share, random.Random(args.seed),
                           first_day)
    log_rows(events, "bench")
    make_logins(ids)
    logged = time.monotonic()
    worker = Worker()
    with worker.locked():
        applied = worker.drain()
    return {"events": len(events), "applied": applied, "log_seconds": logged - started,
            "apply_seconds": time.monotonic() - logged, "ids": ids}


def pick_small(ids: list[str]) -> str:
    """A partner (or an agent) with a small team and a short statement, for the query-count comparison."""
    from django.db.models import Count

    from liandong.service.store.models import LedgerEntry, MemberState

    teams = dict(MemberState.objects.exclude(team="").values("team").annotate(n=Count("id"))
                 .values_list("team", "n"))
    lines = dict(LedgerEntry.objects.filter(unit="fen").values("owner").annotate(n=Count("id"))
                 .values_list("owner", "n"))
    for rank in ("partner", "agent"):
        candidates = MemberState.objects.filter(rank=rank).exclude(member="star").order_by("join_index")
        for member in candidates.values_list("member", flat=True)[:2000]:
            if 0 < teams.get(member, 0) <= 20 or (rank == "agent" and lines.get(member, 0) <= 40):
                return str(member)
    return ids[-1]


# --- the pages -----------------------------------------------------------------------------------------------------


def pages_of(member: str) -> list[tuple[str, str]]:
    """(name, path) of every member page, as ``member`` (its own order, a deep page of its team, …)."""
    from django.urls import NoReverseMatch, reverse

    from liandong.service.store.models import LedgerEntry, LedgerTransaction, MemberState, OrderState
    from liandong.web.accounts.models import MemberLogin

    code = MemberLogin.objects.get(member=member).invite_code
    own_order = OrderState.objects.filter(member=member).order_by("-paid_at").values_list("order", flat=True).first()
    credited = (LedgerTransaction.objects.filter(entries__owner=member).exclude(order="")
                .exclude(source=member).order_by("id").values_list("order", flat=True).first())
    team = MemberState.objects.filter(team=member).order_by("join_index").values_list("join_index", flat=True)
    size = team.count()
    deep_team = team[max(size - 30, 0)] if size else 0
    money = LedgerEntry.objects.filter(owner=member, unit="fen").order_by("-id").values_list("id", flat=True)
    lines = money.count()
    deep_entry = money[max(lines - 30, 0)] if lines else 0
    kind = (LedgerEntry.objects.filter(owner=member, unit="fen").values_list("transaction__rule", flat=True)
            .order_by("-id").first()) or "direct_reward"
    month = dt.date.today().strftime("%Y-%m")
    found = [
        ("home", "/"), ("product", "/products/GIFT"), ("orders", "/orders"), ("order (own)", f"/orders/{own_order}"),
        ("order (credited)", f"/orders/{credited}"), ("join", f"/join/{code}"), ("me", "/me"),
        ("poster page", "/me/poster"), ("poster.png", "/me/poster.png"),
        ("team", "/team?list=team"), ("team search", "/team?list=team&q=u09"),
        ("team deep page", f"/team?list=team&after={deep_team}"), ("referrals", "/team?list=referrals"),
        ("earnings", "/earnings"), ("earnings filtered", f"/earnings?kind={kind}&month={month}"),
        ("earnings deep page", f"/earnings?after={deep_entry}"), ("earnings bill", f"/earnings/bill?month={month}"),
        ("statement.csv", "/earnings/statement.csv"), ("withdraw", "/withdraw"), ("points", "/points"),
        ("distribution", "/distribution"),
    ]
    with suppress(NoReverseMatch):  # the inbox, once the members' notices are there
        found.append(("inbox", reverse("pages:inbox")))
    return found


def client_for(username: str) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(get_user_model().objects.get(username=username))
    return client


def render(client: Any, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:300]!r}")
    if response.streaming:
        b"".join(response.streaming_content)
    return (time.perf_counter() - started) * 1000


def queries(client: Any, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        render(client, path)
    return len(captured.captured_queries)


def measure(client: Any, paths: list[tuple[str, str]], renders: int, warm_up: int) -> dict[str, list[float]]:
    """Interleaved rounds: the baseline, then every page once; ``warm_up`` rounds first, not kept."""
    times: dict[str, list[float]] = {name: [] for name, _path in [("bare baseline", ""), *paths]}
    every = [("bare baseline", "/bench/page"), *paths]
    for round_ in range(warm_up + renders):
        for name, path in every:
            took = render(client, path)
            if round_ >= warm_up:
                times[name].append(took)
    return times


def cut(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[98], max(samples)


def report(args: argparse.Namespace, built: dict[str, Any], facts: dict[str, Any], times: dict[str, list[float]],
           counts: dict[str, tuple[int, int]]) -> None:
    from django.db import connection

    load = facts["load"]
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"Python {sys.version.split()[0]}; database {connection.vendor}; Django test Client in-process "
          f"(no HTTP server)")
    print(f"shop: {args.members} members over {args.days} days, {built['events']} events logged in "
          f"{built['log_seconds']:.1f} s and applied by the worker in {built['apply_seconds']:.1f} s")
    print(f"star: a team of {facts['team']}, {facts['referrals']} direct referrals, {facts['lines']} money "
          f"statement lines, {facts['bound']} bound buyers; small ({facts['small']}): a team of "
          f"{facts['small_team']}, {facts['small_lines']} statement lines")
    print(f"{args.renders} renders per page after {args.warm_up} warm-up rounds, interleaved")
    base = cut(times["bare baseline"])[0]
    print(f"{'page':<22}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'x bare':>8}{'SQL star':>9}{'small':>6}  flags")
    flagged = 0
    for name, samples in times.items():
        p50, p99, top = cut(samples)
        star_q, small_q = counts.get(name, (0, 0))
        flags = []
        if p99 > BUDGET_MS:
            flags.append(f"p99 over {BUDGET_MS:.0f} ms")
        if star_q > small_q:
            flags.append("more queries for the large member")
        flagged += bool(flags)
        print(f"{name:<22}{p50:8.1f}{p99:8.1f}{top:8.1f}{p50 / base:8.1f}{star_q:9d}{small_q:6d}  {', '.join(flags)}")
    print(f"{flagged} pages flagged" if flagged else "no page flagged: every p99 under 100 ms, no query count grows")


def facts_of(small: str) -> dict[str, Any]:
    from liandong.service.store.models import LedgerEntry, MemberState

    return {"team": MemberState.objects.filter(team="star").count(),
            "referrals": MemberState.objects.filter(referrer="star").count(),
            "lines": LedgerEntry.objects.filter(owner="star", unit="fen").count(),
            "bound": sum(1 for r in MemberState.objects.values_list("reads", flat=True)
                         if ((r.get("distribution") or {}).get("bound_to") or {}).get("promoter") == "star"),
            "small": small, "small_team": MemberState.objects.filter(team=small).count(),
            "small_lines": LedgerEntry.objects.filter(owner=small, unit="fen").count()}


def run(args: argparse.Namespace, home: Path, url: str | None) -> None:
    load = os.getloadavg()
    set_up_django(home, url)
    built = build_shop(args)
    small = pick_small(built["ids"])
    from liandong.web.accounts.models import MemberLogin

    small_user = MemberLogin.objects.select_related("user").get(member=small).user.get_username()
    facts = {**facts_of(small), "load": load}
    star_pages, small_pages = pages_of("star"), dict(pages_of(small))
    star_client, small_client = client_for("star"), client_for(small_user)
    counts: dict[str, tuple[int, int]] = {"bare baseline": (queries(star_client, "/bench/page"),
                                                            queries(small_client, "/bench/page"))}
    for name, path in star_pages:
        render(star_client, path)
        render(small_client, small_pages[name])
        counts[name] = (queries(star_client, path), queries(small_client, small_pages[name]))
    times = measure(star_client, star_pages, args.renders, args.warm_up)
    report(args, built, facts, times, counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=10, help="business days of history (each closed)")
    parser.add_argument("--repeat-orders", type=int, default=3000, help="everyday orders spread over the team")
    parser.add_argument("--star-share", type=float, default=0.04,
                        help="the share of members star refers itself (the others are referred by earlier members)")
    parser.add_argument("--renders", type=int, default=200, help="measured renders per page")
    parser.add_argument("--warm-up", type=int, default=5, help="rounds rendered first, not measured")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL server (postgres://user@host:port): a fresh database is made there")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liandong-pagebench-") as home:
        if args.database_url:
            with postgres_database(args.database_url.rstrip("/"), args.keep) as url:
                run(args, Path(home), url)
        else:
            run(args, Path(home), None)


if __name__ == "__main__":
    main()
