"""The monthly bill reads pre-summed rows: ``StatementMonth``, a member's money entries per book, month (the shop's
time zone) and rule, which the worker adds to in the same transaction as the entries. Filled here for the entries
already written, in entry order, as the worker would have written them (``service.statement_months``)."""

from typing import Any
from zoneinfo import ZoneInfo

from django.db import migrations, models

from liandong.service.statement_months import MonthTotals

FILL_CHUNK = 5000


def fill_statement_months(apps: Any, schema_editor: Any) -> None:
    alias = schema_editor.connection.alias
    LedgerEntry = apps.get_model("store", "LedgerEntry")
    StatementMonth = apps.get_model("store", "StatementMonth")
    ShopSetup = apps.get_model("store", "ShopSetup")
    setup = ShopSetup.objects.using(alias).filter(id=1).first()
    totals = MonthTotals(ZoneInfo(setup.timezone if setup is not None else "Asia/Shanghai"))
    entries = (LedgerEntry.objects.using(alias).filter(unit="fen").exclude(owner__startswith="@").order_by("id")
               .values_list("id", "transaction_id", "transaction__rule", "transaction__at", "owner", "book",
                            "amount", "balance_after"))
    after = 0
    while True:
        chunk = list(entries.filter(id__gt=after)[:FILL_CHUNK])
        for _id, transaction, rule, at, owner, book, amount, balance_after in chunk:
            totals.add(transaction, rule, at, owner, book, amount, balance_after)
        if len(chunk) < FILL_CHUNK:
            break
        after = chunk[-1][0]
    StatementMonth.objects.using(alias).bulk_create(
        [StatementMonth(owner=owner, book=book, month=month, rule=rule, amount=amount, entries=count,
                        last_transaction=last, balance_after=balance)
         for (owner, book, month, rule), (amount, count, last, balance) in totals.totals.items()],
        batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('store', '0009_page_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='StatementMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.CharField(max_length=64)),
                ('book', models.CharField(max_length=64)),
                ('month', models.DateField(help_text="the first day of the month, in the shop's time zone")),
                ('rule', models.CharField(max_length=64)),
                ('amount', models.BigIntegerField(help_text='the sum of the entries, fen')),
                ('entries', models.IntegerField(help_text='how many entries')),
                ('last_transaction', models.BigIntegerField(help_text='the transaction of the latest of them')),
                ('balance_after', models.BigIntegerField(
                    help_text="the book's balance after the latest of them, fen")),
            ],
            options={
                'indexes': [models.Index(fields=['owner', 'month'], name='statement_month_owner')],
                'constraints': [models.UniqueConstraint(fields=('owner', 'book', 'month', 'rule'),
                                                        name='one_statement_month_per_rule')],
            },
        ),
        migrations.RunPython(fill_statement_months, migrations.RunPython.noop),
    ]
