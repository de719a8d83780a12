"""The admin tooling through Django's test client: each role's screens, the other role refused.

Merchandisers tag products (inline, bulk actions, import/export); marketing works on pages,
placements and stats. Changes made by actions are in the admin history (LogEntry).
"""

from __future__ import annotations

import io
import re
from csv import reader as csv_reader
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from recommender import dirty
from recommender.admin import pages as pages_admin
from recommender.fetch import FetchedPage, FetchError
from recommender.models import ContentPage, DailyStat, PageTag, Placement, ProductTag, Recommendation, Tag
from recommender.services.pages import page_tags_override
from shop.catalog.models import Product

pytestmark = pytest.mark.django_db

RLS = "how-to-treat-restless-leg-syndrome"
WHEY = "NP-WHEY-2LB"
PRODUCTS = reverse("admin:catalog_product_changelist")
PRODUCT_TAGS = reverse("admin:recommender_producttag_changelist")


def staff(name: str, group: str) -> User:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def merch(demo: None) -> Client:
    return client_for(staff("merch", "merchandiser"))


@pytest.fixture
def mkt(demo: None) -> Client:
    return client_for(staff("mkt", "marketing"))


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run what the request scheduled after commit (the refresh), as a real commit would."""
    return django_capture_on_commit_callbacks


def announced(callbacks: list[Any]) -> list[Any]:
    """The change announcements among the after-commit callbacks (refreshes schedule their own)."""
    return [c for c in callbacks if getattr(c, "func", None) is dirty._announce]


def refused(response: Any) -> bool:
    return response.status_code == 403 or (response.status_code == 302 and "/login/" in response["Location"])


def product(sku: str) -> Product:
    return Product.objects.get(sku=sku)


def rls_skus() -> list[str]:
    return list(Recommendation.objects.filter(page__slug=RLS).order_by("rank").values_list("product__sku", flat=True))


def action(client: Client, url: str, name: str, ids: list[int], **extra: Any) -> Any:
    return client.post(url, {"action": name, "_selected_action": [str(i) for i in ids], **extra}, follow=False)


# Roles ---------------------------------------------------------------------------------------------


def test_groups_have_least_privilege(db: None) -> None:
    merch = set(Group.objects.get(name="merchandiser").permissions.values_list("content_type__app_label", "codename"))
    mkt = set(Group.objects.get(name="marketing").permissions.values_list("content_type__app_label", "codename"))
    assert {("catalog", "view_product"), ("catalog", "change_product"), ("recommender", "add_producttag")} <= merch
    assert ("catalog", "delete_product") not in merch and ("recommender", "change_tag") not in merch
    assert {("recommender", p) for p in ("add_contentpage", "view_dailystat", "add_placement")} <= mkt
    # Marketing only views products: the placement and article-link product pickers autocomplete over them.
    assert {p for p in mkt if p[0] == "catalog"} == {("catalog", "view_product")}
    nutrient_perms = {("catalog", f"{a}_nutrientamount") for a in ("add", "change", "delete", "view")}
    assert nutrient_perms <= merch  # supplement facts decide a product's tags and dose cautions
    assert ("recommender", "add_producttag") not in mkt
    auth = Permission.objects.filter(content_type__app_label="auth")
    assert not auth.filter(group__name__in=["merchandiser", "marketing"]).exists()


def test_each_role_is_refused_the_others_screens(merch: Client, mkt: Client) -> None:
    page = ContentPage.objects.get(slug=RLS)
    whey = product(WHEY)
    # Marketing sees products read-only (the product pickers autocomplete over them) and cannot change one.
    change = reverse("admin:catalog_product_change", args=[whey.pk])
    assert mkt.get(PRODUCTS).status_code == 200
    assert mkt.post(change, {"name": "Renamed"}).status_code == 403
    assert product(WHEY).name == whey.name
    merch_urls = [
        reverse("admin:recommender_producttag_import"),
        reverse("admin:recommender_producttag_export"),
    ]
    mkt_urls = [
        reverse("admin:recommender_contentpage_preview", args=[page.pk]),
        reverse("admin:recommender_contentpage_external"),
        reverse("admin:recommender_placement_add"),
        reverse("admin:recommender_dailystat_changelist"),
        reverse("admin:recommender_contentpage_add"),
    ]
    for url in merch_urls:
        assert merch.get(url).status_code == 200, url
        assert refused(mkt.get(url)), url
    for url in mkt_urls:
        assert mkt.get(url).status_code == 200, url
        assert refused(merch.get(url)), url
    for client in (merch, mkt):
        assert refused(client.get(reverse("admin:auth_user_changelist")))
        assert refused(client.get(reverse("admin:auth_group_changelist")))
    refresh = reverse("admin:recommender_contentpage_refresh", args=[page.pk])
    assert refused(merch.post(refresh))


# Product tagging -----------------------------------------------------------------------------------


def test_add_tag_action_asks_then_tags_once_and_logs(merch: Client, on_commit: Any) -> None:
    ids = [product(WHEY).pk, product("VN-COLL-300").pk]
    asked = action(merch, PRODUCTS, "recommender_add_tag", ids)
    assert asked.status_code == 200 and b"relevance" in asked.content
    concentrace = Tag.objects.get(slug="concentrace")
    bad = action(merch, PRODUCTS, "recommender_add_tag", ids, apply="1", tag=concentrace.pk, relevance="1.5")
    assert bad.status_code == 200 and not ProductTag.objects.filter(product_id__in=ids, tag=concentrace).exists()
    with on_commit(execute=True) as callbacks:
        done = action(merch, PRODUCTS, "recommender_add_tag", ids, apply="1", tag=concentrace.pk, relevance="1")
    assert len(announced(callbacks)) == 1  # one refresh for the whole action
    assert done.status_code == 302
    rows = ProductTag.objects.filter(product_id__in=ids, tag=concentrace)
    assert rows.count() == 2 and {r.status for r in rows} == {"approved"}
    assert {r.created_by.username for r in rows} == {"merch"}
    assert WHEY in rls_skus()  # the refresh ran after commit
    logs = LogEntry.objects.filter(user__username="merch", object_id__in=[str(i) for i in ids])
    assert logs.count() == 2 and "concentrace" in logs.first().get_change_message()


def test_suggest_from_text_then_approve_in_bulk(merch: Client) -> None:
    drops = product("TM-LII-8OZ")
    ProductTag.objects.filter(product=drops).delete()
    response = action(merch, PRODUCTS, "recommender_suggest_from_text", [drops.pk])
    assert response.status_code == 302
    suggested = ProductTag.objects.filter(product=drops, source="text")
    assert suggested.exists() and set(suggested.values_list("status", flat=True)) == {"suggested"}
    listed = merch.get(PRODUCTS, {"rec_status": "suggested"})
    assert drops.name in listed.content.decode()
    action(merch, PRODUCTS, "recommender_approve_suggestions", [drops.pk])
    assert set(suggested.values_list("status", flat=True)) == {"approved"}
    assert LogEntry.objects.filter(object_id=str(drops.pk), change_message__contains="Approved").exists()


def test_remove_tag_action(merch: Client) -> None:
    drops = product("TM-CTD-8OZ")
    concentrace = Tag.objects.get(slug="concentrace")
    assert ProductTag.objects.filter(product=drops, tag=concentrace).exists()
    action(merch, PRODUCTS, "recommender_remove_tag", [drops.pk], apply="1", tag=concentrace.pk)
    assert not ProductTag.objects.filter(product=drops, tag=concentrace).exists()
    assert LogEntry.objects.filter(object_id=str(drops.pk), change_message__contains="Removed tag").exists()


def test_tag_filters(merch: Client) -> None:
    body = merch.get(PRODUCTS, {"rec_tag": "concentrace"}).content.decode()
    assert "ConcenTrace Trace Mineral Drops" in body and "Whey Protein" not in body
    untagged = merch.get(PRODUCTS, {"rec_status": "untagged"}).content.decode()
    assert "ConcenTrace Trace Mineral Drops" not in untagged


def test_review_on_the_product_tag_list(merch: Client) -> None:
    whey = product(WHEY)
    iron = Tag.objects.get(slug="iron")
    row = ProductTag.objects.create(product=whey, tag=iron, source="text", status="suggested", relevance=0.4)
    action(merch, PRODUCT_TAGS, "reject_selected", [row.pk])
    row.refresh_from_db()
    assert row.status == "rejected"
    assert LogEntry.objects.filter(object_id=str(row.pk), change_message__contains="rejected").exists()
    action(merch, PRODUCT_TAGS, "approve_selected", [row.pk])
    row.refresh_from_db()
    assert row.status == "approved"


def test_product_change_page_shows_tags_with_source_and_status(merch: Client) -> None:
    body = merch.get(reverse("admin:catalog_product_change", args=[product("TM-CTD-8OZ").pk])).content.decode()
    assert "Recommendation tags" in body and "Supplement facts" in body and "Approved" in body


# Import / export -----------------------------------------------------------------------------------


def upload(client: Client, content: bytes, name: str = "tags.csv", fmt: str = "0") -> Any:
    return client.post(
        reverse("admin:recommender_producttag_import"),
        {"resource": "0", "format": fmt, "import_file": SimpleUploadedFile(name, content)},
    )


def test_import_dry_run_shows_changes_and_writes_nothing_then_confirm(merch: Client, on_commit: Any) -> None:
    before = ProductTag.objects.count()
    csv = b"sku,tag,source,relevance,status\nNP-WHEY-2LB,concentrace,manual,1,approved\nTM-CTD-8OZ,iron,import,0.3,\n"
    with on_commit(execute=True) as callbacks:
        preview = upload(merch, csv)
    assert not callbacks  # a dry run announces nothing
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Confirm import" in body and body.count('<tr class="new">') == 2 and "NP-WHEY-2LB" in body
    assert ProductTag.objects.count() == before
    confirm = re.search(r'name="import_file_name" value="([^"]+)"', body)
    assert confirm, body[:2000]
    data = {
        "import_file_name": confirm.group(1),
        "original_file_name": "tags.csv",
        "format": "0",
        "resource": "0",
    }
    with on_commit(execute=True) as callbacks:
        done = merch.post(reverse("admin:recommender_producttag_process_import"), data)
    assert len(announced(callbacks)) == 1
    assert done.status_code == 302
    assert ProductTag.objects.count() == before + 2
    assert ProductTag.objects.get(product__sku=WHEY, tag__slug="concentrace").status == "approved"
    assert ProductTag.objects.get(product__sku="TM-CTD-8OZ", tag__slug="iron", source="import").status == "approved"
    assert WHEY in rls_skus()


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("NO-SUCH-SKU,iron,import,0.5,approved", "unknown sku"),
        ("NP-WHEY-2LB,no-such-tag,import,0.5,approved", "unknown tag"),
        ("NP-WHEY-2LB,iron,import,1.5,approved", "outside 0..1"),
        ("NP-WHEY-2LB,iron,import,0.5,maybe", "not one of"),
    ],
)
def test_import_with_one_bad_row_writes_nothing_and_names_it(merch: Client, bad_row: str, reason: str) -> None:
    before = list(ProductTag.objects.order_by("pk").values_list("pk", "relevance", "status"))
    csv = f"sku,tag,source,relevance,status\nNP-WHEY-2LB,concentrace,manual,1,approved\n{bad_row}\n".encode()
    body = upload(merch, csv).content.decode()
    assert reason in body
    assert re.search(r'Line number: 2 |<td>2\s*</td>\s*<td class="errors">', body), body[-3000:]
    assert 'name="import_file_name"' not in body  # no confirm step offered
    assert list(ProductTag.objects.order_by("pk").values_list("pk", "relevance", "status")) == before


def export(client: Client, fmt: str) -> Any:
    fields = {f"producttagresource_{f}": "on" for f in ("sku", "tag", "source", "relevance", "status")}
    return client.post(reverse("admin:recommender_producttag_export"), {"format": fmt, "resource": "0", **fields})


def test_export_csv_and_xlsx(merch: Client, mkt: Client) -> None:
    csv = export(merch, "0")
    assert csv.status_code == 200 and "attachment" in csv["Content-Disposition"]
    lines = csv.content.decode().splitlines()
    assert lines[0] == "sku,tag,source,relevance,status"
    assert any(line.startswith("TM-CTD-8OZ,concentrace,") for line in lines)
    xlsx = export(merch, "1")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]] == ["sku", "tag", "source", "relevance", "status"]
    assert refused(export(mkt, "0"))


FORMULAE = ['=HYPERLINK("http://evil.example","x")', "+SUM(1,2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1)"]


def test_export_neutralises_formula_injection(merch: Client) -> None:
    """Regression (issue 15): a sku such as `=HYPERLINK(...)` was a live formula in XLSX and raw in CSV."""
    tagged = Product.objects.filter(pk__in=ProductTag.objects.values("product")).order_by("pk")
    product_ids = list(tagged.values_list("pk", flat=True)[: len(FORMULAE)])
    for pk, sku in zip(product_ids, FORMULAE, strict=True):
        Product.objects.filter(pk=pk).update(sku=sku)
    rows = list(csv_reader(io.StringIO(export(merch, "0").content.decode())))[1:]
    assert not any(value[:1] in "=+-@" for row in rows for value in row if value), rows
    assert f"'{FORMULAE[0]}" in {row[0] for row in rows}
    sheet = load_workbook(io.BytesIO(export(merch, "1").content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert not any(isinstance(c.value, str) and c.value[:1] in "=+-@" for c in cells)
    assert "'@SUM(1)" in {c.value for c in cells}


# Pages ---------------------------------------------------------------------------------------------


def test_preview_refresh_and_embed_for_marketing(mkt: Client) -> None:
    page = ContentPage.objects.get(slug=RLS)
    preview = mkt.get(reverse("admin:recommender_contentpage_preview", args=[page.pk])).content.decode()
    assert "ConcenTrace Trace Mineral Drops" in preview
    assert "not intended to diagnose, treat, cure, or prevent any disease" in preview
    assert "Caution:" in preview
    refresh = reverse("admin:recommender_contentpage_refresh", args=[page.pk])
    assert mkt.get(refresh).status_code == 405
    done = mkt.post(refresh, follow=True)
    assert "refreshed" in done.content.decode()
    assert LogEntry.objects.filter(object_id=str(page.pk), change_message__contains="Refreshed").exists()
    change = mkt.get(reverse("admin:recommender_contentpage_change", args=[page.pk])).content.decode()
    assert "/static/recommender/widget.js" in change and f"data-page-url=&quot;http://testserver{page.url}" in change


def test_page_list_shows_extracted_tags(mkt: Client) -> None:
    body = mkt.get(reverse("admin:recommender_contentpage_changelist")).content.decode()
    assert "Magnesium (" in body


ARTICLE = """Magnesium and sleep. Many readers ask about magnesium glycinate in the evening,
and about minerals and hydration. This article discusses magnesium supplements and diet."""


def test_register_pasted_article_preview_then_save(mkt: Client, on_commit: Any) -> None:
    url = reverse("admin:recommender_contentpage_external")
    preview = mkt.post(url, {"title": "Evening minerals", "text": ARTICLE, "_preview": "1"}).content.decode()
    assert "What shoppers would see" in preview and "Magnesium" in preview
    assert not ContentPage.objects.filter(title="Evening minerals").exists()
    with on_commit(execute=True):
        saved = mkt.post(url, {"title": "Evening minerals", "text": ARTICLE, "_save": "1"})
    page = ContentPage.objects.get(title="Evening minerals")
    assert saved.status_code == 302 and page.source == "external" and page.url.startswith("pasted:")
    assert page.page_tags.filter(tag__slug="magnesium").exists()
    assert Recommendation.objects.filter(page=page).exists()
    again = mkt.post(url, {"title": "Evening minerals", "text": ARTICLE, "_save": "1"})
    assert again.status_code == 302
    assert ContentPage.objects.filter(title="Evening minerals").count() == 2  # a second slug, not a crash


def test_register_by_url(mkt: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    url = reverse("admin:recommender_contentpage_external")

    def refuse(address: str) -> FetchedPage:
        raise FetchError("Refused: 127.0.0.1 is a loopback address.")

    monkeypatch.setattr(pages_admin, "fetch_article", refuse)
    body = mkt.post(url, {"url": "http://127.0.0.1/", "_save": "1"}).content.decode()
    assert "127.0.0.1 is a loopback address" in body
    monkeypatch.setattr(
        pages_admin, "fetch_article", lambda address: FetchedPage("https://blog.example.com/a", "A post", ARTICLE)
    )
    assert mkt.post(url, {"url": "https://blog.example.com/a", "_save": "1"}).status_code == 302
    page = ContentPage.objects.get(url="https://blog.example.com/a")
    assert page.title == "A post" and page.source == "external"
    change = mkt.get(reverse("admin:recommender_contentpage_change", args=[page.pk])).content.decode()
    assert "data-page-url=&quot;https://blog.example.com/a&quot;" in change


def test_override_makes_tags_manual(demo: None) -> None:
    page = ContentPage.objects.get(slug=RLS)
    row = page.page_tags.get(tag__slug="magnesium")
    row.weight = 0.1
    page_tags_override(page=page, rows=[row], deleted=[])
    row.refresh_from_db()
    assert row.source == PageTag.Source.MANUAL and row.weight == 0.1


# Placements ----------------------------------------------------------------------------------------


def test_placement_validation_and_pin(mkt: Client, on_commit: Any) -> None:
    page = ContentPage.objects.get(slug=RLS)
    whey = product(WHEY)
    url = reverse("admin:recommender_placement_add")
    base = {"product": whey.pk, "factor": "1"}
    no_scope = mkt.post(url, {**base, "action": "bury"}).content.decode()
    assert "Choose either one page or one tag" in no_scope
    both = mkt.post(url, {**base, "action": "bury", "page": page.pk, "tag": Tag.objects.get(slug="iron").pk})
    assert "Choose either one page or one tag" in both.content.decode()
    assert "A pin needs a position" in mkt.post(url, {**base, "action": "pin", "page": page.pk}).content.decode()
    boost = mkt.post(url, {**base, "action": "boost", "page": page.pk, "factor": "0"}).content.decode()
    assert "factor above 0" in boost
    assert not Placement.objects.exists()
    with on_commit(execute=True):
        pin = mkt.post(url, {**base, "action": "pin", "page": page.pk, "position": "1", "campaign": "spring"})
    assert pin.status_code == 302
    assert rls_skus()[0] == WHEY
    assert LogEntry.objects.filter(user__username="mkt", content_type__model="placement").exists()


def test_recorded_list_row_shows_its_json(demo: None) -> None:
    """A page-list row's reasons, cautions and link parameters are JSON text in the database, and the admin
    shows them as JSON (escaped), not as Python's text of a list."""
    row = Recommendation.objects.filter(page__slug=RLS).order_by("rank").first()
    assert row is not None and isinstance(row.reasons, list) and row.reasons
    admin_user = User.objects.create_superuser("root", "root@example.com", "pw")
    page = client_for(admin_user).get(reverse("admin:recommender_recommendation_change", args=[row.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"&quot;tag&quot;: &quot;{row.reasons[0]['tag']}&quot;" in html
    assert "{'tag'" not in html and "&#x27;tag&#x27;" not in html


# Stats ---------------------------------------------------------------------------------------------


def test_stats_view(mkt: Client, merch: Client) -> None:
    from django.utils import timezone

    page = ContentPage.objects.get(slug=RLS)
    today = timezone.localdate()
    DailyStat.objects.create(page=page, product=product("TM-CTD-8OZ"), day=today, impressions=40, clicks=4)
    DailyStat.objects.create(page=page, product=product(WHEY), day=today, impressions=10, clicks=0)
    url = reverse("admin:recommender_dailystat_changelist")
    body = mkt.get(url).content.decode()
    assert 'id="total-impressions">50<' in body and 'id="total-clicks">4<' in body
    assert "10.0%" in body and "8.0%" in body and "<svg" in body
    assert f'data-date="{today.isoformat()}"' in body, "the chart's x axis is dated"
    assert body.count("<svg") >= 2, "clicks and CTR have a panel and scale of their own"
    earlier = mkt.get(url, {"start": "2000-01-01", "end": "2000-01-31"}).content.decode()
    assert 'id="total-impressions">0<' in earlier
    assert refused(merch.get(url))

    # Drill down to one page: its products and days; and the same rows as CSV.
    drilled = mkt.get(url, {"page": page.pk}).content.decode()
    assert page.title in drilled and 'id="stats-days"' in drilled and 'id="stats-pages"' not in drilled
    export = mkt.get(url, {"page": page.pk, "export": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().splitlines()
    assert lines[0] == "day,page,page_title,sku,product,impressions,clicks,ctr"
    assert any(
        line.startswith(f"{today.isoformat()},{RLS},") and ",TM-CTD-8OZ," in line and line.endswith(",40,4,0.1000")
        for line in lines
    )
    assert len(lines) == 3


# Taxonomy ------------------------------------------------------------------------------------------


def test_taxonomy_is_read_only_for_roles_and_logged_for_admins(merch: Client, mkt: Client) -> None:
    iron = Tag.objects.get(slug="iron")
    change = reverse("admin:recommender_tag_change", args=[iron.pk])
    assert merch.get(change).status_code == 200  # view only
    assert refused(merch.post(change, {"name": "Iron!"}))
    assert refused(mkt.post(change, {"name": "Iron!"}))
    admin = User.objects.create_superuser("boss", password="pw")
    client = client_for(admin)
    body = client.get(change).content.decode()
    assert "Caution" in body and "upper_limit" in body and "synonyms" in body.lower()
    relation = reverse("admin:recommender_tagrelation_changelist")
    assert "10.5664/jcsm.11390" in client.get(relation).content.decode()
