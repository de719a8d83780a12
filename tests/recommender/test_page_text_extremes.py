"""Content pages with empty, blank, markup-only and enormous text, through the API, `import_pages` and the admin.

Each is either accepted and analysed, or refused with a clear message naming the limit; never a 500 or a
traceback. An accepted page's text is stored sanitised, whichever way it came in (markup-only text is empty), and
a full `recommendations_refresh()` analyses it: an empty text gets no tags and an empty list, an enormous one its
tags and a list. The limits: the API's `text` is at most 2,000,000 characters; any request body at most
`DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB), named in the API's JSON and on the admin's 400 page; a page title at most
300 characters (`import_pages` takes it from the first heading or line); `import_pages` reads files of any size.
Also checked on PostgreSQL by hand (DATABASE_URL): a long first line or a NUL in a file was a DataError there.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from recommender.models import ContentPage, PageTag
from recommender.selectors import recommendations_for_page
from recommender.services.refresh import recommendations_refresh

ARTICLE = "Magnesium glycinate eases night-time leg cramps; take the supplement with food. Zinc and iron also.\n"
MARKUP = "<div><p></p><br/><!-- a note --><script>alert(1)</script><style>p { color: red }</style> </div>"
BLANK = " \n\t \r\n \u00a0 \n"
MB = 1024 * 1024


def enormous(size: int) -> str:
    """An article of about `size` characters that names magnesium and leg cramps throughout."""
    return (ARTICLE * (size // len(ARTICLE) + 1))[:size]


def analysed_empty(page: ContentPage) -> None:
    """The refresh analysed the page: no tags, an empty list, no error."""
    page.refresh_from_db()
    assert page.text == "" and page.analysed_at is not None
    assert not PageTag.objects.filter(page=page).exists()
    assert recommendations_for_page(page=page)["items"] == []


def analysed_with_a_list(page: ContentPage) -> None:
    page.refresh_from_db()
    assert page.analysed_at is not None
    assert PageTag.objects.filter(page=page, tag__slug="nocturnal-leg-cramps").exists()
    assert recommendations_for_page(page=page)["items"]


def marketing(name: str) -> User:
    user = User.objects.create_user(name, password="pw-123-secret", is_staff=True)
    user.groups.add(Group.objects.get(name="marketing"))
    return user


# ---------------------------------------------------------------- API


def post_page(api: APIClient, slug: str, text: str) -> tuple[int, dict[str, object]]:
    body = {"url": f"https://blog.example.org/{slug}", "title": slug.title(), "text": text, "slug": slug}
    response = api.post("/api/v1/pages/", body, format="json")
    return response.status_code, response.json()


def test_api(demo: None) -> None:
    api = APIClient()
    api.force_authenticate(marketing("mkt-text-api"))
    pages = ContentPage.objects.count()
    for text in ("", BLANK):
        assert post_page(api, "blank", text) == (400, {"text": ["This field may not be blank."]})
    status, body = post_page(api, "over-the-body-limit", enormous(5 * MB))
    limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)"
    assert (status, body) == (400, {"detail": f"The request body is larger than {limit}."})
    status, body = post_page(api, "over-the-text-limit", enormous(2_000_001))
    assert (status, body) == (400, {"text": ["Ensure this field has no more than 2000000 characters."]})
    assert ContentPage.objects.count() == pages

    assert post_page(api, "markup", MARKUP)[0] == 201
    assert post_page(api, "at-the-limit", enormous(2_000_000))[0] == 201
    recommendations_refresh()
    analysed_empty(ContentPage.objects.get(slug="markup"))
    analysed_with_a_list(ContentPage.objects.get(slug="at-the-limit"))


# ---------------------------------------------------------------- import_pages


def import_pages(folder: Path) -> str:
    out = io.StringIO()
    call_command("import_pages", str(folder), base_url="https://blog.example.org/posts", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.md", ""), ("blank.txt", BLANK), ("markup.html", f"<html><body>{MARKUP}</body></html>")],
)
def test_import_pages_of_nothing(demo: None, tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert "imported 1 page(s)" in import_pages(tmp_path)
    recommendations_refresh()
    page = ContentPage.objects.get(slug=Path(name).stem)
    assert page.title == Path(name).stem  # no first line: the file's name
    analysed_empty(page)


def test_import_pages_of_5_mb(demo: None, tmp_path: Path) -> None:
    (tmp_path / "cramps.md").write_text(f"# Leg cramps at night\n\n{enormous(5 * MB)}", encoding="utf-8")
    assert "imported 1 page(s)" in import_pages(tmp_path)
    recommendations_refresh()
    page = ContentPage.objects.get(slug="cramps")
    assert page.title == "Leg cramps at night" and len(page.text) > 4 * MB
    analysed_with_a_list(page)


def test_import_pages_refuses_a_first_line_too_long_for_a_title(demo: None, tmp_path: Path) -> None:
    """A 5 MB text on one line: the title would be 5 MB (PostgreSQL: DataError, value too long)."""
    (tmp_path / "one-line.txt").write_text(enormous(5 * MB).replace("\n", " "), encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"one-line\.txt: the title .* is 5,242,87\d characters long; the limit is 300"
    ):
        import_pages(tmp_path)
    assert not ContentPage.objects.filter(slug="one-line").exists()


def test_import_pages_drops_nul(demo: None, tmp_path: Path) -> None:
    """NUL in a file (PostgreSQL: DataError) is dropped with the markup, as HTML cleaning already dropped it."""
    (tmp_path / "nul.md").write_text("# Magnesium\x00 notes\n\nMagnesium\x00 for leg cramps.\n", encoding="utf-8")
    import_pages(tmp_path)
    page = ContentPage.objects.get(slug="nul")
    assert (page.title, page.text) == ("Magnesium notes", "Magnesium for leg cramps.")


# ---------------------------------------------------------------- admin


def admin_add(client: Client, slug: str, text: str) -> tuple[int, str]:
    """POST the admin's add form for a page with this text; (status, body)."""
    url = reverse("admin:recommender_contentpage_add")
    context = client.get(url).context
    management = {
        f"{formset.formset.prefix}-{key}": value
        for formset in context["inline_admin_formsets"]
        for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
    }
    data = {"slug": slug, "url": f"/learn/{slug}/", "title": slug.title(), "text": text, "source": "local"}
    response = client.post(url, {**data, "published": "on", **management})
    return response.status_code, response.content.decode()


def test_admin(demo: None) -> None:
    client = Client()
    client.force_login(marketing("mkt-text-admin"))
    for slug, text in [("empty", ""), ("blank", BLANK), ("markup", MARKUP)]:
        status, body = admin_add(client, slug, text)
        assert status == 302, body[:2000]
    pages = ContentPage.objects.count()
    status, body = admin_add(client, "over-the-body-limit", enormous(5 * MB))
    assert status == 400 and f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in body, body[:500]
    assert ContentPage.objects.count() == pages
    assert admin_add(client, "below-the-body-limit", enormous(2 * MB))[0] == 302
    recommendations_refresh()
    for slug in ("empty", "blank", "markup"):
        analysed_empty(ContentPage.objects.get(slug=slug))
    analysed_with_a_list(ContentPage.objects.get(slug="below-the-body-limit"))


def test_admin_external_article(demo: None) -> None:
    """Add external article, text pasted: blank is a form error; markup only is a page with empty text."""
    client = Client()
    client.force_login(marketing("mkt-text-external"))
    url = reverse("admin:recommender_contentpage_external")
    for text in ("", BLANK):
        response = client.post(url, {"title": "Blank", "text": text, "_save": "1"})
        assert response.status_code == 200 and "Give the article" in response.content.decode()
    response = client.post(url, {"url": "https://blog.example.org/m", "title": "Markup", "text": MARKUP, "_save": "1"})
    assert response.status_code == 302
    recommendations_refresh()
    analysed_empty(ContentPage.objects.get(title="Markup"))
