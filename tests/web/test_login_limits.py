"""Every login form is limited (django-axes, ``web/api/ratelimit.py``): per username and address, per address for
any usernames, on the admin's form as on the API's, and counted in the database so that every web process sees the
same failures (checked with two real ``liandong serve`` processes). With DEBUG off, ``liandong serve`` serves the
static files (WhiteNoise): the admin's styles, and Swagger UI's files from the project, never from a CDN."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from api_client import PASSWORD, Caller, Register, make_operator
from django.test import Client

pytest_plugins = ["api_fixtures"]

BIN = Path(sys.executable).parent


@pytest.mark.django_db
def test_the_admin_login_is_limited_like_the_apis(api_shop: None, settings: Any) -> None:
    settings.DEBUG = False
    make_operator("boss")
    browser = Client()
    answers = [browser.post("/admin/login/?next=/admin/", {"username": "boss", "password": "wrong-password"})
               .status_code for _ in range(5)]
    assert answers == [200] * 4 + [429]  # the form again, then the 5th failure reaches the limit
    right = browser.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD})
    assert right.status_code == 429 and 1 <= int(right["Retry-After"]) <= 900
    assert browser.get("/admin/").status_code == 302  # still not logged in: sent to the login form


@pytest.mark.django_db
def test_many_usernames_from_one_address_are_limited(api_shop: None, register_member: Register,
                                                     settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_CLIENT = 8
    register_member("alice")
    sprayer = Caller(Client(REMOTE_ADDR="10.0.0.66"))
    for n in range(8):
        r = sprayer.post("/api/auth/token", {"username": f"user{n}", "password": "wrong-password"})
        assert r.status == 401
    blocked = sprayer.post("/api/auth/token", {"username": "alice", "password": PASSWORD})
    assert blocked.status == 429
    assert (blocked.body["error"]["code"], blocked.body["error"]["field"]) == ("rate_limited", "client")
    assert "Retry-After" in blocked.headers
    elsewhere = Caller(Client(REMOTE_ADDR="10.0.0.67"))
    assert elsewhere.post("/api/auth/token", {"username": "alice", "password": PASSWORD}).status == 201


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_make_a_new_client(api_shop: None, register_member: Register) -> None:
    register_member("alice")
    for n in range(5):
        r = Caller(Client()).post("/api/auth/token", {"username": "alice", "password": "wrong-password"},
                                  headers={"X-Forwarded-For": f"10.9.9.{n}"})
        assert r.status == 401
    again = Caller(Client()).post("/api/auth/token", {"username": "alice", "password": PASSWORD},
                                  headers={"X-Forwarded-For": "10.9.9.99"})
    assert again.status == 429


def _same_origin_assets(html: str) -> list[str]:
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "http://" not in html and "https://" not in html
    return assets


@pytest.mark.django_db
def test_without_debug_the_docs_assets_and_admin_styles_are_served_by_whitenoise(settings: Any) -> None:
    settings.DEBUG = False
    browser = Client()
    page = browser.get("/api/docs")
    assert page.status_code == 200
    for asset in _same_origin_assets(page.content.decode()):
        served = browser.get(asset)
        assert served.status_code == 200 and served.has_header("Cache-Control"), asset  # WhiteNoise's answer
    assert browser.get("/static/admin/css/base.css").status_code == 200


# --- two real web processes ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(BIN / "liandong"), *args], env=env, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen([str(BIN / "liandong"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(url + "/api/products", timeout=5)
            return server, url
        except requests.ConnectionError:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two `liandong serve` processes (one gunicorn worker each) on one SQLite database, DEBUG off, no Redis;
    users alice and bob (password ``PASSWORD``)."""
    home = tmp_path_factory.mktemp("two-servers")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LIANDONG_", "DATABASE_URL"))}
    env.update({"LIANDONG_HOME": str(home), "LIANDONG_SECRET_KEY": "two-servers-test-key",
                "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}", "LIANDONG_DEBUG": "0"})
    _run(env, "manage", "migrate", "-v0")
    _run(env, "manage", "shell", "-c",
         "from django.contrib.auth.models import User\n"
         f"for name in ('alice', 'bob'): User.objects.create_user(name, password={PASSWORD!r})")
    servers = []
    try:
        for _ in range(2):  # one after the other: each sets the shop up on start
            servers.append(_serve(env))
        yield [url for _server, url in servers]
    finally:
        for server, _url in servers:
            server.terminate()
            server.wait(timeout=30)


def _token(url: str, username: str, password: str) -> requests.Response:
    return requests.post(url + "/api/auth/token", json={"username": username, "password": password},
                         headers={"Idempotency-Key": os.urandom(8).hex()}, timeout=30)


@pytest.mark.slow  # two servers hashing real passwords: about a minute for the three
def test_two_web_processes_count_the_same_login_failures(two_servers: list[str]) -> None:
    first, second = two_servers
    answers = [_token((first, second)[n % 2], "alice", "wrong-password").status_code for n in range(5)]
    assert answers == [401] * 5
    for url in two_servers:  # each process alone saw two or three failures: both refuse now
        blocked = _token(url, "alice", PASSWORD)
        assert blocked.status_code == 429 and blocked.json()["error"]["field"] == "username"
    assert _token(second, "bob", PASSWORD).status_code == 201


@pytest.mark.slow
def test_two_web_processes_count_the_same_clients_failures(two_servers: list[str]) -> None:
    first, second = two_servers
    for n in range(20):  # LOGIN_FAILURES_PER_CLIENT
        _token((first, second)[n % 2], f"sprayed{n}", "wrong-password")
    blocked = _token(first, "bob", PASSWORD)
    assert blocked.status_code == 429 and blocked.json()["error"]["field"] == "client"


@pytest.mark.slow
def test_the_docs_and_the_admin_styles_are_served_without_debug_or_a_cdn(two_servers: list[str]) -> None:
    url = two_servers[0]
    page = requests.get(url + "/api/docs", timeout=30)
    assert page.status_code == 200
    for asset in _same_origin_assets(page.text):
        assert requests.get(url + asset, timeout=30).status_code == 200, asset
    assert requests.get(url + "/static/admin/css/base.css", timeout=30).status_code == 200


def _redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_is_up(), reason="needs Redis on 127.0.0.1:6379")
def test_the_limits_counters_go_to_redis_with_liandong_redis_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LIANDONG_", "DATABASE_URL"))}
    env.update({"LIANDONG_HOME": str(tmp_path), "LIANDONG_SECRET_KEY": "redis-test-key",
                "LIANDONG_REDIS_URL": "redis://127.0.0.1:6379/15"})
    script = ("from django.core.cache import caches\ncache = caches['default']\n"
              "key = 'liandong-test:' + __import__('os').urandom(6).hex()\n"
              "cache.add(key, 1, 30); print(type(cache).__name__, cache.incr(key)); cache.delete(key)")
    done = subprocess.run([str(BIN / "liandong"), "manage", "shell", "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["RedisCache", "2"]
