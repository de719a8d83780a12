"""URLconf for the serving benchmark only: the shop's routes plus the two baselines.

- `bench/plain/`: a plain Django view returning the bytes of the cached list (read once from a file),
  the ceiling for any endpoint that answers with those bytes through the same middleware.
- `bench/similar/<sku>/`: related products ranked per request by shared-tag count, the way
  django-taggit's `similar_objects()` does (count the through rows per object over the object's tags, order
  by the count, load every object found), rendered in the recommendation-item shape.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.urls import path

from recommender.adapters import get_adapter
from recommender.models import ProductTag
from recommender.selectors import product_payload, product_tag_slugs
from shop.urls import urlpatterns as shop_urlpatterns


@cache
def plain_body() -> bytes:
    return Path(os.environ["BENCH_PLAIN_BODY"]).read_bytes()


def plain(request: HttpRequest) -> HttpResponse:
    """The same bytes as the cached list, with nothing in between."""
    return HttpResponse(plain_body(), content_type="application/json")


def similar(request: HttpRequest, sku: str) -> HttpResponse:
    """Related products by shared approved tags, computed on every request (taggit's similar_objects())."""
    adapter = get_adapter()
    product = adapter.queryset().get(sku=sku)
    approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED)
    tags = approved.filter(product_id=product.pk).values("tag_id")
    counts = (
        approved.filter(tag_id__in=tags)
        .exclude(product_id=product.pk)
        .values("product_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "product_id")
    )
    ranked = [(row["product_id"], row["n"]) for row in counts]
    products = adapter.for_ids(pid for pid, _ in ranked)
    slugs = product_tag_slugs(products)
    items = [
        {"rank": rank, "score": n, "product": product_payload(products[pid], slugs.get(pid, []))}
        for rank, (pid, n) in enumerate(ranked, start=1)
        if pid in products
    ]
    return HttpResponse(json.dumps({"items": items[:6]}), content_type="application/json")


urlpatterns = [
    path("bench/plain/", plain),
    path("bench/similar/<str:sku>/", similar),
    *shop_urlpatterns,
]
