"""Blind-box offers: the terms an operator publishes for members to start box sets with (``BlindBoxOffer``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("office", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="BlindBoxOffer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("params", models.JSONField(default=dict)),
                ("status", models.CharField(default="draft", max_length=16)),
                ("created_by", models.CharField(max_length=150)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("published_at", models.DateTimeField(blank=True, null=True)),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"indexes": [models.Index(fields=["status", "id"], name="offer_status_order")]},
        ),
    ]
