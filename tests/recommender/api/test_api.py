"""The read API (DESIGN.md section 7): pages, recommendation lists by slug and by url, tags, schema."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from recommender.conf import DISCLAIMER

RLS = "how-to-treat-restless-leg-syndrome"
RLS_PATH = f"/learn/{RLS}/"
LIST_URL = f"/api/v1/pages/{RLS}/recommendations/"
PRODUCT_KEYS = {"id", "sku", "name", "brand", "url", "image_url", "price", "currency", "in_stock", "tags"}


def get(client: Client, path: str, **params: str) -> dict:
    response = client.get(path, params)
    assert response.status_code == 200, (path, params, response.content[:500])
    return response.json()


def test_pages_are_paginated_with_absolute_urls_and_tags(demo: None, client: Client) -> None:
    body = get(client, "/api/v1/pages/")
    assert {"count", "next", "previous", "results"} <= set(body)
    assert body["count"] == len(body["results"]) >= 2
    for page in body["results"]:
        assert {"slug", "title", "url", "tags"} <= set(page)
        assert page["url"] == f"http://testserver/learn/{page['slug']}/"
        assert isinstance(page["tags"], list)
    rls = next(page for page in body["results"] if page["slug"] == RLS)
    assert rls["title"].startswith("How To Treat Restless Leg Syndrome")
    assert {"restless-legs-syndrome", "magnesium"} <= {tag["tag"] for tag in rls["tags"]}

    first = get(client, "/api/v1/pages/", page_size="2")
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/v1/pages/")
    second = get(client, "/api/v1/pages/", page_size="2", page="2")
    assert second["previous"] is not None
    assert {p["slug"] for p in first["results"]}.isdisjoint(p["slug"] for p in second["results"])
    assert client.get("/api/v1/pages/", {"page": "999"}).status_code == 404


def test_recommendation_list_shape(demo: None, client: Client) -> None:
    body = get(client, LIST_URL)
    assert set(body) == {"page", "generated_at", "disclaimer", "items"}
    assert body["disclaimer"] == DISCLAIMER
    assert body["page"]["slug"] == RLS
    assert body["generated_at"]
    items = body["items"]
    assert 1 <= len(items) <= 6
    assert [item["rank"] for item in items] == list(range(1, len(items) + 1))
    for item in items:
        assert set(item) == {"rank", "score", "product", "reasons", "cautions", "link"}
        assert isinstance(item["score"], float)
        product = item["product"]
        assert set(product) == PRODUCT_KEYS
        assert isinstance(product["id"], int)
        assert product["url"].startswith("http://testserver/products/")
        assert isinstance(product["price"], str) and re.fullmatch(r"\d+\.\d{2}", product["price"])
        assert product["currency"] == "USD"
        assert product["in_stock"] is True
        assert isinstance(product["tags"], list) and all(isinstance(t, str) for t in product["tags"])
        assert item["reasons"]
        for reason in item["reasons"]:
            assert set(reason) == {"tag", "label", "weight", "evidence"}
            assert set(reason["evidence"]) == {"grade", "citations"}
            assert isinstance(reason["evidence"]["citations"], list)
        for caution in item["cautions"]:
            assert set(caution) == {"code", "text"}
        link = urlsplit(item["link"])
        assert item["link"].startswith(product["url"])
        assert (link.scheme, link.netloc) == ("http", "testserver")
        query = parse_qs(link.query)
        assert query["utm_source"] and query["utm_medium"] and query["utm_campaign"] == [RLS]
    # A form lists its nutrient too.
    glycinate = [i for i in items if "magnesium-chloride" in i["product"]["tags"]]
    assert all("magnesium" in i["product"]["tags"] for i in glycinate)


def test_limit_parameter(demo: None, client: Client) -> None:
    everything = get(client, LIST_URL, limit="20")["items"]
    assert len(everything) > 6
    assert len(get(client, LIST_URL)["items"]) == 6
    two = get(client, LIST_URL, limit="2")["items"]
    assert [i["product"]["sku"] for i in two] == [i["product"]["sku"] for i in everything[:2]]
    assert len(get(client, LIST_URL, limit="999")["items"]) == min(20, len(everything))
    for bad in ("abc", "", "-3", "0", "1.5"):
        response = client.get(LIST_URL, {"limit": bad})
        assert response.status_code in (200, 400), bad
        if response.status_code == 200:
            assert 1 <= len(response.json()["items"]) <= 20


def test_recommendations_by_url(demo: None, client: Client) -> None:
    def skus(body: dict) -> list[str]:
        return [item["product"]["sku"] for item in body["items"]]

    by_slug = get(client, LIST_URL)
    by_path = get(client, "/api/v1/recommendations/", url=RLS_PATH)
    by_absolute = get(client, "/api/v1/recommendations/", url=f"http://testserver{RLS_PATH}")
    assert skus(by_path) == skus(by_absolute) == skus(by_slug)
    assert by_path["items"] == by_slug["items"]
    assert by_path["page"]["slug"] == RLS
    assert len(get(client, "/api/v1/recommendations/", url=RLS_PATH, limit="2")["items"]) == 2

    assert client.get("/api/v1/recommendations/").status_code == 400
    assert client.get("/api/v1/recommendations/", {"url": "  "}).status_code == 400
    assert client.get("/api/v1/recommendations/", {"url": "/learn/no-such-page/"}).status_code == 404
    assert client.get("/api/v1/recommendations/", {"url": "https://elsewhere.example/x"}).status_code == 404
    assert client.get("/api/v1/pages/no-such-page/recommendations/").status_code == 404

    houseplants = get(client, "/api/v1/pages/choosing-houseplants-for-low-light/recommendations/")
    assert houseplants["items"] == []
    assert houseplants["disclaimer"] == DISCLAIMER


def test_tags_with_synonyms_and_relations(demo: None, client: Client) -> None:
    body = get(client, "/api/v1/tags/", page_size="500")
    assert {"count", "next", "previous", "results"} <= set(body)
    tags = {tag["slug"]: tag for tag in body["results"]}
    assert len(tags) == body["count"]
    for tag in tags.values():
        assert {"slug", "name", "kind", "synonyms", "relations"} <= set(tag)
    assert {"text": "Mg", "case_sensitive": True}.items() <= next(
        s for s in tags["magnesium"]["synonyms"] if s["text"] == "Mg"
    ).items()
    assert tags["magnesium-glycinate"]["parent"] == "magnesium"
    relations = {r["target"]: r for r in tags["restless-legs-syndrome"]["relations"]}
    assert {"iron", "magnesium"} <= set(relations)
    assert relations["iron"]["grade"] == "guideline"
    assert isinstance(relations["iron"]["citations"], list) and relations["iron"]["citations"]
    assert 0 <= relations["magnesium"]["strength"] <= 1


def test_schema_and_unknown_page(db: None, client: Client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/pages/" in response.content
    assert client.get(LIST_URL).status_code == 404
    body = get(client, "/api/v1/pages/")
    assert (body["count"], body["results"]) == (0, [])


def test_a_malformed_url_is_a_400_not_a_500(demo: None, client: Client) -> None:
    """Regression (issue 15): `?url=http://[::1` raised ValueError in urlsplit and answered 500."""
    for bad in ["http://[::1", "http://[::1/x", "https://[not-an-ip]/"]:
        response = client.get("/api/v1/recommendations/", {"url": bad})
        assert response.status_code == 400
        assert "not a valid URL" in response.json()["url"][0]
