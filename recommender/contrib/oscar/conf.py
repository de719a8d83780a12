"""This integration's own settings, in `settings.RECOMMENDER_OSCAR`, read on every access.

WRITE_PRODUCT_RECOMMENDATIONS: when true, each product's related-products list is written into Oscar's
`ProductRecommendation` rows (the recommender then owns those rows), so stock Oscar templates show it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {"WRITE_PRODUCT_RECOMMENDATIONS": False}


def oscar_setting(name: str) -> Any:
    return (getattr(settings, "RECOMMENDER_OSCAR", None) or {}).get(name, DEFAULTS[name])
