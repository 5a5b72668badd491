"""Crash test: a worker process under a stream of orders, killed with SIGKILL many times and restarted; after each
kill the database holds whole batches only, ``liandong verify`` passes after every twentieth restart and at the end, and
every order's sale and rewards are in the ledger exactly once.

Most kills land inside a batch's database transaction: the worker's fault hook (``LIANDONG_CRASH_INSIDE_COMMIT``,
``service.worker.CrashInsideCommit``) makes the worker SIGKILL itself in its N-th batch right after the rows of one
point are written (outcomes, entries, transactions, balances, projections, the position) and leaves a line in a
marker file first; the test counts those lines and checks that the committed position is still the one before that
batch. The others land at random instants (during the replay, between batches, mid-batch).

It runs on the backend the suite runs on (a fresh SQLite file, or a fresh PostgreSQL database beside the test
database), with real processes: ``liandong manage migrate``, a feeder appending events (this file run as a script:
``python test_crash.py feed``), ``liandong worker`` killed and restarted, ``liandong verify``, and this file's
``check``, which replays the log in memory and compares each order's transactions with the database's.
About 3 minutes per backend on an idle 2-core machine.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CRASH_POINTS = ("outcomes", "entries", "transactions", "balances", "projections", "position")
KILLS_INSIDE_COMMIT = 12 * len(CRASH_POINTS)
KILLS_AT_RANDOM = 28
VERIFY_EVERY = 20  # restarts
FEED_MAX_SECONDS = 900.0
HERE = Path(__file__).resolve()
BIN = Path(sys.executable).parent
SHOP_FILE = """timezone: Asia/Shanghai
plans:
  chain21: {}
products:
  - {sku: GIFT, price: "699.00", gift_pack: true}
  - {sku: TEA, price: "59.00"}
"""


# --- the test ------------------------------------------------------------------------------------------------------


@pytest.fixture
def crash_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for the subprocesses: a database of their own on the suite's backend."""
    from django.db import connection

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "liandong.web.settings", "LIANDONG_HOME": str(tmp_path),
           "LIANDONG_SECRET_KEY": "crash-test", "LIANDONG_SHOP_FILE": str(tmp_path / "shop.yaml"),
           "LIANDONG_LOG_LEVEL": "WARNING"}
    (tmp_path / "shop.yaml").write_text(SHOP_FILE, encoding="utf-8")
    if connection.vendor != "postgresql":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        yield env
        return
    import psycopg

    params = connection.settings_dict
    name = f"liandong_crash_{uuid.uuid4().hex[:8]}"
    host, port, user = params["HOST"] or "127.0.0.1", params["PORT"] or 5432, params["USER"] or "postgres"
    admin = psycopg.conninfo.make_conninfo(host=host, port=port, user=user, password=params["PASSWORD"] or None,
                                           dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = f"postgres://{user}@{host}:{port}/{name}"
    yield env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=timeout, check=False)


def helper(env: dict[str, str], command: str) -> dict[str, Any]:
    done = run(env, sys.executable, str(HERE), command)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def committed_position(env: dict[str, str]) -> int:
    """The worker's committed position, read straight from the crash database."""
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT position FROM store_workerposition WHERE id = 1").fetchone()
    else:
        import psycopg

        with psycopg.connect(url) as pg:
            row = pg.execute("SELECT position FROM store_workerposition WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def kill_plan(rng: random.Random) -> list[tuple[str, int]]:
    """(crash point, in which batch) for the kills inside a commit, ("random", 0) for the others, shuffled."""
    plan = [(CRASH_POINTS[i % len(CRASH_POINTS)], rng.randint(1, 3)) for i in range(KILLS_INSIDE_COMMIT)]
    plan += [("random", 0)] * KILLS_AT_RANDOM
    rng.shuffle(plan)
    return plan


def kill_inside_commit(env: dict[str, str], point: str, batch: int, marker: Path) -> tuple[int, int]:
    """Start a worker that kills itself inside its ``batch``-th commit at ``point``; the batch's (after, last)."""
    lines = marker.read_text().splitlines() if marker.exists() else []
    worker = subprocess.Popen([str(BIN / "liandong"), "worker", "--batch", "25"],
                              env={**env, "LIANDONG_CRASH_INSIDE_COMMIT": f"{point}:{batch}:{marker}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = worker.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise AssertionError(f"the worker did not reach {point} in batch {batch}") from None
    assert worker.returncode == -signal.SIGKILL, err
    after_lines = marker.read_text().splitlines()
    assert len(after_lines) == len(lines) + 1, after_lines[len(lines):]
    landed_point, after, last = after_lines[-1].split()
    assert landed_point == point
    return int(after), int(last)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_worker_killed_inside_its_commits_and_at_random_instants_loses_and_duplicates_nothing(
        crash_env: dict[str, str], tmp_path: Path) -> None:
    env = crash_env
    migrated = run(env, str(BIN / "liandong"), "manage", "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    stop, marker = tmp_path / "stop-feeding", tmp_path / "crash-marker"
    feeder = subprocess.Popen([sys.executable, str(HERE), "feed", str(stop), str(FEED_MAX_SECONDS)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rng = random.Random(20260301)
    started = time.monotonic()
    landed: dict[str, int] = dict.fromkeys(CRASH_POINTS, 0)
    try:
        for kills, (point, batch) in enumerate(kill_plan(rng), start=1):
            before = committed_position(env)
            if point == "random":
                worker = subprocess.Popen([str(BIN / "liandong"), "worker", "--batch", "25"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.2, 1.5))  # before, during or after its replay; mostly mid-batch
                worker.send_signal(signal.SIGKILL)
                worker.wait()
            else:
                after, last = kill_inside_commit(env, point, batch, marker)
                # the batch died whole: the position is the one it followed, which its own earlier batches reached
                assert committed_position(env) == after >= before, (point, batch, after, last)
                assert last > after
                landed[point] += 1
            assert feeder.poll() is None, "the feeder stopped: the kills were not under load"
            if kills % VERIFY_EVERY == 0:
                verified = run(env, str(BIN / "liandong"), "verify")
                assert verified.returncode == 0, f"after kill {kills}: {verified.stdout}{verified.stderr}"
    finally:
        stop.touch()
    out, err = feeder.communicate(timeout=120)
    assert feeder.returncode == 0, err
    fed = json.loads(out)
    print(f"{KILLS_INSIDE_COMMIT + KILLS_AT_RANDOM} kills ({landed} inside commits) under {sum(fed.values())} events "
          f"in {time.monotonic() - started:.0f} s")
    assert sum(landed.values()) == KILLS_INSIDE_COMMIT == len(marker.read_text().splitlines())
    assert min(landed.values()) > 0, landed
    final = subprocess.Popen([str(BIN / "liandong"), "worker"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while (status := helper(env, "status"))["position"] < status["last"]:
            assert time.monotonic() < deadline, f"the worker did not catch up: {status}"
            time.sleep(0.5)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
    verified = run(env, str(BIN / "liandong"), "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"{status['events']} events, "), verified.stdout
    check = helper(env, "check")
    assert check["problems"] == []
    assert check["orders"] == fed["pays"] - check["refused_pays"] > 0.9 * fed["pays"]
    assert check["rewarded_orders"] > 0


def test_the_fault_hook_is_off_unless_its_variable_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from liandong.service import worker

    assert worker._crash_inside_commit is None  # this process was started without the variable
    monkeypatch.delenv("LIANDONG_CRASH_INSIDE_COMMIT", raising=False)
    assert worker.CrashInsideCommit.from_environment() is None
    monkeypatch.setenv("LIANDONG_CRASH_INSIDE_COMMIT", f"entries:2:{tmp_path / 'marker'}")
    assert worker.CrashInsideCommit.from_environment() == worker.CrashInsideCommit("entries", 2, tmp_path / "marker")
    monkeypatch.setenv("LIANDONG_CRASH_INSIDE_COMMIT", f"commit:2:{tmp_path / 'marker'}")
    with pytest.raises(ValueError, match="unknown point 'commit'"):
        worker.CrashInsideCommit.from_environment()


# --- the helper processes (this file run as a script) ---------------------------------------------------------------


def _setup_django() -> None:
    import django

    sys.path.insert(0, str(HERE.parents[2] / "src"))
    django.setup()


def feed(stop: Path, seconds: float) -> dict[str, int]:
    """Append joins, then a stream of gift packs, tea and some refunds (about 20 events/s: the log stays small
    enough for a hundred restarts to replay it quickly) until the file ``stop`` exists, or for ``seconds`` at
    most."""
    import hashlib

    from liandong.service.log import append_event
    from liandong.service.shopfile import ensure_shop_setup

    ensure_shop_setup()  # as `liandong serve` does: the shop's products come first in the log
    rng = random.Random(7)
    members: list[str] = []
    counts = {"joins": 0, "pays": 0, "refunds": 0}

    def log(verb: str, fields: dict[str, Any]) -> None:
        key = f"crash:{sum(counts.values())}:{verb}"
        append_event(verb, fields, key=key, request_hash=hashlib.sha256(key.encode()).hexdigest(), actor="test")

    deadline = time.monotonic() + seconds
    orders: list[str] = []
    while time.monotonic() < deadline and not stop.exists():
        if len(members) < 40 or rng.random() < 0.15:
            member = f"M{len(members)}"
            log("join", {"member": member, "referrer": rng.choice(members) if members else None})
            members.append(member)
            counts["joins"] += 1
        elif orders and rng.random() < 0.04:
            log("refund", {"order": orders.pop(rng.randrange(len(orders)))})
            counts["refunds"] += 1
        else:
            order = f"o{counts['pays'] + 1}"
            log("pay", {"member": rng.choice(members), "sku": rng.choice(["GIFT", "GIFT", "TEA"]), "order": order})
            orders.append(order)
            counts["pays"] += 1
        time.sleep(0.05)
    return counts


def status() -> dict[str, int]:
    from liandong.service.store.models import LoggedEvent, WorkerPosition

    mark = WorkerPosition.objects.filter(id=1).first()
    last = LoggedEvent.objects.order_by("-position").values_list("position", flat=True).first()
    # on PostgreSQL positions come from a sequence: a killed worker's appends (its clock events) leave gaps
    return {"position": mark.position if mark else 0, "last": last or 0, "events": LoggedEvent.objects.count()}


def check() -> dict[str, Any]:
    """Replay the log in memory; every order's transactions (by rule, and what they reverse) must be in the
    database exactly as many times as the replay makes them: once."""
    from collections import Counter

    from liandong.engine.ledger import REWARD_RULES
    from liandong.service.feed import apply_logged
    from liandong.service.store.models import EventOutcome, LedgerTransaction, LoggedEvent, ShopSetup
    from liandong.service.worker import build_engine

    setup = ShopSetup.objects.get(id=1)
    engine = build_engine(setup)
    expected: Counter[tuple[str, str, bool]] = Counter()
    for row in LoggedEvent.objects.order_by("position").values_list("position", "verb", "payload", "created_at"):
        applied = apply_logged(engine, *row, setup.auto_close_days)
        expected.update((t.order, t.rule, t.reverses is not None) for t in applied.transactions if t.order)
    stored = Counter((o, r, rev is not None) for o, r, rev in
                     LedgerTransaction.objects.exclude(order="").values_list("order", "rule", "reverses"))
    problems = [f"order {k[0]} {k[1]}{' reversal' if k[2] else ''}: {stored[k]} in the database, replay {expected[k]}"
                for k in sorted(set(expected) | set(stored)) if expected[k] != stored[k]]
    # A reward rule is credited at most once per order (a refund's reversal names what it reverses).
    problems += [f"order {k[0]} has {n} {k[1]} transactions" for k, n in stored.items()
                 if n > 1 and k[1] in REWARD_RULES and not k[2]]
    refused_pays = EventOutcome.objects.filter(event__verb="pay", applied=False).count()
    rewarded = {k[0] for k in stored if k[1] == "direct_reward"}
    return {"orders": len(engine.orders), "problems": problems, "refused_pays": refused_pays,
            "rewarded_orders": len(rewarded)}


if __name__ == "__main__":
    _setup_django()
    command = sys.argv[1]
    if command == "feed":
        print(json.dumps(feed(Path(sys.argv[2]), float(sys.argv[3]))))
    elif command == "status":
        print(json.dumps(status()))
    elif command == "check":
        print(json.dumps(check()))
    else:
        raise SystemExit(f"unknown command {command!r}: feed STOPFILE SECONDS, status or check")
