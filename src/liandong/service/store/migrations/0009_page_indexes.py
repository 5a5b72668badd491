"""The members' pages read a page at a time without scanning: a promoter's bound buyers by a real column
(``MemberState.bound_promoter``, projected by the worker from the distribution read, filled here for the rows already
written), a member's money statement newest first, and the log's events by verb and actor."""

from typing import Any

from django.db import migrations, models


def fill_bound_promoter(apps: Any, schema_editor: Any) -> None:
    MemberState = apps.get_model("store", "MemberState")
    changed = []
    for state in MemberState.objects.using(schema_editor.connection.alias).only("id", "reads").iterator(2000):
        bound_to = ((state.reads or {}).get("distribution") or {}).get("bound_to") or {}
        if bound_to.get("promoter"):
            state.bound_promoter = str(bound_to["promoter"])
            changed.append(state)
    MemberState.objects.using(schema_editor.connection.alias).bulk_update(changed, ["bound_promoter"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('store', '0008_member_notices'),
    ]

    operations = [
        migrations.AddField(
            model_name='memberstate',
            name='bound_promoter',
            field=models.CharField(blank=True, default='', max_length=64,
                                   help_text='the promoter its distribution binding names (bound_to), expired or not'),
        ),
        migrations.RunPython(fill_bound_promoter, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='memberstate',
            index=models.Index(fields=['bound_promoter', 'join_index'], name='member_bound_join_order'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['owner', 'unit', 'id'], name='entry_owner_unit_order'),
        ),
        migrations.AddIndex(
            model_name='loggedevent',
            index=models.Index(fields=['verb', 'actor', 'position'], name='event_verb_actor'),
        ),
    ]
