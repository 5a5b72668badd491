"""The one way past the append-only triggers: ``erasing_allowed()``, for the test suite's database flush.

The log, the outcomes, the ledger transactions and entries refuse UPDATE and DELETE (migration 0002). Tests that
commit (threads, subprocesses) need the tables emptied between tests; Django's ``flush`` deletes every row (SQLite)
or truncates (PostgreSQL). Inside ``erasing_allowed()`` the DELETE/TRUNCATE triggers let rows go:

    with erasing_allowed():
        call_command("flush", interactive=False)

On SQLite the triggers ask ``liandong_allow_erase()``, a function registered on every connection the application
opens (another program's connection does not have it, so its DELETE fails too); on PostgreSQL they read the session
setting ``liandong.allow_erase``. UPDATE is refused always. Nothing in the service calls this.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

_state = threading.local()


def erase_allowed() -> bool:
    return bool(getattr(_state, "allowed", False))


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: give SQLite connections the function the DELETE triggers ask."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("liandong_allow_erase", 0, lambda: int(erase_allowed()))


@contextmanager
def erasing_allowed(using: str = "default") -> Iterator[None]:
    connection = connections[using]
    _state.allowed = True
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET liandong.allow_erase = 'on'")
        yield
    finally:
        _state.allowed = False
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET liandong.allow_erase")
