"""What one page view reads many times, read once per request: the shop's setup row and each plan's config versions.

A member page asks for the running plans, a plan's current config and the shop's time zone from several helpers
(``reads.running_plans``, ``reads.plan_versions``, ``reads.wording_engine``, the layout's shop name); each was one
query, and a page of 20 statement lines asked for the time zone 20 times. Inside a GET or HEAD request these reads
are memoised (``memoized(key, compute)``) from ``request_started`` to ``request_finished``; a request that may
write (POST, …), the worker, the CLI and tests calling ``reads`` directly always read the database. Nothing a GET
request does changes the setup or a plan's config (they change by events, applied by the worker), so a memo cannot
be stale within one. Values are shared by the request's callers: they must not be changed in place.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("liandong_request_memo", default=None)
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def _started(sender: Any, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
    method = (environ or {}).get("REQUEST_METHOD", "")
    _memo.set({} if method in READ_ONLY_METHODS else None)


def _finished(sender: Any, **kwargs: Any) -> None:
    _memo.set(None)


def connect() -> None:
    """Called once, from the API app's ``ready``."""
    request_started.connect(_started, dispatch_uid="liandong_request_memo_started")
    request_finished.connect(_finished, dispatch_uid="liandong_request_memo_finished")


def memoized(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per read-only request for ``key``; every time outside one."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    value: T = memo[key]
    return value
