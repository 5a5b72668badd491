"""Proof of liabilities benchmark (figures, not a test): what a day's close and a member's path cost for a shop of
``--members`` members.

    .venv/bin/python bench/liabilities.py                  # 10,000 members; about half a minute
    .venv/bin/python bench/liabilities.py --members 100000

1. The engine: ``--members`` members join, each buys a gift pack (chain21 and points), the day closes; then the
   snapshot the worker takes at the close (every member's balances and points at the NAV, salts, the tree).
2. Every member's path extracted and verified as ``liandong verify-liabilities`` does (from its JSON), and the size
   of one path file.
3. The store (SQLite in a temporary ``LIANDONG_HOME``, migrated): writing the day's rows as the worker does inside
   its batch, and rebuilding the day's tree from its stored leaves as the page does to serve a path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("LIANDONG_HOME", tempfile.mkdtemp(prefix="liandong-bench-liabilities-"))
    os.environ["LIANDONG_DEBUG"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "liandong.web.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from liandong.engine.core import Shop
    from liandong.engine.events import CloseDay, Join, Pay, SetProduct
    from liandong.engine.registry import new_engine
    from liandong.service.liabilities import snapshot, verify_proof
    from liandong.service.liability_days import DayProof, day_tree, write_day_proofs
    from liandong.service.store.models import LiabilityDay

    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    engine = new_engine(Shop(products=[], plans={"chain21": {"skus": ["GIFT"]}, "points": {}}, start=start,
                             timezone="Asia/Shanghai", keep_transactions=False))
    t = time.perf_counter()
    engine.apply(SetProduct(sku="GIFT", price=69900, gift_pack=True, at=start))
    for i in range(args.members):
        member = f"m{i:07d}"
        engine.apply(Join(member=member, referrer=f"m{(i - 1) // 3:07d}" if i else None, at=start))
        engine.apply(Pay(member=member, sku="GIFT", order=f"o{i}", at=start))
    engine.apply(CloseDay(day=start.date(), at=start))
    print(f"engine: {args.members} members joined and bought, the day closed: {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    tree = snapshot(engine, start.date().isoformat(), b"bench-secret")
    built = time.perf_counter() - t
    totals = tree.totals()
    print(f"snapshot at the close (balances, points at the NAV, salts, tree): {built * 1000:.0f} ms; "
          f"owed {totals['owed'] / 100:.2f} to {totals['members']} members, root {tree.root.hex()[:16]}…")

    t = time.perf_counter()
    proofs = [json.dumps(tree.proof(leaf.member)) for leaf in tree.leaves]
    extracted = time.perf_counter() - t
    t = time.perf_counter()
    ok = sum(verify_proof(json.loads(p), tree.root.hex(), totals["owed"], totals["members"]).ok for p in proofs)
    verified = time.perf_counter() - t
    each = 1e6 / len(proofs)
    print(f"every path: extracted {extracted * each:.0f} µs each, verified {verified * each:.0f} µs each "
          f"({ok} of {len(proofs)} hold); one path file {len(proofs[0])} bytes")

    call_command("migrate", verbosity=0)
    proof = DayProof(start.date(), 1, engine.end_of_day(start.date()), tree)
    t = time.perf_counter()
    with transaction.atomic():
        write_day_proofs(connection, [proof], "default")
    print(f"the day's rows written (SQLite, in one transaction): {(time.perf_counter() - t) * 1000:.0f} ms")
    t = time.perf_counter()
    rebuilt = day_tree(LiabilityDay.objects.get())
    print(f"the day's tree rebuilt from its stored leaves (the page, first path of the day): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms; same root: {rebuilt.root == tree.root}")


if __name__ == "__main__":
    main()
