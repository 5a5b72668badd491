"""Service benchmark: gunicorn + ``liandong worker`` + PostgreSQL on this machine, over loopback (figures, not a test).

    .venv/bin/python bench/api.py                          # defaults below; about two minutes
    .venv/bin/python bench/api.py --orders 2000 --rates 500,50 --seconds 10 --log-orders 20000

It creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it, sets up a chain21 shop
(a 699.00 gift pack), and logs a referral tree: ``--sponsors`` members who bought the gift pack (agents, and
partners once two of their referrals buy), and one new member per order to come, each referred by a random
sponsor. Every order to come is created beforehand as the API creates it (a ``PendingOrder``), so a payment is one
signed webhook: ``POST /api/payments/webhook`` → ``pay`` event logged → the worker applies it → the sale, the pool
contribution, the sponsor's direct reward (and team and peer rewards above) committed with the sponsor's balance.

1. Throughput, same run, same server and client: ``--orders`` requests to a bare Django view that inserts one row
   (``bench/bare_urls.py``), then ``--orders`` paid orders through the webhook, counted until the worker has
   committed the last one. Closed loop, ``--clients`` threads, a new connection per request (gunicorn's sync
   workers close it anyway).
2. Latency at steady rates: webhooks sent open-loop at each of ``--rates`` per second for ``--seconds``; a
   watcher reads the worker's committed position every 2 ms. A payment is visible when the committed position
   reaches its ``pay`` event: the same database transaction writes the reward entries and the beneficiary's
   balance. Latency is from the scheduled send time (so a client that falls behind counts against us) to the first
   read that sees it; it is also shown split: the webhook's answer, and from the answer to the reward visible (the
   worker's share).
3. The worker alone: with the web server and the worker stopped, ``--log-orders`` new members and their gift-pack
   payments are appended to the log; ``liandong worker`` is started and timed from its first commit to its last:
   entries committed per second. Then the time to rebuild the engine by replaying the whole log (what a restart
   costs, not counted in the rate).
Finally ``liandong verify`` checks the whole database.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SECRET = "bench-payment-secret"
SHOP = """timezone: Asia/Shanghai
plans:
  chain21: {}
products:
  - {sku: GIFT, price: "699.00", gift_pack: true}
"""


# --- the database and the processes ---------------------------------------------------------------------------------


@contextmanager
def bench_database(server: str, keep: bool) -> Iterator[str]:
    """A fresh database on ``server`` (postgres://user@host:port); its URL."""
    import psycopg

    name = f"liandong_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        if not keep:
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept the database {name}")


def service_env(url: str, home: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "bench",
            "LIANDONG_PAYMENT_SECRET": SECRET, "LIANDONG_SHOP_FILE": str(home / "shop.yaml"),
            "DJANGO_SETTINGS_MODULE": "liandong.web.settings", "LIANDONG_LOG_LEVEL": "WARNING",
            "LIANDONG_INLINE_WORKER": "0"}


@contextmanager
def running(env: dict[str, str], port: int, web_workers: int) -> Iterator[None]:
    """gunicorn (with the bare view) and ``liandong worker``; both stopped with SIGTERM on exit."""
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bare_site",
               "PYTHONPATH": os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])}
    web = subprocess.Popen([str(BIN / "liandong"), "serve", "--bind", f"127.0.0.1:{port}", "--workers",
                            str(web_workers)], env=web_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(BIN / "liandong"), "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = request(port, "GET", "/api/docs", b"", {})
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not answer within 30 s")
            time.sleep(0.2)
        yield
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(timeout=30)


def request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the shop ------------------------------------------------------------------------------------------------------


def log_rows(events: list[tuple[str, dict[str, Any]]], prefix: str) -> None:
    """Append validated events to the log in bulk (as append_event would, one by one)."""
    from liandong.service.log import validate_event
    from liandong.service.store.models import LoggedEvent

    rows = []
    for i, (verb, fields) in enumerate(events):
        validate_event(verb, fields)
        rows.append(LoggedEvent(key=f"{prefix}:{i}", verb=verb, payload=fields,
                                request_hash=hashlib.sha256(f"{prefix}:{i}".encode()).hexdigest(), actor="bench"))
    LoggedEvent.objects.bulk_create(rows, batch_size=5000)


def seed(sponsors: int, buyers: int, rng: random.Random) -> list[str]:
    """Sponsors (gift pack bought) and one new member per order to come; returns the pending order ids."""
    from liandong.service.shopfile import ensure_shop_setup
    from liandong.web.api.models import PendingOrder

    ensure_shop_setup()
    tree: list[tuple[str, dict[str, Any]]] = []
    names = [f"s{i}" for i in range(sponsors)]
    for i, sponsor in enumerate(names):
        tree.append(("join", {"member": sponsor, "referrer": rng.choice(names[:i]) if i >= 5 else None}))
        tree.append(("pay", {"member": sponsor, "sku": "GIFT", "order": f"seed-{sponsor}"}))
    buyer_names = [f"b{i}" for i in range(buyers)]
    tree += [("join", {"member": b, "referrer": rng.choice(names)}) for b in buyer_names]
    log_rows(tree, "seed")
    orders = [f"bench-o{i}" for i in range(buyers)]
    PendingOrder.objects.bulk_create([PendingOrder(order=o, member=b, sku="GIFT", quantity=1, amount=69900)
                                      for o, b in zip(orders, buyer_names, strict=True)], batch_size=5000)
    return orders


def committed_position() -> int:
    from liandong.service.store.models import WorkerPosition

    return WorkerPosition.objects.filter(id=1).values_list("position", flat=True).first() or 0


def wait_committed(position: int, timeout: float) -> float:
    """Wait until the worker committed ``position``; the monotonic time it was seen."""
    deadline = time.monotonic() + timeout
    while committed_position() < position:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not reach position {position} within {timeout:.0f} s")
        time.sleep(0.005)
    return time.monotonic()


def last_position() -> int:
    from liandong.service.store.models import LoggedEvent

    return LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first() or 0


# --- the requests --------------------------------------------------------------------------------------------------


def webhook(port: int, order: str) -> int:
    """Pay ``order`` through the signed webhook; the logged event's position."""
    from liandong.web.api.payments import SIGNATURE_HEADER, sign

    body = json.dumps({"payment_id": f"pay-{order}", "order": order, "amount": "699.00",
                       "status": "succeeded"}).encode()
    status, answer = request(port, "POST", "/api/payments/webhook", body,
                             {SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))})
    if status != 200:
        raise RuntimeError(f"webhook for {order}: {status} {answer[:300]!r}")
    return int(json.loads(answer)["position"])


def bare(port: int, n: int) -> int:
    status, answer = request(port, "POST", "/bench/bare", json.dumps({"n": n, "note": "one row"}).encode(), {})
    if status != 200:
        raise RuntimeError(f"bare view: {status} {answer[:300]!r}")
    return n


def closed_loop(calls: list[Callable[[], int]], clients: int) -> tuple[float, list[int]]:
    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda call: call(), calls))
    return time.monotonic() - started, results


def warm_up(port: int, clients: int) -> None:
    """Every gunicorn worker imports the URLs and the API at its first request (a second or two): not measured."""
    closed_loop([lambda i=i: bare(port, -i) for i in range(4 * clients)], clients)  # type: ignore[misc]


def throughput(port: int, orders: list[str], clients: int) -> dict[str, float]:
    n = len(orders)
    warm_up(port, clients)
    bare_seconds, _ = closed_loop([lambda i=i: bare(port, i) for i in range(n)], clients)  # type: ignore[misc]
    started = time.monotonic()
    _, positions = closed_loop([lambda o=o: webhook(port, o) for o in orders], clients)  # type: ignore[misc]
    sent = time.monotonic()
    done = wait_committed(max(positions), timeout=300)
    return {"bare_per_s": n / bare_seconds, "webhook_per_s": n / (sent - started),
            "paid_per_s": n / (done - started)}


def steady_latency(port: int, url: str, orders: list[str], rate: float, clients: int) -> dict[str, float]:
    """Open loop at ``rate``: each payment's time from its scheduled send to its commit being visible."""
    import bisect

    import psycopg

    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute("SELECT position FROM store_workerposition WHERE id = 1").fetchone()
                samples.append((time.monotonic(), int(row[0]) if row else 0))
                time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.monotonic() + 0.5

    def send(i: int) -> tuple[float, float, int]:
        scheduled = start + i / rate
        time.sleep(max(0.0, scheduled - time.monotonic()))
        position = webhook(port, orders[i])
        return scheduled, time.monotonic(), position

    with ThreadPoolExecutor(clients) as pool:
        sent = list(pool.map(send, range(len(orders))))
    wait_committed(max(p for _s, _a, p in sent), timeout=120)
    time.sleep(0.05)
    stop.set()
    watcher.join()
    times, positions = [t for t, _p in samples], [p for _t, p in samples]
    latencies, answers, lags = [], [], []
    for scheduled, answered, position in sent:
        seen = times[bisect.bisect_left(positions, position)]
        latencies.append((seen - scheduled) * 1000)
        answers.append((answered - scheduled) * 1000)
        lags.append(max(0.0, seen - answered) * 1000)
    last_answer = max(a for _s, a, _p in sent)
    cut, answer_cut, lag_cut = (statistics.quantiles(x, n=100) for x in (latencies, answers, lags))
    return {"rate": rate, "sent_per_s": len(orders) / (last_answer - start), "p50_ms": cut[49],
            "p99_ms": cut[98], "max_ms": max(latencies), "webhook_p50_ms": answer_cut[49],
            "webhook_p99_ms": answer_cut[98], "lag_p50_ms": lag_cut[49], "lag_p99_ms": lag_cut[98]}


def worker_alone(env: dict[str, str], orders: int, sponsors: int, rng: random.Random) -> dict[str, float]:
    """Fill the log with new members' gift-pack payments, then time ``liandong worker`` applying them (from its
    first commit to its last: the start-up replay is timed on its own, in-process)."""
    from liandong.service.store.models import LedgerEntry
    from liandong.service.worker import Worker

    events: list[tuple[str, dict[str, Any]]] = []
    for i in range(orders):
        member = f"f{i}"
        events.append(("join", {"member": member, "referrer": f"s{rng.randrange(sponsors)}"}))
        events.append(("pay", {"member": member, "sku": "GIFT", "order": f"fill-o{i}"}))
    start_position = committed_position()
    log_rows(events, "fill")
    last = last_position()
    before = LedgerEntry.objects.count()
    worker = subprocess.Popen([str(BIN / "liandong"), "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        while (first := committed_position()) == start_position:
            time.sleep(0.001)
        started, first_entries = time.monotonic(), LedgerEntry.objects.filter(transaction__event_id__lte=first).count()
        done = wait_committed(last, timeout=600)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    entries = LedgerEntry.objects.count() - first_entries
    seconds = done - started
    replayer = Worker()
    with replayer.locked():
        engine = replayer.load()
    return {"events": last - first, "entries": entries, "seconds": seconds, "entries_per_s": entries / seconds,
            "events_per_s": (last - first) / seconds, "all_entries": LedgerEntry.objects.count() - before,
            "replay_events": replayer.position, "replay_seconds": replayer.replay_seconds,
            "transactions": engine.ledger.count}


# --- the run -------------------------------------------------------------------------------------------------------


def prepare(env: dict[str, str], args: argparse.Namespace) -> list[str]:
    migrated = subprocess.run([str(BIN / "liandong"), "manage", "migrate", "-v0"], env=env, check=False,
                              capture_output=True, text=True)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stderr)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body jsonb NOT NULL, "
                       "created_at timestamptz NOT NULL DEFAULT now())")
    buyers = args.orders + sum(int(rate * args.seconds) for rate in args.rate_list)
    return seed(args.sponsors, buyers, random.Random(args.seed))


def report(args: argparse.Namespace, load: tuple[float, float, float], paid: dict[str, float],
           steady: list[dict[str, float]], alone: dict[str, float], verified: str) -> None:
    print(f"machine: {os.cpu_count()} CPUs, load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"gunicorn {args.web_workers} sync workers; PostgreSQL on loopback")
    print(f"throughput ({args.orders} requests each, {args.clients} clients):")
    print(f"  bare Django view inserting one row   {paid['bare_per_s']:8.0f} requests/s")
    print(f"  paid orders, webhook -> committed    {paid['paid_per_s']:8.0f} orders/s   "
          f"({paid['paid_per_s'] / paid['bare_per_s']:.2f} of the bare view; webhooks answered at "
          f"{paid['webhook_per_s']:.0f}/s)")
    for run in steady:
        print(f"steady {run['rate']:.0f} orders/s for {args.seconds:.0f} s (achieved {run['sent_per_s']:.0f}/s): "
              f"webhook sent -> reward visible p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
              f"max {run['max_ms']:.1f} ms; webhook answered p50 {run['webhook_p50_ms']:.1f} ms, "
              f"p99 {run['webhook_p99_ms']:.1f} ms; answered -> visible p50 {run['lag_p50_ms']:.1f} ms, "
              f"p99 {run['lag_p99_ms']:.1f} ms")
    print(f"worker alone (liandong worker) from a filled log: {alone['events']:.0f} events, {alone['entries']:.0f} "
          f"entries in {alone['seconds']:.2f} s = {alone['entries_per_s']:,.0f} entries/s "
          f"({alone['events_per_s']:,.0f} events/s), after its first commit")
    print(f"restart: replaying {alone['replay_events']} log positions ({alone['transactions']} transactions) took "
          f"{alone['replay_seconds']:.2f} s")
    print(f"verify: {verified}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default=os.environ.get("LIANDONG_BENCH_POSTGRES",
                                                           "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--orders", type=int, default=2000, help="requests per throughput measurement")
    parser.add_argument("--rates", default="500,50",
                        help="orders per second for the latency measurements, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of the latency measurement")
    parser.add_argument("--clients", type=int, default=32, help="client threads")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--sponsors", type=int, default=300)
    parser.add_argument("--log-orders", type=int, default=20000, help="orders in the filled log (worker alone)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    args.rate_list = [float(r) for r in args.rates.split(",") if r]
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as home, \
            bench_database(args.server, args.keep) as url:
        (Path(home) / "shop.yaml").write_text(SHOP, encoding="utf-8")
        env = service_env(url, Path(home))
        orders = prepare(env, args)
        with running(env, args.port, args.web_workers):
            wait_committed(last_position(), timeout=300)
            paid = throughput(args.port, orders[:args.orders], args.clients)
            steady, offset = [], args.orders
            for rate in args.rate_list:
                count = int(rate * args.seconds)
                steady.append(steady_latency(args.port, url, orders[offset:offset + count], rate,
                                             max(args.clients, 64)))
                offset += count
        alone = worker_alone(env, args.log_orders, args.sponsors, random.Random(args.seed + 1))
        verify = subprocess.run([str(BIN / "liandong"), "verify"], env=env, capture_output=True, text=True,
                                check=False)
        verified = (verify.stdout or verify.stderr).strip().splitlines()[-1]
        report(args, load, paid, steady, alone, verified if verify.returncode == 0 else f"FAILED: {verified}")


if __name__ == "__main__":
    main()
