"""Fast writes for the worker's batches: plain rows (tuples in column order) into a table, or upserted on a key.

The ORM's ``bulk_create`` spends most of a batch building model instances and quoting arrays; the worker writes
thousands of rows per commit, so it writes them directly:

- PostgreSQL: ``COPY table (columns) FROM STDIN``; an upsert copies into a temporary staging table (emptied at each
  commit) and runs one ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE``. The ledger's triggers fire for COPY too.
- SQLite: ``executemany`` of ``INSERT`` (``… ON CONFLICT (key) DO UPDATE`` for an upsert).

Values are Python values; a ``dict``/``list`` goes in as JSON text, a ``datetime`` through Django's adapter.
Example: ``insert_rows(connection, "store_ledgerentry", ("transaction_id", "owner", "book", "unit", "amount",
"balance_after"), [(7, "A", "available", "fen", 10000, 10000)])``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from ..engine.money import format_rate

Row = Sequence[Any]


def _quote(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def json_default(value: Any) -> Any:
    """What ``json.dumps`` cannot write by itself: dates as ISO text, rates as decimal strings, sets as lists."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Fraction):
        return format_rate(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _prepare(connection: BaseDatabaseWrapper, rows: Sequence[Row]) -> Sequence[Row]:
    """Convert the columns that need it (JSON, and datetimes on SQLite); the others pass as they are."""
    ops = connection.ops
    sqlite = connection.vendor == "sqlite"

    def value(v: Any) -> Any:
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=json_default)
        if isinstance(v, dt.datetime):
            return ops.adapt_datetimefield_value(v) if sqlite else v
        return v

    width = len(rows[0])
    convert = [i for i in range(width)
               if any(isinstance(row[i], (dict, list)) or (sqlite and isinstance(row[i], dt.datetime))
                      for row in rows)]
    if not convert:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i in convert:
            values[i] = value(values[i])
        out.append(values)
    return out


def insert_rows(connection: BaseDatabaseWrapper, table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    if not rows:
        return
    prepared = _prepare(connection, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({_quote(columns)}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({_quote(columns)}) VALUES ({marks})", prepared)


def upsert_rows(connection: BaseDatabaseWrapper, table: str, columns: Sequence[str], key: Sequence[str],
                rows: Sequence[Row], added: Sequence[str] = ()) -> None:
    """Insert ``rows``; a row whose ``key`` columns match an existing row replaces that row's other columns, except
    the ``added`` ones, which it adds to (running totals). ``rows`` hold each key once."""
    if not rows:
        return
    updates = ", ".join(f'"{c}" = {table}."{c}" + EXCLUDED."{c}"' if c in added else f'"{c}" = EXCLUDED."{c}"'
                        for c in columns if c not in key)
    conflict = f"ON CONFLICT ({_quote(key)}) DO UPDATE SET {updates}"
    prepared = _prepare(connection, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            stage = f"stage_{table}"
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                           f"SELECT {_quote(columns)} FROM {table} WITH NO DATA")
            with cursor.cursor.copy(f"COPY {stage} ({_quote(columns)}) FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({_quote(columns)}) SELECT {_quote(columns)} FROM {stage} "
                           f"{conflict}")
            cursor.execute(f"DELETE FROM {stage}")
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({_quote(columns)}) VALUES ({marks}) {conflict}", prepared)
