from django.apps import AppConfig


class GadgetsConfig(AppConfig):
    name = "tests.minihost.gadgets"
    label = "gadgets"
    default_auto_field = "django.db.models.BigAutoField"
