"""A content page's url is shown as a link: only http(s) addresses and site paths are stored or linked.

Regression tests for a stored XSS: a `javascript:` url saved by marketing (admin, import_pages, API)
was served as a "read more" link on public product pages and the admin product preview.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from recommender.admin.pages import embed_snippet
from recommender.links import linkable, validate_page_url
from recommender.models import ContentPage, RelatedState
from shop.catalog.models import Product

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"

HOSTILE = [
    "javascript:alert(document.domain)//",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example.org/x",
    "/\\evil.example.org",
    'https://blog.example.org/a"><script>alert(1)</script>',
    "https://blog.example.org/a b",
    "/learn/x/\x00",
    "ftp://files.example.org/a",
    "pasted:a b",
]
SAFE = ["https://blog.example.org/rls/?a=1&b=2", "http://example.org", "/learn/magnesium/", "pasted:evening-notes"]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_page_url(url)
    assert linkable(url) is None


@pytest.mark.parametrize("url", SAFE)
def test_safe_urls_are_accepted(url: str) -> None:
    validate_page_url(url)


def test_pasted_placeholder_is_never_a_link() -> None:
    assert linkable("pasted:evening-notes") is None


def marketing_client() -> Client:
    user = User.objects.create_user("mkt-url", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="marketing"))
    client = Client()
    client.force_login(user)
    return client


def test_admin_refuses_a_javascript_url(demo: None) -> None:
    page = ContentPage.objects.get(slug=RLS)
    client = marketing_client()
    url = reverse("admin:recommender_contentpage_change", args=[page.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in {"text"}}
    data.update(
        text=page.text,
        url="javascript:alert(document.domain)//",
        **{f"{p}-{k}": v for p in ("page_tags", "links") for k, v in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()},
    )
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with its error
    assert "Enter an http:// or https:// address" in response.content.decode()
    page.refresh_from_db()
    assert page.url.startswith("/learn/")


def test_admin_external_article_refuses_a_javascript_url(demo: None) -> None:
    client = marketing_client()
    response = client.post(
        reverse("admin:recommender_contentpage_external"),
        {"url": "javascript:alert(1)//", "title": "Minerals", "text": "Magnesium and zinc.", "_save": "1"},
    )
    assert response.status_code == 200
    assert not ContentPage.objects.filter(title="Minerals").exists()


def test_import_pages_refuses_a_javascript_base_url(db: None, tmp_path: Path) -> None:
    (tmp_path / "minerals.md").write_text("# Minerals\n\nMagnesium.\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_pages", str(tmp_path), base_url="javascript:alert(1)//")
    assert not ContentPage.objects.exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)//", 'https://blog.example.org/a"><script>x</script>'])
def test_api_refuses_a_hostile_page_url(demo: None, url: str) -> None:
    api = APIClient()
    user = User.objects.create_user("mkt-api-url", password="pw")
    user.groups.add(Group.objects.get(name="marketing"))
    api.force_authenticate(user)
    response = api.post("/api/v1/pages/", {"url": url, "title": "Minerals", "text": "Magnesium."}, format="json")
    assert response.status_code == 400 and "url" in response.json()


@pytest.fixture
def stored_hostile_url(demo: None) -> ContentPage:
    """A page whose url was stored before the rule existed (written past validation)."""
    page = ContentPage.objects.get(slug=RLS)
    ContentPage.objects.filter(pk=page.pk).update(url="javascript:alert(document.domain)//")
    drops = Product.objects.get(sku=DROPS)
    assert page.pk in RelatedState.objects.get(product_id=drops.pk).page_ids
    page.refresh_from_db()
    return page


def test_stored_javascript_url_is_never_served_as_a_link(stored_hostile_url: ContentPage) -> None:
    drops = Product.objects.get(sku=DROPS)
    public = Client().get(drops.get_absolute_url()).content.decode()
    assert "javascript:" not in public
    api = APIClient().get(f"/api/v1/products/{DROPS}/articles/").json()
    assert all(item["page"]["slug"] != RLS for item in api["items"])
    admin = User.objects.create_superuser("root-url", password="pw")
    client = Client()
    client.force_login(admin)
    preview = client.get(reverse("admin:catalog_product_recommender_preview", args=[drops.pk])).content.decode()
    assert "javascript:" not in preview


def test_stored_javascript_url_gives_no_embed_snippet(stored_hostile_url: ContentPage, rf: Any) -> None:
    assert embed_snippet(rf.get("/"), stored_hostile_url) == ""


def test_embed_snippet_escapes_the_page_url(demo: None, rf: Any) -> None:
    page = ContentPage.objects.get(slug=RLS)
    ContentPage.objects.filter(pk=page.pk).update(url="https://blog.example.org/rls?a=1&b='2'")
    page.refresh_from_db()
    snippet = embed_snippet(rf.get("/"), page)
    assert 'data-page-url="https://blog.example.org/rls?a=1&amp;b=&#x27;2&#x27;"' in snippet


def test_pasted_article_is_not_a_read_more_link(demo: None, django_capture_on_commit_callbacks: Any) -> None:
    from recommender.services.pages import external_page_register

    with django_capture_on_commit_callbacks(execute=True):
        pasted = external_page_register(title="Trace mineral drops", text="ConcenTrace trace mineral drops, magnesium.")
    assert pasted.url.startswith("pasted:")
    drops = Product.objects.get(sku=DROPS)
    assert "pasted:" not in Client().get(drops.get_absolute_url()).content.decode()
    api = APIClient().get(f"/api/v1/products/{DROPS}/articles/").json()
    assert all(not (item["page"]["url"] or "").startswith("pasted:") for item in api["items"])
