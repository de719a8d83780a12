"""System checks: a bad RECOMMENDER setting fails at start-up, not on the first page view."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from recommender.conf import DEFAULTS, product_model_label, recommender_settings


def adapter_annotates_sku() -> bool:
    """A product model without a `sku` field is fine when the adapter's queryset annotates one."""
    try:
        return "sku" in import_string(recommender_settings.PRODUCT_ADAPTER)().queryset().query.annotations
    except Exception:  # the adapter's own error is reported below
        return False


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRODUCT_MODEL must name an installed model with a unique `sku` (or an adapter that annotates one)."""
    errors: list[checks.CheckMessage] = []
    label = product_model_label()
    try:
        model = apps.get_model(label)
        try:
            field = model._meta.get_field("sku")
            if not field.unique:  # type: ignore[union-attr]
                errors.append(checks.Error(f"{label}.sku must be unique.", id="recommender.E003"))
        except FieldDoesNotExist:
            if not adapter_annotates_sku():  # e.g. Oscar's: upc, else the first stock record's partner_sku
                raise
    except (LookupError, ValueError, FieldDoesNotExist) as exc:
        errors.append(
            checks.Error(
                f'RECOMMENDER["PRODUCT_MODEL"] = {label!r} is not an installed model with a sku field: {exc}',
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


def register_checks() -> None:
    checks.register(check_settings, "recommender")
