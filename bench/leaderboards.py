"""Leaderboards benchmark: a board of 1,000,000 members in PostgreSQL, and how long its reads take (figures, not a
test). The members' page reads a board's top N and the viewer's own rank (``service.leaderboards.top`` and
``rank_of``: one backward scan of the index ``leaderboard_rank``, and one count of the rows ahead of the member).

    .venv/bin/python bench/leaderboards.py                        # 1,000,000 members, top 20
    .venv/bin/python bench/leaderboards.py --members 2000000 --top 50 --server postgres://postgres@127.0.0.1:5432

It creates a fresh database (dropped at the end unless ``--keep``), migrates it, fills one bucket of one board
(``commission``, ``week``) with ``--members`` rows (figures drawn from a long-tailed distribution with many ties, as
a shop's are: most members earn a little, few much) and its tally, plus a second board beside it, analyses the
table, then times each read ``--repeat`` times and prints the median and the worst, for the top N and for members
at the top, the middle and the bottom of the board. On this project's 2-core machine (PostgreSQL 15):

    43,934 tally rows per board
    top 20: median 0.64 ms, worst 1.28 ms
    own rank of the first member (rank 1): median 1.14 ms, worst 2.33 ms
    own rank of the middle member (rank 500,001): median 32.27 ms, worst 35.52 ms
    own rank of the last member (rank 1,000,000): median 23.67 ms, worst 35.12 ms

(A plain count of the rows ahead, without the tally, took 150-350 ms for a member in the middle or at the end.)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from api import bench_database  # noqa: E402


def fill(url: str, members: int, seed: int) -> list[str]:
    """The rows, with COPY; the members in their order on the board (best first)."""
    import psycopg

    rng = random.Random(seed)
    rows = []
    for n in range(members):
        figure = int(rng.paretovariate(1.2) * 100)  # fen: many equal small figures, a long tail
        rows.append((f"m{n}", figure, -rng.randrange(1, 50_000_000)))
    from liandong.service.leaderboards import block_of

    tally: dict[tuple[int, int], int] = {}
    for _member, figure, precedence in rows:
        if figure > 0:
            tally[(figure, block_of(precedence))] = tally.get((figure, block_of(precedence)), 0) + 1
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for board, period in (("commission", "week"), ("invites", "week")):
            with cur.copy("COPY store_leaderboardfigure (board, period, bucket, member, figure, precedence) "
                          "FROM STDIN") as copy:
                for member, figure, precedence in rows:
                    copy.write_row((board, period, "2026-03-02", member, figure, precedence))
            with cur.copy("COPY store_leaderboardtally (board, period, bucket, figure, block, members) "
                          "FROM STDIN") as copy:
                for (figure, block), members in tally.items():
                    copy.write_row((board, period, "2026-03-02", figure, block, members))
        conn.commit()
    print(f"{len(tally):,} tally rows per board")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE store_leaderboardfigure")
    rows.sort(key=lambda r: (-r[1], -r[2]))
    return [r[0] for r in rows]


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--server", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with bench_database(args.server, args.keep) as url:
        os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "liandong.web.settings",
                           "LIANDONG_SECRET_KEY": "bench", "LIANDONG_LOG_LEVEL": "WARNING"})
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        order = fill(url, args.members, args.seed)
        print(f"{args.members:,} members on the board, filled in {time.perf_counter() - started:.1f} s")
        from liandong.service.leaderboards import rank_of, top

        def board_top() -> object:
            return top("commission", "week", "2026-03-02", args.top)

        first = board_top()
        assert isinstance(first, list) and [r["member"] for r in first] == order[:args.top], "top N is wrong"
        median, worst = timed(board_top, args.repeat)
        print(f"top {args.top}: median {median:.2f} ms, worst {worst:.2f} ms")
        for where, index in (("first", 0), ("middle", len(order) // 2), ("last", len(order) - 1)):
            member = order[index]
            found = rank_of("commission", "week", "2026-03-02", member)
            assert found is not None and found["rank"] == index + 1, (where, found, index + 1)
            median, worst = timed(lambda m=member: rank_of("commission", "week", "2026-03-02", m),  # type: ignore[misc]
                                  args.repeat)
            print(f"own rank of the {where} member (rank {index + 1:,}): median {median:.2f} ms, "
                  f"worst {worst:.2f} ms")
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
