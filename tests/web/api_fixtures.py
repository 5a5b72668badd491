"""Fixtures of the API tests (loaded with ``pytest_plugins = ["api_fixtures"]``; names start with ``api_`` or say
what they make, so they do not collide with the worker's conftest). The log is applied in the request itself
(``LIANDONG_INLINE_WORKER``), so every answer is the applied outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from api_client import PAYMENT_SECRET, START, Caller, FakeClock, Register, make_operator, make_shop, register
from django.core.cache import cache
from django.test import Client
from django.utils import timezone


@pytest.fixture
def api_settings(settings: Any) -> Iterator[Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LIANDONG_INLINE_WORKER = True
    settings.API_OUTCOME_WAIT_SECONDS = 0.0
    settings.PAYMENT_SECRET = PAYMENT_SECRET
    settings.DEBUG = True  # the demo payment provider
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def api_shop(db: None, api_settings: Any) -> None:
    """A chain21 shop selling GIFT (699.00, a gift pack) and TEA (59.00); real time."""
    make_shop(start=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def anonymous_caller() -> Caller:
    return Caller(Client())


@pytest.fixture
def register_member(api_settings: Any) -> Register:
    """Register a member through the API (``inviter``: a Caller whose invite code to use) and give it a token."""
    return register


@pytest.fixture
def api_operator(db: None, api_settings: Any) -> Caller:
    return make_operator()


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock(START)
    monkeypatch.setattr(timezone, "now", fake)
    return fake
