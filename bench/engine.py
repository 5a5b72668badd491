"""Engine benchmark: events/s, entries/s and peak memory on generated shops (figures, not a timed test).

    .venv/bin/python bench/engine.py                 # 1,000,000 members, then a 1,000,000-deep chain
    .venv/bin/python bench/engine.py --members 100000 --skip-chain

Shops:
- random tree: each member joins under a uniformly random earlier member (a few join with no referrer) and buys the
  gift pack; 20% also buy a second product, 5% buy the gift pack again, 1% of orders are refunded, and the day
  closes every 10,000 members;
- chain: one referral chain a million deep, each member buying the gift pack (no recursion, no quadratic walk);
- mixed (when the points and distribution plans are registered): chain21 on gift packs, distribution on the rest,
  points on everything, campaigns running beside them; its events/s is printed beside the chain21-only figure.
Events are built in chunks outside the timed loop, so the figure is the engine's own rate; the ledger is
drained after each chunk as the worker does after each commit. Peak memory is the process's
maximum resident set size (ru_maxrss), measured in a fresh subprocess per shop.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from liandong.engine import Product, Shop, tune_gc
from liandong.engine import events as ev
from liandong.engine.core import SHANGHAI
from liandong.engine.ledger import NON_CASH_UNITS
from liandong.engine.registry import CAMPAIGNS, PLANS, new_engine

START = dt.datetime(2026, 1, 1, 8, 0, 0, tzinfo=SHANGHAI)
PRODUCTS = [Product("GIFT", 69900, gift_pack=True), Product("TEA", 5900)]


def random_tree_events(members: int, seed: int) -> Iterator[ev.Event]:
    rng = random.Random(seed)
    at = START
    second = dt.timedelta(seconds=1)
    orders: list[str] = []
    n_order = 0
    for i in range(members):
        at += second
        member = f"m{i}"
        referrer = None if i == 0 or rng.random() < 0.0005 else f"m{rng.randrange(i)}"
        yield ev.Join.model_construct(at=at, member=member, referrer=referrer, birth_date=None,
                                      guardian_consent=False)
        n_order += 1
        order = f"o{n_order}"
        orders.append(order)
        yield ev.Pay.model_construct(at=at, member=member, sku="GIFT", order=order, quantity=1, points=None)
        roll = rng.random()
        if roll < 0.20:
            n_order += 1
            yield ev.Pay.model_construct(at=at, member=member, sku="TEA", order=f"o{n_order}", quantity=1,
                                         points=None)
        elif roll < 0.25:
            n_order += 1
            yield ev.Pay.model_construct(at=at, member=member, sku="GIFT", order=f"o{n_order}", quantity=1,
                                         points=None)
        if rng.random() < 0.01 and orders:
            victim = orders.pop(rng.randrange(len(orders)))
            yield ev.Refund.model_construct(at=at, order=victim)
        if i % 10_000 == 9_999:
            day = at.astimezone(SHANGHAI).date()
            yield ev.CloseDay.model_construct(at=at, day=day)
            at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8), tzinfo=SHANGHAI)


def chain_events(members: int) -> Iterator[ev.Event]:
    at = START
    second = dt.timedelta(seconds=1)
    for i in range(members):
        at += second
        yield ev.Join.model_construct(at=at, member=f"c{i}", referrer=f"c{i - 1}" if i else None, birth_date=None,
                                      guardian_consent=False)
        yield ev.Pay.model_construct(at=at, member=f"c{i}", sku="GIFT", order=f"o{i}", quantity=1, points=None)


def mixed_plans() -> dict[str, dict[str, Any]] | None:
    if "points" not in PLANS or "distribution" not in PLANS:
        return None
    return {
        "chain21": {"skus": ["GIFT"]},
        "distribution": {"levels": 2, "rates": ["0.10", "0.05"], "skus": ["TEA"]},
        "points": {},
    }


def run_shop(kind: str, members: int, seed: int) -> dict[str, Any]:
    plans: dict[str, dict[str, Any]] = {"chain21": {}}
    if kind == "mixed":
        mixed = mixed_plans()
        if mixed is None:
            return {"shop": kind, "skipped": "the points and distribution plans are not registered"}
        plans = mixed
    engine = new_engine(Shop(products=list(PRODUCTS), plans=plans, start=START))
    source = chain_events(members) if kind == "chain" else random_tree_events(members, seed)
    # Events are built in chunks outside the timed loop; the ledger is drained after each chunk as the worker
    # does after each commit, so memory holds the shop's state, not its history.
    elapsed = 0.0
    n_events = refused = entries = 0
    apply = engine.apply
    while True:
        chunk = list(itertools.islice(source, 20_000))
        if not chunk:
            break
        started = time.perf_counter()
        for event in chunk:
            if apply(event).refusal is not None:
                refused += 1
        elapsed += time.perf_counter() - started
        n_events += len(chunk)
        entries += sum(len(t.entries) for t in engine.ledger.drain())
    cash = sum(a for acct, a in engine.ledger.balances.items() if acct[1] not in NON_CASH_UNITS)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "shop": kind, "members": members, "events": n_events, "refused": refused,
        "seconds": round(elapsed, 2), "events_per_s": round(n_events / elapsed),
        "entries": entries, "entries_per_s": round(entries / elapsed),
        "transactions": engine.ledger.count, "peak_rss_mb": round(peak_mb),
        "ledger_balanced": cash == 0, "modules": sorted(engine.modules),
        "campaign_modules": sorted(CAMPAIGNS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--chain-members", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-chain", action="store_true")
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--one", choices=["tree", "chain", "mixed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        tune_gc()
        n = args.chain_members if args.one == "chain" else args.members
        print(json.dumps(run_shop(args.one, n, args.seed)))
        return
    kinds = ["tree"] + ([] if args.skip_mixed else ["mixed"]) + ([] if args.skip_chain else ["chain"])
    results = []
    for kind in kinds:  # one fresh process each, so peak memory is the shop's own
        cmd = [sys.executable, __file__, "--one", kind, "--members", str(args.members),
               "--chain-members", str(args.chain_members), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        if "skipped" in result:
            print(f"{kind:6s} skipped: {result['skipped']}")
            continue
        print(f"{kind:6s} {result['members']:>9,} members  {result['events']:>10,} events"
              f" in {result['seconds']:>7.2f} s  {result['events_per_s']:>9,} events/s"
              f"  {result['entries_per_s']:>9,} entries/s  peak {result['peak_rss_mb']:>6,} MB"
              f"  balanced={result['ledger_balanced']}")
    tree = next((r for r in results if r["shop"] == "tree"), None)
    mixed = next((r for r in results if r["shop"] == "mixed" and "skipped" not in r), None)
    if tree and mixed:
        print(f"mixed / chain21-only events/s: {mixed['events_per_s'] / tree['events_per_s']:.2f}")


if __name__ == "__main__":
    main()
