"""The dashboard's gross margin reads two daily figures the worker now keeps (``service.daily_figures``): the cost
of the goods sold (``cost_of_goods``) and the sales of products without a cost (``sales_without_cost``). Filled here
for the events already applied by replaying the log up to the worker's position, as migration 0011 did; only those
two figures are written. And the products' unit cost (``ProductState.cost``), unknown for the products so far. Products had no cost before, so every past sale counts among the sales without a cost."""

from typing import Any

from django.db import migrations, models

FILL_CHUNK = 5000
FIGURES = ("cost_of_goods", "sales_without_cost")


def fill_cost_of_goods(apps: Any, schema_editor: Any) -> None:
    from liandong.engine.registry import new_engine
    from liandong.service.daily_figures import replay
    from liandong.service.feed import shop_of

    alias = schema_editor.connection.alias
    LoggedEvent = apps.get_model("store", "LoggedEvent")
    ShopSetup = apps.get_model("store", "ShopSetup")
    WorkerPosition = apps.get_model("store", "WorkerPosition")
    DailyFigure = apps.get_model("store", "DailyFigure")
    setup = ShopSetup.objects.using(alias).filter(id=1).first()
    mark = WorkerPosition.objects.using(alias).filter(id=1).first()
    if setup is None or mark is None or not mark.position:
        return
    engine = new_engine(shop_of(setup.plans, setup.timezone, setup.start))

    def log() -> Any:
        after = 0
        while after < mark.position:
            chunk = list(LoggedEvent.objects.using(alias).filter(position__gt=after, position__lte=mark.position)
                         .order_by("position").values_list("position", "verb", "payload", "created_at")[:FILL_CHUNK])
            if not chunk:
                return
            yield from chunk
            after = chunk[-1][0]

    figures = replay(engine, log(), setup.auto_close_days)
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
