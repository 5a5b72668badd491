"""The database backs the ledger's invariants, on SQLite and PostgreSQL alike:

- the event log, the outcomes, the ledger transactions and their entries are append-only: UPDATE and DELETE (and
  TRUNCATE on PostgreSQL) are refused by triggers;
- a ledger transaction's entries sum to zero per unit: the worker inserts a batch's entries first (in one statement),
  then the transaction rows; an entry for a transaction that is already written is refused, so a written
  transaction's entries never change. SQLite checks, before inserting each transaction row, that its entries
  balance; PostgreSQL checks, after each statement inserting entries, that they balance per transaction and unit
  (from the statement's transition table, without reading the ledger: so entries written in several statements
  must balance in each).

Example: entries (A/available +100, @platform/reward_expense -99) for transaction 7 -> refused
("ledger transaction 7 does not sum to zero in fen: 1").

The only way past the append-only triggers is ``store.guard.erasing_allowed()`` (the test suite's database flush):
on SQLite it is a function the application registers on its connections, on PostgreSQL the session setting
``liandong.allow_erase``. A migration that rebuilds one of these tables on SQLite (Django's "remake table") drops its
triggers: such a migration must run ``create_guards`` again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

APPEND_ONLY = ["store_loggedevent", "store_eventoutcome", "store_ledgertransaction", "store_ledgerentry"]

SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} WHEN NOT liandong_allow_erase()
BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END;
"""

SQLITE_BALANCED = """
CREATE TRIGGER IF NOT EXISTS store_ledgertransaction_balanced BEFORE INSERT ON store_ledgertransaction
WHEN EXISTS (SELECT 1 FROM store_ledgerentry WHERE transaction_id = NEW.id GROUP BY unit HAVING SUM(amount) <> 0)
BEGIN SELECT RAISE(ABORT, 'ledger transaction does not sum to zero per unit'); END;
CREATE TRIGGER IF NOT EXISTS store_ledgerentry_before_transaction BEFORE INSERT ON store_ledgerentry
WHEN EXISTS (SELECT 1 FROM store_ledgertransaction WHERE id = NEW.transaction_id)
BEGIN SELECT RAISE(ABORT, 'ledger entry for a transaction already written'); END;
"""

POSTGRES_FUNCTIONS = """
CREATE OR REPLACE FUNCTION liandong_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE') AND current_setting('liandong.allow_erase', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END $$;

CREATE OR REPLACE FUNCTION liandong_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE bad record;
BEGIN
  -- the statement's entries sum to zero per transaction and unit (the worker writes a batch's entries in one
  -- statement); read from the transition table only, whatever the size of the ledger
  SELECT n.transaction_id, n.unit, SUM(n.amount) AS total INTO bad
    FROM new_entries n GROUP BY n.transaction_id, n.unit HAVING SUM(n.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger transaction % does not sum to zero in %: %', bad.transaction_id, bad.unit, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  -- and no entry joins a transaction already written
  SELECT t.id INTO bad FROM store_ledgertransaction t
    WHERE t.id IN (SELECT DISTINCT n.transaction_id FROM new_entries n) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger entry for transaction %, which is already written', bad.id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
"""

POSTGRES_APPEND_ONLY = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION liandong_append_only();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION liandong_append_only();
"""

POSTGRES_BALANCED = """
DROP TRIGGER IF EXISTS store_ledgerentry_balanced ON store_ledgerentry;
CREATE TRIGGER store_ledgerentry_balanced AFTER INSERT ON store_ledgerentry
  REFERENCING NEW TABLE AS new_entries
  FOR EACH STATEMENT EXECUTE FUNCTION liandong_entries_balanced();
"""


def _statements(script: str) -> list[str]:
    """SQLite runs one statement per execute; a trigger body holds ';' so split on the 'END;' that closes it."""
    parts = [p.strip() for p in script.split("END;")]
    return [p + " END;" for p in parts if p]


def create_guards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in APPEND_ONLY:
            for statement in _statements(SQLITE_APPEND_ONLY.format(table=table)):
                schema_editor.execute(statement)
        for statement in _statements(SQLITE_BALANCED):
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTIONS, params=None)
        for table in APPEND_ONLY:
            schema_editor.execute(POSTGRES_APPEND_ONLY.format(table=table), params=None)
        schema_editor.execute(POSTGRES_BALANCED, params=None)
    else:
        raise NotImplementedError(f"the ledger guards support SQLite and PostgreSQL, not {vendor}")


def drop_guards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    names = [f"{t}_{s}" for t in APPEND_ONLY for s in ("no_update", "no_delete", "append_only", "no_truncate")]
    names += ["store_ledgertransaction_balanced", "store_ledgerentry_before_transaction", "store_ledgerentry_balanced"]
    for name in names:
        table = next(t for t in APPEND_ONLY if name.startswith(t))
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")


class Migration(migrations.Migration):
    dependencies = [("store", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="shopsetup",
            name="auto_close_days",
            field=models.BooleanField(
                default=False,
                help_text="the worker logs close_day at the end of each business day, and holds events logged after "
                "a day's end (without an explicit at) at that day's end until the close is applied",
            ),
        ),
        migrations.RunPython(create_guards, drop_guards),
    ]
