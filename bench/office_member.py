"""Back-office member page benchmark: a member whose team holds 100,000 members, in PostgreSQL (figures, not a test).

    .venv/bin/python bench/office_member.py --database-url postgres://postgres@127.0.0.1:5432
    .venv/bin/python bench/office_member.py --team 5000 --renders 50          # SQLite, a quick look

The shop is ``bench/pages.py``'s (chain21, points and distribution). *star* joins and buys a gift pack; two
referrals buy one each, so star is promoted with no team above it; then ``--team`` members join, each referred by
star (``--star-share``) or by a member who joined before (a random recursive tree under star), so every one of them
is in star's team; ``--buyers`` of them buy a gift pack (star earns a team reward on each: its statement grows).
Every event is logged in bulk and applied by the worker (``Worker.drain``), which writes the projections the pages
read, ``ReferralCount`` and ``MemberHistory`` included; every member has a login (``bench/pages.py``'s).

Measured with Django's test ``Client`` as an owner (the whole stack, no HTTP server): star's member page, the first
level of its referral tree, the first page of its team, and a search by name; p50, p99 and max in ms over
``--renders`` renders (after ``--warm-up``), and each page's SQL queries (for star and for a member with no
referrals: the same count means no page grows with the team).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import pages  # bench/pages.py: the shop file, the database, the bulk log, the logins, the measuring

BUDGET_MS = 300.0


def history(team: int, buyers: int, star_share: float, rng: random.Random, day: dt.date) -> tuple[list[Any], list[str]]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(pages.TZ_NAME)
    at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=tz)
    step = dt.timedelta(milliseconds=200)
    events: list[tuple[str, dict[str, Any], str]] = []

    def log(verb: str, **fields: Any) -> None:
        nonlocal at
        at += step
        events.append((verb, {**fields, "at": at.isoformat()}, "system"))

    ids = ["star", "m000001", "m000002"]
    log("join", member="star")
    log("pay", member="star", sku="GIFT", order="o-star")
    for seed in ids[1:]:
        log("join", member=seed, referrer="star")
        log("pay", member=seed, sku="GIFT", order=f"o-{seed}")
    for n in range(3, team + 1):
        member = f"m{n:06d}"
        referrer = "star" if rng.random() < star_share else ids[rng.randrange(1, len(ids))]
        log("join", member=member, referrer=referrer)
        ids.append(member)
    for n, member in enumerate(rng.sample(ids[3:], min(buyers, len(ids) - 3))):
        log("pay", member=member, sku="TEA" if n % 4 else "GIFT", order=f"o{n}")
    return events, ids


def build(args: argparse.Namespace) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from liandong.service.shopfile import ensure_shop_setup
    from liandong.service.worker import Worker

    tz = ZoneInfo(pages.TZ_NAME)
    day = dt.datetime.now(tz).date() - dt.timedelta(days=1)
    started = time.monotonic()
    ensure_shop_setup(start=dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz))
    events, ids = history(args.team, args.buyers, args.star_share, random.Random(args.seed), day)
    pages.log_rows(events, "bench")
    pages.make_logins(ids)
    logged = time.monotonic()
    worker = Worker()
    with worker.locked():
        applied = worker.drain()
    return {"events": len(events), "applied": applied, "log_seconds": logged - started,
            "apply_seconds": time.monotonic() - logged, "ids": ids}


def owner_client() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    user = users.filter(username="bench-owner").first() or users.create_superuser("bench-owner", password="!")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def run(args: argparse.Namespace, home: Path, url: str | None) -> None:
    pages.set_up_django(home, url)
    from liandong.service.store.models import LoggedEvent, MemberState, ReferralCount

    if args.reuse:  # a database an earlier run kept: measure it again
        last = MemberState.objects.order_by("-join_index").values_list("member", flat=True).first()
        built = {"events": LoggedEvent.objects.count(), "apply_seconds": float("nan"), "ids": [last]}
    else:
        built = build(args)

    star = ReferralCount.objects.get(member="star")
    team_size = MemberState.objects.filter(team="star").count()
    leaf = built["ids"][-1]  # the last to join referred nobody (every referrer joined before its referral)
    client = owner_client()
    paths = [("member page", "/office/members/star", f"/office/members/{leaf}"),
             ("tree, first level", "/office/members/star/tree", f"/office/members/{leaf}/tree"),
             ("team, first page", "/office/members/star/team", f"/office/members/{leaf}/team"),
             ("search by name", "/office/members?q=u00042", "/office/members?q=u00043")]
    counts = {name: (pages.queries(client, big), pages.queries(client, small)) for name, big, small in paths}
    times = pages.measure(client, [(name, big) for name, big, _small in paths], args.renders, args.warm_up)
    applied = "kept from an earlier run" if args.reuse else f"applied in {built['apply_seconds']:.1f} s"
    print(f"shop: {built['events']} events {applied} ({'PostgreSQL' if url else 'SQLite'}, load "
          f"{os.getloadavg()[0]:.1f}); star: {star.referrals} referrals, {star.descendants} in its tree, a team of "
          f"{team_size} (ReferralCount.team_size {star.team_size})")
    print(f"{'page':<20} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'queries star/leaf':>18}")
    for name, samples in times.items():
        p50, p99, top = pages.cut(samples)
        flag = "  over budget" if p99 > BUDGET_MS else ""
        big, small = counts.get(name, ("-", "-"))
        print(f"{name:<20} {p50:8.1f} {p99:8.1f} {top:8.1f} {big:>9}/{small:<8}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--team", type=int, default=100_000, help="members in star's tree (and team)")
    parser.add_argument("--buyers", type=int, default=8_000, help="of them, how many buy (one in four a gift pack)")
    parser.add_argument("--star-share", type=float, default=0.02, help="the share of them star refers itself")
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (postgres://user@host:port)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", default="", help="measure a database an earlier run kept (--keep), on the server")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="liandong-officebench-") as home:
        if args.database_url and args.reuse:
            run(args, Path(home), f"{args.database_url.rstrip('/')}/{args.reuse}")
        elif args.database_url:
            with pages.postgres_database(args.database_url.rstrip("/"), args.keep) as url:
                run(args, Path(home), url)
        else:
            run(args, Path(home), None)


if __name__ == "__main__":
    main()
