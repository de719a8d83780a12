"""POST /api/v1/events/: impressions and clicks from the widget, counted per day.

Beacons arrive from other origins, so the view takes no session (no CSRF, no cookie set) and accepts
JSON sent as text/plain, the content type a cross-origin beacon can use without a preflight.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from recommender.adapters import get_adapter
from recommender.api.bodies import BoundedBodyView, BoundedJSONParser, SlugLookupField
from recommender.api.schema import errors
from recommender.api.throttling import EventsThrottle
from recommender.models import ContentPage, Recommendation
from recommender.services.events import COUNTERS, event_record, is_bot


class PlainTextJSONParser(BoundedJSONParser):
    """JSON in a text/plain body, as navigator.sendBeacon sends a string."""

    media_type = "text/plain"


class EventSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An event names a published page by slug and a product by sku; both must exist."""

    type = serializers.ChoiceField(choices=sorted(COUNTERS))
    page = SlugLookupField(slug_field="slug", queryset=ContentPage.objects.filter(published=True))
    product = serializers.CharField(max_length=100)
    rank = serializers.IntegerField(min_value=1, max_value=1000, required=False)

    def validate_product(self, sku: str) -> Any:
        product = get_adapter().get_by_sku(sku)
        if product is None:
            raise serializers.ValidationError("No product has this sku.")
        return product

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Only a product on the page's stored list can have been shown or clicked there."""
        if not Recommendation.objects.filter(page=attrs["page"], product=attrs["product"]).exists():
            raise serializers.ValidationError({"product": ["This product is not on this page's list."]})
        return attrs


def foreign_origin(request: Request) -> bool:
    """A browser event from an origin the widget is not allowed on (it could not have shown a list there)."""
    origin = request.headers.get("Origin")
    if not origin or getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False):
        return False
    if urlsplit(origin).netloc == request.get_host() or origin in getattr(settings, "CORS_ALLOWED_ORIGINS", []):
        return False
    return not any(re.match(pattern, origin) for pattern in getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", []))


class EventView(BoundedBodyView):
    """Count an impression or a click; robots and foreign origins get 204 and count nothing.

    `Origin: null` (a sandboxed frame, a file, a data: URL) is refused with a 403: a widget the store placed
    never runs there. The product must be on the page's stored list.
    """

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes = [EventsThrottle]
    throttle_scope = "events"
    parser_classes = [BoundedJSONParser, PlainTextJSONParser]

    @extend_schema(
        request=EventSerializer,
        responses={204: OpenApiResponse(description="Counted (or ignored)."), **errors(400, 403, 415)},
    )
    def post(self, request: Request) -> Response:
        if request.headers.get("Origin") == "null":
            raise PermissionDenied("Events from an opaque origin (Origin: null) are not counted.")
        if is_bot(request.headers.get("User-Agent", "")) or foreign_origin(request):
            return Response(status=204)
        body = EventSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        event_record(kind=data["type"], page=data["page"], product=data["product"], rank=data.get("rank"))
        return Response(status=204)
