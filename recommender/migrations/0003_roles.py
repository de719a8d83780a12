"""Create the `merchandiser` and `marketing` groups with the permissions their work needs, and no more."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "merchandiser": {
        "producttag": ["add", "change", "delete", "view"],
        "tag": ["view"],
        "synonym": ["view"],
        "tagrelation": ["view"],
        "contentpage": ["view"],
        "recommendation": ["view"],
    },
    "marketing": {
        "contentpage": ["add", "change", "view"],
        "pagetag": ["add", "change", "delete", "view"],
        "placement": ["add", "change", "delete", "view"],
        "articlelink": ["add", "change", "delete", "view"],
        "recommendation": ["view"],
        "tag": ["view"],
        "producttag": ["view"],
    },
}


def create_roles(apps, schema_editor):
    app_config = apps.get_app_config("recommender")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.set(Permission.objects.filter(content_type__app_label="recommender", codename__in=codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0002_related_lists"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
