"""System checks on RECOMMENDER: a product model needs a unique sku, as a field or as the adapter's annotation."""

from __future__ import annotations

from django.test import override_settings

from recommender.beat import schedule
from recommender.checks import check_beat, check_cache, check_cors, check_settings


def test_the_demo_settings_pass() -> None:
    assert check_settings() == []


@override_settings(RECOMMENDER={"PRODUCT_MODEL": "auth.Group"})
def test_a_model_without_sku_is_an_error() -> None:
    assert [e.id for e in check_settings()] == ["recommender.E001"]


class NameAdapter:
    """An adapter whose products identify by a field the model has (auth.Group.name is unique)."""

    sku_field = "name"

    def queryset(self):
        from django.contrib.auth.models import Group

        return Group.objects.all()


@override_settings(
    RECOMMENDER={"PRODUCT_MODEL": "auth.Group", "PRODUCT_ADAPTER": "tests.recommender.test_checks.NameAdapter"}
)
def test_the_identifier_field_is_asked_of_the_adapter() -> None:
    assert check_settings() == []


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}})
def test_a_dummy_cache_is_a_warning() -> None:
    assert [m.id for m in check_cache()] == ["recommender.W002"]


@override_settings(MIDDLEWARE=[], CORS_ALLOWED_ORIGINS=["https://blog.example"])
def test_corsheaders_without_its_middleware_is_a_warning() -> None:
    assert [m.id for m in check_cors()] == ["recommender.W003"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BEAT_SCHEDULE={})
def test_real_workers_without_the_beat_entries_is_a_warning() -> None:
    assert [m.id for m in check_beat()] == ["recommender.W004"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BEAT_SCHEDULE={**schedule()})
def test_the_one_line_beat_schedule_passes() -> None:
    assert check_beat() == []
