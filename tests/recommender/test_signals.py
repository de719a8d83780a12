"""`recommendations_changed` and `related_products_changed`: sent after commit, once per change of a stored list."""

from __future__ import annotations

from typing import Any

import pytest

from recommender.models import ContentPage, Recommendation, RelatedState
from recommender.services.refresh import page_refresh, recommendations_refresh
from recommender.signals import recommendations_changed, related_products_changed

SEED = "how-to-treat-restless-leg-syndrome"


@pytest.fixture
def heard() -> Any:
    calls: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    recommendations_changed.connect(listen, dispatch_uid="test-heard")
    related_products_changed.connect(listen, dispatch_uid="test-heard-related")
    yield calls
    recommendations_changed.disconnect(dispatch_uid="test-heard")
    related_products_changed.disconnect(dispatch_uid="test-heard-related")


def test_page_list_change_is_announced_once_after_commit(demo: None, heard: Any, django_capture_on_commit_callbacks):
    page = ContentPage.objects.get(slug=SEED)
    with django_capture_on_commit_callbacks(execute=True):
        page_refresh(page_id=page.pk)
    assert heard == []  # the same list stored again is no change

    Recommendation.objects.filter(page=page).delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page_refresh(page_id=page.pk)
        assert heard == []  # nothing before commit
    assert len(heard) == 1
    assert heard[0]["page"] == page
    assert heard[0]["product_ids"] == list(
        Recommendation.objects.filter(page=page).order_by("rank").values_list("product_id", flat=True)
    )
    assert callbacks


def test_related_list_change_is_announced(demo: None, heard: Any, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recommendations_refresh(
            page_ids=[], product_ids=list(RelatedState.objects.values_list("product_id", flat=True)), expand=False
        )
    assert heard == []
    state = RelatedState.objects.exclude(related_ids=[]).order_by("pk").first()
    assert state is not None
    RelatedState.objects.filter(pk=state.pk).delete()
    with django_capture_on_commit_callbacks(execute=True):
        recommendations_refresh(page_ids=[], product_ids=[state.product_id], expand=False)
    assert [call["product_id"] for call in heard] == [state.product_id]
    assert heard[0]["related_ids"] == state.related_ids
