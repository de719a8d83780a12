"""Extend the roles for the admin tooling: least privilege, and neither group can manage users.

merchandiser: view/change the host's products (to tag them), product tags in full (inline, bulk
actions, import/export), the taxonomy read-only. marketing: content pages (add, change), their tags,
placements, article links, the stats, the taxonomy read-only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from recommender.conf import product_model_label

ROLES = {
    "merchandiser": {
        "recommender": {
            "producttag": ["add", "change", "delete", "view"],
            "tag": ["view"],
            "synonym": ["view"],
            "tagrelation": ["view"],
            "contentpage": ["view"],
            "recommendation": ["view"],
        },
        "product": ["change", "view"],
    },
    "marketing": {
        "recommender": {
            "contentpage": ["add", "change", "view"],
            "pagetag": ["add", "change", "delete", "view"],
            "placement": ["add", "change", "delete", "view"],
            "articlelink": ["add", "change", "delete", "view"],
            "dailystat": ["view"],
            "recommendation": ["view"],
            "tag": ["view"],
            "synonym": ["view"],
            "tagrelation": ["view"],
            "producttag": ["view"],
        },
    },
}


def _ensure_permissions(apps, app_label):
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None


def grant(apps, schema_editor):
    _ensure_permissions(apps, "recommender")
    _ensure_permissions(apps, product_model_label().split(".")[0])
    assign_roles(apps)


def assign_roles(apps):
    """Create the groups and set their permissions (which must exist)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    product_app, product_model = product_model_label().split(".")
    for name, scopes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [f"{a}_{model}" for model, actions in scopes["recommender"].items() for a in actions]
        perms = list(Permission.objects.filter(content_type__app_label="recommender", codename__in=codenames))
        product_actions = scopes.get("product", [])
        perms += Permission.objects.filter(
            content_type__app_label=product_app,
            content_type__model=product_model.lower(),
            codename__in=[f"{a}_{product_model.lower()}" for a in product_actions],
        )
        group.permissions.set(perms)


def revoke(apps, schema_editor):
    """Back to the permissions of 0003_roles."""
    from importlib import import_module

    import_module("recommender.migrations.0003_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0005_synonym_excludes"),
        migrations.swappable_dependency(product_model_label()),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
