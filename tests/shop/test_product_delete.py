"""Deleting products in the admin: one refresh announced for the lot, no per-row re-derivation of tags.

Regression for issue 15: deleting 2,000 products ran for over 15 minutes, because every deleted
supplement-facts row re-derived its product's tags (loading the taxonomy each time) and every deleted
tag row announced its own refresh.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommender.models import ProductTag, Recommendation
from shop.catalog.models import NutrientAmount, Product


def test_bulk_delete_does_not_work_per_row(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-123-secret"))
    ids = list(Product.objects.values_list("pk", flat=True))
    assert NutrientAmount.objects.count() > len(ids) and ProductTag.objects.count() > len(ids)
    body = {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True) as done:
        response = client.post(reverse("admin:catalog_product_changelist"), body)
    assert response.status_code == 302
    assert not Product.objects.exists() and not Recommendation.objects.exists()
    sql = [q["sql"] for q in queries.captured_queries]
    # No taxonomy load per deleted fact: the one refresh reads synonyms for its lexicon, its facts index and its
    # taxonomy's rows (`engine_build.taxonomy_rows`).
    assert sum('FROM "recommender_synonym"' in s for s in sql) <= 3
    assert sum(s.startswith('INSERT INTO "recommender_dirtymark"') for s in sql) <= 1
    assert len(done) <= 3  # one announcement, not one per tag row
