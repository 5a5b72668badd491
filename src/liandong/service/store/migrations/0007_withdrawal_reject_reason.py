"""Why an operator rejected a withdrawal (the member reads it on the withdrawal page). Rows written before have an
empty reason: the rejections they record were logged without one, and replaying the log gives them none either."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("store", "0006_member_paging_indexes")]

    operations = [
        migrations.AddField(
            model_name="withdrawalstate",
            name="reason",
            field=models.CharField(blank=True, default="", max_length=200,
                                   help_text="why the operator rejected it (empty: not rejected, or rejected before "
                                             "rejections had reasons)"),
        ),
    ]
