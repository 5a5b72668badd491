"""Reads through a web process that is not the worker: a real ``liandong worker`` applies the log, a real
``liandong serve`` (gunicorn) answers, and neither ever built the other's engine. The web process must still name
every ledger rule and count every reward: a distribution shop's commissions are in ``platform.rewards`` and read
"distribution commission (level 1, 10%)" on the statement (once, a web process that never built a distribution
engine reported rewards without commissions and labelled them with raw rule names)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

BIN = Path(sys.executable).parent
SECRET = "separate-process-payment-secret"
SHOP = """
name: separate processes
timezone: Asia/Shanghai
plans:
  distribution: {levels: 2, rates: ["0.10", "0.05"], settle_after_days: 0}
  blind_box: {seed_users: 0}   # the campaign module's shop-wide config: no seed coupons at join in this shop
products:
  - {sku: TEA, price: "99.00", name: Tea}
"""

pytestmark = pytest.mark.slow  # three processes and real password hashing: about half a minute


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated SQLite shop with a worker and a web server, each its own process; the web server's URL."""
    home = tmp_path_factory.mktemp("separate")
    (home / "shop.yaml").write_text(SHOP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LIANDONG_", "DATABASE_URL"))}
    env.update({"LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "separate-process-test-key",
                "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}", "LIANDONG_SHOP_FILE": str(home / "shop.yaml"),
                "LIANDONG_PAYMENT_SECRET": SECRET, "DJANGO_SUPERUSER_PASSWORD": "operator-pass-9"})
    for args in (["manage", "migrate", "--verbosity", "0"],
                 ["manage", "createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.com"]):
        done = subprocess.run([str(BIN / "liandong"), *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    worker = subprocess.Popen([str(BIN / "liandong"), "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    server = subprocess.Popen([str(BIN / "liandong"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/api/products", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or busy starting
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the web server did not start"
            time.sleep(0.3)
        yield url
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=30)


def _post(url: str, path: str, body: Any, token: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": os.urandom(8).hex()}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(url + path, json=body, headers=headers, timeout=30)


def _member(url: str, username: str, invite_code: str | None = None) -> tuple[str, str]:
    """Register (with an inviter's code) and log in: (token, own invite code)."""
    body = {"username": username, "password": "correct-horse-9"} | ({"invite_code": invite_code} if invite_code else {})
    registered = _post(url, "/api/auth/register", body)
    assert registered.status_code == 201, registered.text
    token = _post(url, "/api/auth/token", {"username": username, "password": "correct-horse-9"})
    assert token.status_code == 201, token.text
    return token.json()["token"], registered.json()["invite_code"]


def _until(check: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_the_web_process_counts_and_names_the_commissions_the_worker_applied(service: str) -> None:
    p_token, p_code = _member(service, "promoter")
    q_token, q_code = _member(service, "second", p_code)  # bound to the promoter (joined through its link)
    d_token, _code = _member(service, "buyer", q_code)  # bound to the second promoter
    order = _post(service, "/api/orders", {"sku": "TEA"}, d_token).json()
    raw = json.dumps({"payment_id": "pay-1", "order": order["order"], "amount": order["amount"]}).encode()
    stamp = int(time.time())
    mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    paid = requests.post(service + "/api/payments/webhook", data=raw, timeout=30, headers={
        "Content-Type": "application/json", "Liandong-Signature": f"t={stamp},v1={mac}"})
    assert paid.status_code == 200, paid.text

    def statement() -> list[str]:
        lines = requests.get(service + "/api/me/statement", timeout=30,
                             headers={"Authorization": f"Bearer {q_token}"}).json()["lines"]
        return [line["text"].split("  ", 1)[1] for line in lines]

    assert _until(statement) == [f"+9.90 distribution commission · order {order['order']} by "
                                 f"{_member_id(service, d_token)} (level 1, 10%)  [available 9.90]"]
    boss = _post(service, "/api/auth/token", {"username": "boss", "password": "operator-pass-9"}).json()["token"]
    summary = requests.get(service + "/api/operator/summary", timeout=30,
                           headers={"Authorization": f"Bearer {boss}"}).json()
    assert summary["platform"] == {"sales": "99.00", "rewards": "14.85"}  # 9.90 + 4.95: both levels
    first = requests.get(service + "/api/me/plans/distribution", timeout=30,
                         headers={"Authorization": f"Bearer {p_token}"}).json()
    nothing_held = {"held": "0.00", "reversed": "0.00"}
    assert first["commissions"] == [{"level": 1, "pending": "0.00", "settled": "0.00", **nothing_held},
                                    {"level": 2, "pending": "0.00", "settled": "4.95", **nothing_held}]


def _member_id(url: str, token: str) -> str:
    me: str = requests.get(url + "/api/me", timeout=30, headers={"Authorization": f"Bearer {token}"}).json()["member"]
    return me
