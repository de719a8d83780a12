"""A second, minimal host for the plugin: no shop, a different product model and adapter."""

SECRET_KEY = "minihost-test-only"
DEBUG = True
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "tests.minihost.gadgets",
    "recommender",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CELERY_TASK_ALWAYS_EAGER = True
RECOMMENDER = {
    "PRODUCT_MODEL": "gadgets.Gadget",
    "PRODUCT_ADAPTER": "tests.minihost.gadgets.adapters.GadgetAdapter",
}
