"""Income notices benchmark: how long after a payment its reward notice reaches an open page, while orders are paid
at a steady rate (figures, not a test). gunicorn (``liandong serve``, threaded workers) + ``liandong worker`` +
PostgreSQL on this machine, over loopback.

    .venv/bin/python bench/notices.py                              # 20 open pages, 50 orders/s for 25 s
    .venv/bin/python bench/notices.py --pages 50 --rate 50 --seconds 30

It creates a fresh PostgreSQL database (dropped at the end unless ``--keep``; the set-up is ``bench/api.py``'s),
sets up a chain21 shop with ``--pages`` referrers (members who bought the gift pack, each with a login and a bearer
token), and one new member per order to come, each referred by one of them at random. Then:

1. each referrer opens ``GET /api/me/notices/stream`` (one thread each, as a page's EventSource would: it
   reconnects with ``Last-Event-ID`` when the server ends a response);
2. the orders are paid open-loop at ``--rate`` per second for ``--seconds`` through the signed payment webhook
   (``POST /api/payments/webhook``), each timed at the webhook's answer;
3. every notice event received is matched to its order: latency = received - the payment's answer (the direct
   reward, and team and peer rewards of referrers above, each a notice of its own).

It prints p50, p99 and max of that latency, the orders per second achieved, and how many of the notices the
database holds for the streamed referrers' bench orders reached their streams (all of them, or it says which not).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api import BIN, SHOP, bench_database, last_position, request, seed, service_env, wait_committed, webhook


@contextmanager
def running(env: dict[str, str], port: int, web_workers: int) -> Iterator[None]:
    """``liandong serve`` and ``liandong worker``, both stopped with SIGTERM (the web server cuts the open streams
    after its graceful timeout, as at a restart)."""
    web = subprocess.Popen([str(BIN / "liandong"), "serve", "--bind", f"127.0.0.1:{port}", "--workers",
                            str(web_workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(BIN / "liandong"), "worker"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if request(port, "GET", "/api/docs", b"", {})[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the web server did not answer within 30 s")
            time.sleep(0.2)
        yield
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(timeout=60)


def prepare_database(env: dict[str, str]) -> None:
    """Migrate the bench database and set Django up in this process (for the seed and the checks)."""
    migrated = subprocess.run([str(BIN / "liandong"), "manage", "migrate", "-v0"], env=env, check=False,
                              capture_output=True, text=True)
    if migrated.returncode != 0:
        raise RuntimeError(migrated.stderr)
    os.environ.update(env)
    import django

    django.setup()


def logins(members: list[str]) -> dict[str, str]:
    """A user, a MemberLogin and a bearer token for each member: member -> token."""
    from django.contrib.auth.models import User

    from liandong.web.accounts.models import MemberLogin
    from liandong.web.api.auth import issue_token

    tokens = {}
    for i, member in enumerate(members):
        user = User.objects.create_user(f"page{i}", password=None)
        MemberLogin.objects.create(user=user, member=member, invite_code=f"BENCH{i:04d}")
        tokens[member], _expires = issue_token(user)
    return tokens


class Page:
    """One open page's stream: every notice event with the monotonic time its data line was read."""

    def __init__(self, port: int, token: str, stop: threading.Event) -> None:
        self.port, self.token, self.stop = port, token, stop
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.connections = 0
        self.last_id = ""
        self.ready = threading.Event()
        self.conn: http.client.HTTPConnection | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            for _at, _data in self.lines():
                pass

    def lines(self) -> Iterator[tuple[float, str]]:
        conn = self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=70)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        try:
            conn.request("GET", "/api/me/notices/stream", headers=headers)
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"stream: {response.status} {response.read()[:200]!r}")
            self.connections += 1
            self.ready.set()
            while not self.stop.is_set():
                line = response.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("id: "):
                    self.last_id = text[4:]
                elif text.startswith("data: "):
                    at = time.monotonic()
                    self.received.append((at, json.loads(text[6:])))
                    yield at, text
        finally:
            conn.close()

    def close(self) -> None:
        """Hang up (the page is closed): the server's thread sees it at its next write."""
        conn = self.conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)


def pay_steadily(port: int, orders: list[str], rate: float, clients: int) -> tuple[dict[str, float], float]:
    """Open loop at ``rate``: each order's payment answered (monotonic time), and the achieved orders/s."""
    start = time.monotonic() + 0.5

    def send(i: int) -> tuple[str, float]:
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        webhook(port, orders[i])
        return orders[i], time.monotonic()

    with ThreadPoolExecutor(clients) as pool:
        answered = dict(pool.map(send, range(len(orders))))
    return answered, len(orders) / (max(answered.values()) - start)


def expected_notices(members: list[str], orders: list[str]) -> set[tuple[str, int]]:
    from liandong.service.store.models import MemberNotice

    return set(MemberNotice.objects.filter(member__in=members, order__in=orders).values_list("order", "id"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--server", default=os.environ.get("LIANDONG_BENCH_POSTGRES",
                                                           "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--pages", type=int, default=20, help="open pages (referrers streaming their notices)")
    parser.add_argument("--rate", type=float, default=50.0, help="orders paid per second")
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--clients", type=int, default=32, help="threads sending the payments")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    load = os.getloadavg()
    count = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory(prefix="liandong-bench-") as home, \
            bench_database(args.server, args.keep) as url:
        (Path(home) / "shop.yaml").write_text(SHOP, encoding="utf-8")
        env = service_env(url, Path(home))
        prepare_database(env)
        orders = seed(args.pages, count, random.Random(args.seed))
        referrers = [f"s{i}" for i in range(args.pages)]
        tokens = logins(referrers)
        stop = threading.Event()
        with running(env, args.port, args.web_workers):
            wait_committed(last_position(), timeout=300)
            pages = [Page(args.port, tokens[m], stop) for m in referrers]
            for page in pages:
                page.thread.start()
            for page in pages:
                if not page.ready.wait(30):
                    raise RuntimeError("a stream did not open within 30 s")
            answered, achieved = pay_steadily(args.port, orders, args.rate, args.clients)
            wait_committed(last_position(), timeout=120)
            expected = expected_notices(referrers, orders)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and sum(
                    1 for p in pages for _t, d in p.received if d.get("order") in answered) < len(expected):
                time.sleep(0.1)
            stop.set()
            for page in pages:
                page.close()
        got = {(d["order"], d["id"]): at for p in pages for at, d in p.received if d.get("order") in answered}
        latencies = [(at - answered[order]) * 1000 for (order, _id), at in got.items()]
        missing = expected - got.keys()
        cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        reconnects = sum(p.connections for p in pages) - len(pages)
        print(f"machine: {os.cpu_count()} CPUs, load average before the run {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}; gunicorn {args.web_workers} gthread workers; PostgreSQL on loopback")
        print(f"{args.pages} open pages streaming; {count} orders paid at {args.rate:.0f}/s offered for "
              f"{args.seconds:.0f} s: achieved {achieved:.1f} orders/s")
        print(f"notices received {len(got)} of {len(expected)} in the database for these pages' bench orders"
              f"{'' if not missing else f' (missing: {sorted(missing)[:5]})'}; stream reconnects {reconnects}")
        print(f"payment answered -> notice received on the page: p50 {cut[49]:.1f} ms, p99 {cut[98]:.1f} ms, "
              f"max {max(latencies, default=0.0):.1f} ms")


if __name__ == "__main__":
    main()
