"""A withdrawal's payee account, and whether an approved withdrawal still waits for its payout."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("store", "0003_module_reads")]

    operations = [
        migrations.AddField(
            model_name="withdrawalstate",
            name="payee",
            field=models.CharField(blank=True, help_text="the account the member asked the payout to go to",
                                   max_length=100),
        ),
        migrations.AddField(
            model_name="withdrawalstate",
            name="payout_pending",
            field=models.BooleanField(default=False, help_text="approved, the amount still in withdrawing"),
        ),
    ]
