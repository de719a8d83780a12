"""Writes into Oscar: a product's related-products list as its `ProductRecommendation` rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from oscar.core.loading import get_model

from recommender.models import RelatedState


@transaction.atomic
def product_recommendations_write(*, product_id: int, related_ids: Sequence[int]) -> None:
    """Replace the product's Oscar recommendations with this list; the first gets the highest ranking."""
    recommendation = get_model("catalogue", "ProductRecommendation")
    recommendation.objects.filter(primary_id=product_id).delete()
    recommendation.objects.bulk_create(
        recommendation(primary_id=product_id, recommendation_id=related_id, ranking=len(related_ids) - index)
        for index, related_id in enumerate(related_ids)
    )


def product_recommendations_sync(*, product_ids: Iterable[int] | None = None) -> int:
    """Write the stored related lists of these products (all that have one by default); returns how many."""
    rows = RelatedState.objects.exclude(computed_at=None).order_by("product_id")
    if product_ids is not None:
        rows = rows.filter(product_id__in=list(product_ids))
    lists = {pid: related for pid, related in rows.values_list("product_id", "related_ids") if related}
    for product_id, related in lists.items():
        product_recommendations_write(product_id=product_id, related_ids=related)
    return len(lists)
