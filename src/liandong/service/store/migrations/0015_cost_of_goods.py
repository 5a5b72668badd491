"""The dashboard's gross margin reads two daily figures the worker now keeps (``service.daily_figures``): the cost
of the goods sold (``cost_of_goods``) and the sales of products without a cost (``sales_without_cost``). Filled here
for the events already applied by replaying the log up to the worker's position, as migration 0011 did; only those
two figures are written. And the products' unit cost (``ProductState.cost``), unknown for the products so far. Products had no cost before, so every past sale counts among the sales without a cost."""

from typing import Any

from django.db import migrations, models

FILL_CHUNK = 5000
FIGURES = ("cost_of_goods", "sales_without_cost")


def fill_cost_of_goods(apps: Any, schema_editor: Any) -> None:
    from liandong.service.daily_figures import replay
    from liandong.service.feed import logged_history

    alias = schema_editor.connection.alias
    DailyFigure = apps.get_model("store", "DailyFigure")
    history = logged_history(apps, alias, FILL_CHUNK)
    if history is None:
        return
    figures = replay(history.engine, history.rows, history.auto_close_days)
    DailyFigure.objects.using(alias).filter(figure__in=FIGURES).delete()
    DailyFigure.objects.using(alias).bulk_create(
        [DailyFigure(day=day, figure=figure, plan=plan, key=key, amount=amount, count=count)
         for (day, figure, plan, key), (amount, count) in figures.totals.items()
         if figure in FIGURES and (amount or count)],
        batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('store', '0014_leaderboards'),
    ]

    operations = [
        migrations.AddField(
            model_name='productstate',
            name='cost',
            field=models.BigIntegerField(blank=True, help_text='unit cost of the goods (fen); null: not known',
                                         null=True),
        ),
        migrations.RunPython(fill_cost_of_goods, migrations.RunPython.noop),
    ]
