"""The dashboard reads the shop's figures per business day: ``DailyFigure``, which the worker adds to in the same
transaction as the entries. Built here for the events already applied by replaying the log up to the worker's
position with the engine, exactly as the worker builds them (``service.daily_figures``); a large log takes about as
long as the worker's own restart replay. And an index of the withdrawals still open (waiting for a decision or a
payout), which the dashboard and the overview count."""

from typing import Any

from django.db import migrations, models

FILL_CHUNK = 5000


def fill_daily_figures(apps: Any, schema_editor: Any) -> None:
    from liandong.service.daily_figures import replay
    from liandong.service.feed import logged_history

    alias = schema_editor.connection.alias
    DailyFigure = apps.get_model("store", "DailyFigure")
    history = logged_history(apps, alias, FILL_CHUNK)
    if history is None:
        return
    figures = replay(history.engine, history.rows, history.auto_close_days)
    DailyFigure.objects.using(alias).bulk_create(
        [DailyFigure(day=day, figure=figure, plan=plan, key=key, amount=amount, count=count)
         for (day, figure, plan, key), (amount, count) in figures.totals.items() if amount or count],
        batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('store', '0010_statement_months'),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyFigure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(help_text="the business day, in the shop's time zone")),
                ('figure', models.CharField(max_length=32)),
                ('plan', models.CharField(blank=True, max_length=64)),
                ('key', models.CharField(blank=True, help_text='a rule, a rank or a book', max_length=64)),
                ('amount', models.BigIntegerField(default=0, help_text='fen')),
                ('count', models.BigIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['figure', 'day'], name='daily_figure_by_figure')],
                'constraints': [models.UniqueConstraint(fields=('day', 'figure', 'plan', 'key'),
                                                        name='one_daily_figure')],
            },
        ),
        migrations.AddIndex(
            model_name='withdrawalstate',
            index=models.Index(condition=models.Q(('status__in', ['requested', 'approved'])), fields=['status'],
                               name='withdrawal_open'),
        ),
        migrations.RunPython(fill_daily_figures, migrations.RunPython.noop),
    ]
