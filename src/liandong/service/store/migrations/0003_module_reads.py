"""Read models from the modules' declarations: a member's reads by module (was chain21's ``progress``), an
operator's, and each module's shop-wide read (``ModuleState``). The worker rewrites them as events touch them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("store", "0002_append_only_ledger")]

    operations = [
        migrations.RenameField("memberstate", "progress", "reads"),
        migrations.AlterField(
            "memberstate", "reads",
            models.JSONField(default=dict, help_text="what the member sees of each module: kind -> member_read"),
        ),
        migrations.AddField(
            "memberstate", "operator_reads",
            models.JSONField(default=dict, help_text="what an operator sees: kind -> operator_read"),
        ),
        migrations.CreateModel(
            name="ModuleState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=64, unique=True)),
                ("view", models.JSONField(default=dict, help_text="shop_read: what anyone may read")),
                ("end_state", models.JSONField(
                    default=dict, help_text="a plan's end-state keys, as replay --json shows them")),
            ],
        ),
    ]
