"""System checks on RECOMMENDER: a product model needs a unique sku, as a field or as the adapter's annotation."""

from __future__ import annotations

from django.test import override_settings

from recommender.checks import check_settings


def test_the_demo_settings_pass() -> None:
    assert check_settings() == []


@override_settings(RECOMMENDER={"PRODUCT_MODEL": "auth.Group"})
def test_a_model_without_sku_is_an_error() -> None:
    assert [e.id for e in check_settings()] == ["recommender.E001"]
