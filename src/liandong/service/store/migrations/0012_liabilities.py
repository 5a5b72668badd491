"""The proof of liabilities (docs/proof-of-liabilities.md): each closed day's root and sums (``LiabilityDay``) and
its leaves (``LiabilityLeaf``), written by the worker with the close. Both tables are append-only, like the ledger
(the triggers of migration 0002): a published root, and the leaves it was built from, never change."""

import importlib
from typing import Any

from django.db import migrations, models

GUARDED = ["store_liabilityday", "store_liabilityleaf"]
_ledger_guards = importlib.import_module("liandong.service.store.migrations.0002_append_only_ledger")


def create_guards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in GUARDED:
        if vendor == "sqlite":
            for statement in _ledger_guards._statements(_ledger_guards.SQLITE_APPEND_ONLY.format(table=table)):
                schema_editor.execute(statement)
        elif vendor == "postgresql":
            schema_editor.execute(_ledger_guards.POSTGRES_APPEND_ONLY.format(table=table), params=None)
        else:
            raise NotImplementedError(f"the ledger guards support SQLite and PostgreSQL, not {vendor}")


def drop_guards(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table in GUARDED:
        for suffix in ("no_update", "no_delete", "append_only", "no_truncate"):
            on = "" if vendor == "sqlite" else f" ON {table}"
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}{on}")


class Migration(migrations.Migration):

    dependencies = [
        ('store', '0011_daily_figures'),
    ]

    operations = [
        migrations.CreateModel(
            name='LiabilityDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(unique=True)),
                ('root', models.CharField(help_text="the tree's root hash, hex", max_length=64)),
                ('members', models.IntegerField(help_text='the leaves: every member at the close')),
                ('available', models.BigIntegerField()),
                ('pending', models.BigIntegerField()),
                ('help_fund', models.BigIntegerField()),
                ('withdrawing', models.BigIntegerField()),
                ('locked_fund', models.BigIntegerField()),
                ('other', models.BigIntegerField(help_text="the members' other money books (a module's own), fen")),
                ('points', models.BigIntegerField(help_text="the members' points at the close's NAV, fen")),
                ('debt', models.BigIntegerField(help_text='what members owe the shop (negative balances), never netted')),
                ('position', models.BigIntegerField(help_text='the log position of the close_day event')),
                ('closed_at', models.DateTimeField(help_text="the close's instant")),
            ],
            options={
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='LiabilityLeaf',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('member', models.CharField(max_length=64)),
                ('salt', models.CharField(help_text='HMAC-SHA256(secret, day and member), hex', max_length=64)),
                ('available', models.BigIntegerField()),
                ('pending', models.BigIntegerField()),
                ('help_fund', models.BigIntegerField()),
                ('withdrawing', models.BigIntegerField()),
                ('locked_fund', models.BigIntegerField()),
                ('other', models.BigIntegerField()),
                ('points', models.BigIntegerField()),
                ('debt', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'member'), name='one_liability_leaf_per_day')],
            },
        ),
        migrations.RunPython(create_guards, drop_guards),
    ]
