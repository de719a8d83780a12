"""The Wagtail host's data: the demo taxonomy and catalog, a site with a blog and an archive section."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from recommender.dirty import refresh_batch
from recommender.services.taxonomy import taxonomy_load
from recommender.signals import recommendations_changed
from recommender.taxonomy import shipped
from shop.catalog.importing import import_products

RLS_ARTICLE = "how-to-treat-restless-leg-syndrome.md"


@pytest.fixture
def catalog(db: None) -> None:
    with refresh_batch():
        taxonomy_load(data=shipped())
        with open(settings.FIXTURES / "catalog.csv", encoding="utf-8", newline="") as stream:
            assert not import_products(stream).errors


def rls_body() -> list[tuple[str, Any]]:
    lines = (settings.FIXTURES / "articles" / RLS_ARTICLE).read_text(encoding="utf-8").splitlines()[1:]
    paragraphs = [("paragraph", f"<p>{line}</p>") for line in lines if line.strip()]
    return [*paragraphs[:12], ("recommended_products", {"heading": "Shop this article", "limit": 4}), *paragraphs[12:]]


@pytest.fixture
def sections(catalog: None) -> dict[str, Any]:
    from wagtail.models import Site

    from tests.wagtailhost.blog.models import BlogPage

    home = Site.objects.get(is_default_site=True).root_page
    found = {}
    for slug in ("blog", "archive"):
        section = home.add_child(instance=BlogPage(title=slug.capitalize(), slug=slug))
        section.save_revision().publish()
        found[slug] = section
    return found


@pytest.fixture
def rls_draft(sections: dict[str, Any]) -> Any:
    from tests.wagtailhost.blog.models import BlogPage

    page = BlogPage(title="How To Treat Restless Leg Syndrome", slug="restless-legs", body=rls_body(), live=False)
    return sections["blog"].add_child(instance=page)


@pytest.fixture
def changes() -> Iterator[list[dict[str, Any]]]:
    """Every `recommendations_changed` sent during the test."""
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    recommendations_changed.connect(listen, dispatch_uid="wagtailhost-changes")
    yield heard
    recommendations_changed.disconnect(dispatch_uid="wagtailhost-changes")
