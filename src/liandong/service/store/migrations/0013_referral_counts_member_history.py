"""The back office's member page reads two worker projections: ``ReferralCount`` (each member's referrals, the
size of its referral subtree and of the team it leads, per node of the tree) and ``MemberHistory`` (the facts about ranks, referrers,
bindings and promoter decisions). Filled here from what is already written: the counts from the members' referrers,
the history from the applied events' facts (facts this version adds, ``rank_gained``, start with it)."""

import datetime as dt
from typing import Any

from django.db import migrations, models

from liandong.service.member_history import history_rows

FILL_CHUNK = 5000


def fill(apps: Any, schema_editor: Any) -> None:
    alias = schema_editor.connection.alias
    MemberState = apps.get_model("store", "MemberState")
    ReferralCount = apps.get_model("store", "ReferralCount")
    EventOutcome = apps.get_model("store", "EventOutcome")
    MemberHistory = apps.get_model("store", "MemberHistory")
    referrer = dict(MemberState.objects.using(alias).exclude(referrer="").values_list("member", "referrer"))
    referrals: dict[str, int] = {}
    descendants: dict[str, int] = {}
    for member, above in referrer.items():
        referrals[above] = referrals.get(above, 0) + 1
        seen = {member}
        while above and above not in seen:  # every member above counts it once
            seen.add(above)
            descendants[above] = descendants.get(above, 0) + 1
            above = referrer.get(above, "")
    teams: dict[str, int] = {}
    for team in MemberState.objects.using(alias).exclude(team="").values_list("team", flat=True).iterator():
        teams[team] = teams.get(team, 0) + 1
    ReferralCount.objects.using(alias).bulk_create(
        [ReferralCount(member=m, referrals=referrals.get(m, 0), descendants=descendants.get(m, 0),
                       team_size=teams.get(m, 0)) for m in sorted(referrals.keys() | teams.keys())],
        batch_size=2000)
    outcomes = (EventOutcome.objects.using(alias).filter(applied=True).order_by("event_id")
                .values_list("event_id", "facts", "event__payload", "event__created_at"))
    after = 0
    while True:
        chunk = list(outcomes.filter(event_id__gt=after)[:FILL_CHUNK])
        items = []
        for position, facts, payload, created in chunk:
            if facts:
                at = payload.get("at") if isinstance(payload, dict) else None
                items.append((position, dt.datetime.fromisoformat(at) if isinstance(at, str) else created, facts))
        MemberHistory.objects.using(alias).bulk_create(
            [MemberHistory(member=m, position=p, at=a, kind=k, detail=d) for m, p, a, k, d in history_rows(items)],
            batch_size=2000)
        if len(chunk) < FILL_CHUNK:
            break
        after = chunk[-1][0]


class Migration(migrations.Migration):
    dependencies = [("store", "0012_liabilities")]

    operations = [
        migrations.CreateModel(
            name="ReferralCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member", models.CharField(max_length=64, unique=True)),
                ("referrals", models.IntegerField(default=0)),
                ("descendants", models.IntegerField(default=0)),
                ("team_size", models.IntegerField(default=0, help_text="members whose team it is (chain21's team_size)")),
            ],
        ),
        migrations.CreateModel(
            name="MemberHistory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("member", models.CharField(max_length=64)),
                ("position", models.BigIntegerField(help_text="the event's position in the log")),
                ("at", models.DateTimeField(help_text="the event's instant")),
                ("kind", models.CharField(max_length=32)),
                ("detail", models.JSONField(default=dict)),
            ],
            options={"indexes": [models.Index(fields=["member", "id"], name="history_member_order")]},
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
