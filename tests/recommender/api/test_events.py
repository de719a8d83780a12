"""POST /api/v1/events/: per-day counters with F(), validation, robots, and nothing kept about the client."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recommender.adapters import get_adapter
from recommender.models import DailyStat, Recommendation

RLS = "how-to-treat-restless-leg-syndrome"
DROPS = "TM-CTD-8OZ"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36"


@pytest.fixture
def api() -> APIClient:
    return APIClient(HTTP_USER_AGENT=BROWSER)


def post(api: APIClient, **body: object) -> object:
    event = {"type": "impression", "page": RLS, "product": DROPS, "rank": 1, **body}
    return api.post("/api/v1/events/", event, format="json")


def counts() -> tuple[int, int]:
    stat = DailyStat.objects.filter(page__slug=RLS, product__sku=DROPS, day=timezone.localdate()).first()
    return (stat.impressions, stat.clicks) if stat else (0, 0)


def test_impressions_and_clicks_are_counted_per_day(demo: None, api: APIClient) -> None:
    assert post(api).status_code == 204
    assert post(api).status_code == 204
    assert post(api, type="click").status_code == 204
    assert counts() == (2, 1)
    assert DailyStat.objects.count() == 1


def test_yesterdays_row_is_left_alone(demo: None, api: APIClient) -> None:
    post(api)
    DailyStat.objects.update(day=timezone.localdate() - timezone.timedelta(days=1))
    post(api, type="click")
    rows = DailyStat.objects.order_by("day").values_list("impressions", "clicks")
    assert list(rows) == [(1, 0), (0, 1)]


def test_json_sent_as_text_plain_is_accepted(demo: None, api: APIClient) -> None:
    body = json.dumps({"type": "click", "page": RLS, "product": DROPS, "rank": 2})
    response = api.generic("POST", "/api/v1/events/", body, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 204
    assert counts() == (0, 1)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"type": "hover"}, "type", "not a valid choice"),
        ({"page": "no-such-page"}, "page", "does not exist"),
        ({"product": "NO-SUCH-SKU"}, "product", "No product has this sku."),
        ({"rank": 0}, "rank", "greater than or equal to 1"),
    ],
)
def test_bad_events_are_refused_with_a_message(
    demo: None, api: APIClient, body: dict[str, object], field: str, message: str
) -> None:
    response = post(api, **body)
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert counts() == (0, 0)


def test_robots_are_ignored(demo: None) -> None:
    crawler = APIClient(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert post(crawler).status_code == 204
    assert post(APIClient(HTTP_USER_AGENT="facebookexternalhit/1.1"), type="click").status_code == 204
    assert counts() == (0, 0)


def test_nothing_about_the_client_is_kept(demo: None, api: APIClient) -> None:
    response = post(api)
    assert response.status_code == 204
    assert not response.cookies
    assert "Set-Cookie" not in response
    fields = {f.name for f in DailyStat._meta.get_fields()}
    assert fields == {"id", "page", "product", "day", "impressions", "clicks"}


def test_events_from_an_origin_the_widget_may_not_use_count_nothing(demo: None, api: APIClient, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://blog.example"]
    api.post(
        "/api/v1/events/",
        {"type": "click", "page": RLS, "product": DROPS},
        format="json",
        HTTP_ORIGIN="https://evil.example",
    )
    api.post(
        "/api/v1/events/",
        {"type": "click", "page": RLS, "product": DROPS},
        format="json",
        HTTP_ORIGIN="https://blog.example",
    )
    assert counts() == (0, 1)


def test_events_are_throttled(demo: None, api: APIClient, settings) -> None:
    rates = {"events": "2/min", "anon": "9/min"}
    settings.RECOMMENDER = {**settings.RECOMMENDER, "THROTTLE_RATES": rates}
    statuses = [post(api).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]


# Regressions for issue 15 ------------------------------------------------------------------------------


def test_a_product_not_on_the_pages_list_is_refused(demo: None, api: APIClient) -> None:
    on_list = set(Recommendation.objects.filter(page__slug=RLS).values_list("product__sku", flat=True))
    elsewhere = get_adapter().queryset().exclude(sku__in=on_list).values_list("sku", flat=True).first()
    assert elsewhere
    response = post(api, product=elsewhere, type="click")
    assert response.status_code == 400
    assert "not on this page's list" in " ".join(response.json()["product"])
    assert not DailyStat.objects.exists()


def test_events_from_origin_null_are_refused(demo: None, api: APIClient) -> None:
    event = {"type": "click", "page": RLS, "product": DROPS}
    response = api.post("/api/v1/events/", event, format="json", HTTP_ORIGIN="null")
    assert response.status_code == 403
    assert "Origin: null" in response.json()["detail"]
    assert counts() == (0, 0)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_deeply_nested_json_is_a_400(demo: None, api: APIClient, content_type: str) -> None:
    response = api.generic("POST", "/api/v1/events/", "[" * 100_000, content_type=content_type)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not DailyStat.objects.exists()
