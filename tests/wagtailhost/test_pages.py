"""Issue 14, Wagtail: publish, unpublish, move and delete keep the page's list; block, tag and API show it."""

from __future__ import annotations

from typing import Any

from django.test import Client

from recommender.models import ContentPage, Placement, Recommendation
from shop.catalog.models import Product

URL = "http://localhost/blog/restless-legs/"
MOVED = "http://localhost/archive/restless-legs/"


def publish(page: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        page.save_revision().publish()
    page.refresh_from_db()


def api_list(url: str) -> Any:
    return Client().get("/api/v1/recommendations/", {"url": url, "limit": 6})


def test_publishing_registers_the_page_and_its_list_shows(rls_draft, changes, django_capture_on_commit_callbacks):
    assert not ContentPage.objects.exists() or not ContentPage.objects.filter(url=URL).exists()
    publish(rls_draft, django_capture_on_commit_callbacks)

    content = ContentPage.objects.get(url=URL)
    assert content.published and content.title.startswith("How To Treat Restless Leg Syndrome")
    assert "magnesium" in content.text.lower() and "Shop this article" not in content.text
    response = api_list(URL)
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    names = [item["product"]["name"] for item in items[:3]]
    assert any("ConcenTrace" in name for name in names), names
    magnesium = [i["product"]["name"] for i in items[:3] if "magnesium" in i["product"]["tags"]]
    assert any("ConcenTrace" not in name for name in magnesium), names
    assert [c["page"].url for c in changes] == [URL]  # once, after commit
    assert changes[0]["product_ids"][:3] == [i["product"]["id"] for i in items[:3]]

    html = Client().get("/blog/restless-legs/").content.decode()
    assert html.count('class="rec-widget"') == 2  # the block in the body and the tag in the sidebar
    assert "Shop this article" in html and "Also for this article" in html
    block = html.split("Shop this article", 1)[1].split("</section>", 1)[0]
    assert block.count('class="rec-item"') == 4
    assert items[0]["product"]["name"] in block


def test_republishing_the_same_text_changes_nothing(rls_draft, changes, django_capture_on_commit_callbacks):
    publish(rls_draft, django_capture_on_commit_callbacks)
    publish(rls_draft, django_capture_on_commit_callbacks)
    assert len(changes) == 1
    assert ContentPage.objects.filter(url=URL).count() == 1


def test_unpublishing_removes_the_list(rls_draft, changes, django_capture_on_commit_callbacks):
    publish(rls_draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rls_draft.unpublish()
    assert api_list(URL).status_code == 404
    assert not Recommendation.objects.filter(page__url=URL).exists()
    assert ContentPage.objects.get(url=URL).published is False
    assert [c["product_ids"] == [] for c in changes] == [False, True]

    publish(rls_draft, django_capture_on_commit_callbacks)  # back again: the same list
    assert api_list(URL).status_code == 200
    assert len(changes) == 3


def test_moving_keeps_the_list_under_the_new_url(rls_draft, sections, changes, django_capture_on_commit_callbacks):
    publish(rls_draft, django_capture_on_commit_callbacks)
    before = api_list(URL).json()["items"]
    slug = ContentPage.objects.get(url=URL).slug
    with django_capture_on_commit_callbacks(execute=True):
        rls_draft.move(sections["archive"], pos="last-child")

    assert not ContentPage.objects.filter(url=URL).exists()
    moved = ContentPage.objects.get(url=MOVED)
    assert moved.slug == slug
    assert api_list(URL).status_code == 404
    after = api_list(MOVED).json()
    assert [i["product"]["sku"] for i in after["items"]] == [i["product"]["sku"] for i in before]
    assert after["page"]["url"] == MOVED
    assert len(changes) == 1  # the same list under a new address is no change of the list


def test_moving_a_section_rekeys_its_children(rls_draft, sections, django_capture_on_commit_callbacks):
    publish(rls_draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sections["blog"].move(sections["archive"], pos="last-child")
    assert ContentPage.objects.filter(url="http://localhost/archive/blog/restless-legs/").exists()
    assert ContentPage.objects.filter(url="http://localhost/archive/blog/").exists()


def test_deleting_forgets_the_page(rls_draft, django_capture_on_commit_callbacks):
    publish(rls_draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rls_draft.delete()
    assert not ContentPage.objects.filter(url=URL).exists()


def test_editor_pins_a_product(rls_draft, changes, django_capture_on_commit_callbacks, admin_client):
    publish(rls_draft, django_capture_on_commit_callbacks)
    product = Product.objects.get(sku="TM-CTT-90")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/cms/recommender/pages/{rls_draft.pk}/pin/", {"product": product.pk, "position": 1}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Placement.objects.get(page__url=URL).product == product
    assert api_list(URL).json()["items"][0]["product"]["sku"] == "TM-CTT-90"
    assert len(changes) == 2

    edit = admin_client.get(f"/cms/pages/{rls_draft.pk}/edit/").content.decode()
    assert "data-recommender-panel" in edit and "What shoppers see on this page now." in edit
    assert "ConcenTrace Trace Mineral Tablets at position 1" in edit

    placement = Placement.objects.get(page__url=URL)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/cms/recommender/pages/{rls_draft.pk}/pins/{placement.pk}/delete/")
    assert not Placement.objects.exists()
    assert len(changes) == 3


def test_draft_preview_in_the_editor(rls_draft, admin_client):
    edit = admin_client.get(f"/cms/pages/{rls_draft.pk}/edit/").content.decode()
    assert "A preview from this draft" in edit
    assert "ConcenTrace" in edit.split("data-recommender-panel", 1)[1]


def test_pin_needs_edit_permission(rls_draft, client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="pw")
    client.force_login(user)
    response = client.get(f"/cms/recommender/pages/{rls_draft.pk}/pin/")
    assert response.status_code in (302, 403)


def test_new_page_editor_shows_the_panel(sections, admin_client):
    response = admin_client.get(f"/cms/pages/add/blog/blogpage/{sections['blog'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-recommender-panel" in html and "Save the page to pin products on it." in html
