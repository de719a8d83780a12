"""Merchandisers see and edit a product's supplement facts (they decide its tags and dose cautions); marketing
may view products, so the product pickers (placements, article links) can autocomplete.

Extends the roles of recommender/migrations/0006_role_permissions.py; adds permissions, takes none away.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "merchandiser": [("catalog", "nutrientamount", ["add", "change", "delete", "view"])],
    "marketing": [("catalog", "product", ["view"])],
}


def _ensure_permissions(apps, app_label):
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None


def assign_grants(apps):
    """Add the permissions (which must exist) to the groups; safe to call with the real app registry."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, scopes in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, model, actions in scopes:
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def grant(apps, schema_editor):
    _ensure_permissions(apps, "catalog")
    assign_grants(apps)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, scopes in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        for app_label, model, actions in scopes:
            codenames = [f"{action}_{model}" for action in actions]
            if group is not None:
                group.permissions.remove(
                    *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_label_facts"),
        ("recommender", "0006_role_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
