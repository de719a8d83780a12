"""Marketing's ArticleLinks pin both ways inside their window and vanish outside it (issue 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.core.management import call_command

from recommender.models import ArticleLink, ContentPage
from recommender.selectors import recommendations_for_page, related_articles_for
from shop.catalog.models import Product

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUSEPLANTS = "choosing-houseplants-for-low-light"
RLS = "how-to-treat-restless-leg-syndrome"


def refresh(capture: Any) -> None:
    """A full refresh whose after-commit cache invalidation runs (tests live inside a transaction)."""
    with capture(execute=True):
        call_command("refresh_recommendations", verbosity=0)


def page_skus(slug: str) -> list[str]:
    page = ContentPage.objects.get(slug=slug)
    return [item["product"]["sku"] for item in recommendations_for_page(page=page, limit=20)["items"]]


def article_slugs(product: Product) -> list[str]:
    return [item["page"]["slug"] for item in related_articles_for(product=product, limit=20)]


def test_link_pins_both_ways_within_its_window(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    whey = Product.objects.get(name__startswith="Whey")
    page = ContentPage.objects.get(slug=RLS)
    assert whey.sku not in page_skus(RLS) and RLS not in article_slugs(whey)

    with time_machine.travel(START, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            link = ArticleLink.objects.create(
                page=page,
                product=whey,
                position=2,
                campaign="winter-legs",
                starts_at=START,
                ends_at=START + timedelta(days=7),
            )
        assert page_skus(RLS).index(whey.sku) == 1  # position 2
        item = recommendations_for_page(page=page, limit=6)["items"][1]
        assert "utm_campaign=winter-legs" in item["link"]
        assert item["reasons"], "a pinned item still carries a reason"
        assert article_slugs(whey) == [RLS]
        # Refreshing again (the periodic full refresh) keeps the link.
        refresh(django_capture_on_commit_callbacks)
        assert whey.sku in page_skus(RLS) and article_slugs(whey) == [RLS]

    with time_machine.travel(START + timedelta(days=8), tick=False):
        refresh(django_capture_on_commit_callbacks)  # what beat does after the window closes
        assert whey.sku not in page_skus(RLS)
        assert RLS not in article_slugs(whey)

    with time_machine.travel(START + timedelta(days=1), tick=False):
        refresh(django_capture_on_commit_callbacks)
        assert whey.sku in page_skus(RLS)
        with django_capture_on_commit_callbacks(execute=True):
            link.delete()
        assert whey.sku not in page_skus(RLS)
        assert RLS not in article_slugs(whey)


def test_link_to_an_off_topic_page_shows_there_and_deleting_the_product_removes_it(
    demo: None, django_capture_on_commit_callbacks: Any
) -> None:
    drops = Product.objects.get(sku="TM-CTD-8OZ")
    page = ContentPage.objects.get(slug=HOUSEPLANTS)
    with django_capture_on_commit_callbacks(execute=True):
        ArticleLink.objects.create(page=page, product=drops, position=1)
    assert page_skus(HOUSEPLANTS) == [drops.sku]
    assert article_slugs(drops)[0] == HOUSEPLANTS
    with django_capture_on_commit_callbacks(execute=True):
        drops.delete()
    assert not ArticleLink.objects.exists()
    assert page_skus(HOUSEPLANTS) == []


def test_concentrace_product_page_reads_more_about_restless_legs(demo: None, client: Any) -> None:
    drops = Product.objects.get(sku="TM-CTD-8OZ")
    html = client.get(drops.get_absolute_url()).content.decode()
    assert "Read more" in html
    assert html.index(f'data-page="{RLS}"') < html.index("Related products")
    assert article_slugs(drops)[0] == RLS
    protein = Product.objects.get(name__startswith="Whey")
    assert "Read more" not in client.get(protein.get_absolute_url()).content.decode()


def test_admin_product_preview_shows_related_articles(demo: None, client: Any) -> None:
    from django.contrib.auth.models import User

    admin_user = User.objects.create_superuser("boss", "boss@example.org", "boss-pass-123")
    client.force_login(admin_user)
    drops = Product.objects.get(sku="TM-CTD-8OZ")
    change = client.get(f"/admin/catalog/product/{drops.pk}/change/").content.decode()
    assert "Preview what shoppers see" in change
    html = client.get(f"/admin/catalog/product/{drops.pk}/recommender-preview/").content.decode()
    assert "Read more" in html and f'data-page="{RLS}"' in html
    assert "Related products" in html and "Food and Drug Administration" in html
