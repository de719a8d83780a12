"""`/metrics/`: the Prometheus series after a refresh, an event and list reads; staff or the token only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from recommender.models import DirtyMark

RLS = "how-to-treat-restless-leg-syndrome"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def scrape(client: Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics/", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(User.objects.create_user("ops", password="pw-123-secret", is_staff=True))
    return client


def test_series_after_a_refresh_an_event_and_reads(demo: None, staff: Client) -> None:
    before = scrape(staff)
    call_command("refresh_recommendations", verbosity=0)
    api = APIClient(HTTP_USER_AGENT=BROWSER)
    event = {"type": "click", "page": RLS, "product": "TM-CTD-8OZ", "rank": 1}
    assert api.post("/api/v1/events/", event, format="json").status_code == 204
    assert api.get(f"/api/v1/pages/{RLS}/recommendations/").status_code == 200  # built: a miss
    assert api.get(f"/api/v1/pages/{RLS}/recommendations/").status_code == 200  # stored: a hit
    DirtyMark.objects.all().delete()
    after = scrape(staff)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)

    assert grew("recommender_refresh_seconds_count", scope="full") == 1
    assert grew("recommender_lists_refreshed_total", kind="page") >= 1
    assert grew("recommender_lists_refreshed_total", kind="product") >= 1
    assert ("recommender_lists_written_total", (("kind", "page"),)) in after
    assert grew("recommender_events_recorded_total", kind="click") == 1
    assert grew("recommender_list_cache_lookups_total", result="miss") == 1
    assert grew("recommender_list_cache_lookups_total", result="hit") == 1
    assert after[("recommender_outbox_size", ())] == 0


def test_outbox_size_is_read_at_scrape(demo: None, staff: Client) -> None:
    call_command("refresh_recommendations", verbosity=0)
    DirtyMark.objects.all().delete()
    assert scrape(staff)[("recommender_outbox_size", ())] == 0
    DirtyMark.objects.create(kind="products", object_id=1)
    assert scrape(staff)[("recommender_outbox_size", ())] == 1


def test_only_staff_or_the_token(db: None, settings: object) -> None:
    anonymous = Client()
    assert anonymous.get("/metrics/").status_code == 403
    shopper = Client()
    shopper.force_login(User.objects.create_user("shopper", password="pw-123-secret"))
    assert shopper.get("/metrics/").status_code == 403
    assert anonymous.get("/metrics/", headers={"Authorization": "Bearer "}).status_code == 403
    settings.RECOMMENDER = {**settings.RECOMMENDER, "METRICS_TOKEN": "scrape-secret"}  # type: ignore[attr-defined]
    assert anonymous.get("/metrics/", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert scrape(anonymous, Authorization="Bearer scrape-secret")
