"""The back office's roles as Django groups, each holding its operator permissions (``models.OFFICE_ROLES``;
docs/office.md). The table is copied here, not imported: a migration keeps what it did when the model changes."""

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES: dict[str, tuple[str, ...]] = {
    "owner": ("refund_order", "decide_withdrawal", "configure_plan", "manage_products", "close_day",
              "run_campaigns", "manage_promoters", "view_office"),
    "operator": ("view_office", "refund_order", "manage_products", "close_day", "run_campaigns",
                 "manage_promoters"),
    "finance": ("decide_withdrawal",),
    "read-only": ("view_office",),
}


def make_roles(apps: Any, schema_editor: Any) -> None:
    # the permissions are made after every migration (post_migrate); this one needs them now
    config = apps.get_app_config("accounts")
    config.models_module = True  # a migration's app stub has none; create_permissions skips an app without one
    create_permissions(config, verbosity=0, apps=apps)
    config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _created = group_model.objects.get_or_create(name=name)
        group.permissions.set(permission_model.objects.filter(content_type__app_label="accounts",
                                                              codename__in=codenames))


def remove_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_audit_before_after_office_view"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(make_roles, remove_roles)]
