"""A real worker refreshes a page's stored list after a product's tags change."""

from __future__ import annotations

import subprocess

import pytest
from django.core.management import call_command

from recommender.models import PageState, ProductTag, Recommendation, Tag
from recommender.services.tagging import product_tags_set
from shop.catalog.models import Product
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

RLS = "how-to-treat-restless-leg-syndrome"


def listed_names() -> list[str]:
    rows = Recommendation.objects.filter(page__slug=RLS).order_by("rank").values_list("product_id", flat=True)
    names = dict(Product.objects.values_list("pk", "name"))
    return [names[pk] for pk in rows]


def test_worker_refreshes_page_after_tag_change(celery_worker_process: subprocess.Popen[bytes]) -> None:
    from shop.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    call_command("load_demo", verbosity=0)
    call_command("refresh_recommendations", verbosity=0)
    celery_app.conf.task_always_eager = False
    before = PageState.objects.get(page__slug=RLS).generation

    # Merchandiser tags a product strongly with what the article discusses; only the worker can refresh.
    product = Product.objects.get(name__startswith="Whey")
    tags = [(Tag.objects.get(slug="concentrace"), 1.0), (Tag.objects.get(slug="magnesium"), 1.0)]
    product_tags_set(product=product, tags=tags)
    assert ProductTag.objects.filter(product=product, status="approved").count() == 2

    wait_for(lambda: PageState.objects.get(page__slug=RLS).generation > before, timeout=30)
    assert celery_worker_process.poll() is None, "worker died"
    wait_for(lambda: product.name in listed_names(), timeout=30)
