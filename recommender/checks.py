"""System checks: a bad RECOMMENDER setting fails at start-up, not on the first page view."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from recommender import beat
from recommender.conf import DEFAULTS, product_model_label, recommender_settings


def adapter_sku_field() -> str:
    """The field the configured adapter identifies products by ("sku" unless it says otherwise)."""
    try:
        return str(import_string(recommender_settings.PRODUCT_ADAPTER).sku_field)
    except Exception:  # the adapter's own error is reported below
        return "sku"


def adapter_annotates(name: str) -> bool:
    """A product model without the identifier field is fine when the adapter's queryset annotates it."""
    try:
        return name in import_string(recommender_settings.PRODUCT_ADAPTER)().queryset().query.annotations
    except Exception:  # the adapter's own error is reported below
        return False


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRODUCT_MODEL must name an installed model with a unique identifier (the adapter's `sku_field`)."""
    errors: list[checks.CheckMessage] = []
    label = product_model_label()
    sku_field = adapter_sku_field()
    try:
        model = apps.get_model(label)
        try:
            field = model._meta.get_field(sku_field)
            if not field.unique:  # type: ignore[union-attr]
                errors.append(checks.Error(f"{label}.{sku_field} must be unique.", id="recommender.E003"))
        except FieldDoesNotExist:
            if not adapter_annotates(sku_field):  # e.g. Oscar's: upc, else the first stock record's partner_sku
                raise
    except (LookupError, ValueError, FieldDoesNotExist) as exc:
        errors.append(
            checks.Error(
                f'RECOMMENDER["PRODUCT_MODEL"] = {label!r} is not an installed model with a '
                f"{sku_field} field (the adapter's sku_field): {exc}",
                id="recommender.E001",
            )
        )
    try:
        import_string(recommender_settings.PRODUCT_ADAPTER)
    except ImportError as exc:
        errors.append(checks.Error(f'RECOMMENDER["PRODUCT_ADAPTER"] cannot be imported: {exc}', id="recommender.E002"))
    for name in ("MIN_SCORE", "PARENT_WEIGHT", "DOSE_PENALTY"):
        value = getattr(recommender_settings, name)
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            errors.append(checks.Error(f'RECOMMENDER["{name}"] must be a number in [0, 1].', id="recommender.E004"))
    unknown = set(getattr(settings, "RECOMMENDER", {})) - set(DEFAULTS)
    if unknown:
        errors.append(checks.Warning(f"Unknown RECOMMENDER keys: {sorted(unknown)}", id="recommender.W001"))
    return errors


def check_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Lists are served from the default cache and throttles count there: a dummy cache disables both."""
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    if backend.endswith("DummyCache") or not backend:
        return [
            checks.Warning(
                "The default cache is missing or a DummyCache: every recommendation read goes to the database "
                "and the plugin's throttles count nothing.",
                hint="Configure CACHES['default'] (Redis with django-redis in production, LocMemCache locally).",
                id="recommender.W002",
            )
        ]
    return []


def check_cors(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The widget on another origin needs django-cors-headers configured, not just installed."""
    if "corsheaders" not in settings.INSTALLED_APPS:
        return []
    if "corsheaders.middleware.CorsMiddleware" not in settings.MIDDLEWARE:
        return [
            checks.Warning(
                "corsheaders is installed but CorsMiddleware is not in MIDDLEWARE: a widget on another "
                "origin cannot read lists or post events.",
                id="recommender.W003",
            )
        ]
    origins = ("CORS_ALLOWED_ORIGINS", "CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ALLOW_ALL_ORIGINS")
    if not any(getattr(settings, name, None) for name in origins):
        return [
            checks.Info(
                "No CORS origin is allowed: the widget works on this site's own pages only.",
                hint="List the sites that embed the widget in CORS_ALLOWED_ORIGINS.",
                id="recommender.I001",
            )
        ]
    return []


def check_beat(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """With real workers, beat must run the plugin's periodic tasks (the hourly refresh, the drain)."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return []
    scheduled = {entry.get("task") for entry in (getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {}).values()}
    missing = sorted({beat.FULL_REFRESH_TASK, beat.DRAIN_TASK} - scheduled)
    if missing:
        return [
            checks.Warning(
                f"CELERY_BEAT_SCHEDULE does not run {', '.join(missing)}: changes saved while the broker was "
                "away are never refreshed, and lists are never rebuilt in full.",
                hint="CELERY_BEAT_SCHEDULE = {**recommender.beat.schedule(), ...}",
                id="recommender.W004",
            )
        ]
    return []


def register_checks() -> None:
    for check in (check_settings, check_cache, check_cors, check_beat):
        checks.register(check, "recommender")
