"""Schema-only serializers: the shapes of the pre-rendered API responses, for drf-spectacular.

The views return dicts built by `recommender.selectors`; nothing here serializes data. These classes
describe those dicts (DESIGN.md section 7) so the OpenAPI schema, and the clients and tests built on
it, know the real response shapes, including the error bodies each operation may return.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ProductOutSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A product as the API shows it: in lists, list items and the product detail."""

    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    brand = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True, help_text="Absolute product url.")
    image_url = serializers.CharField(allow_blank=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    in_stock = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.CharField(), help_text="Approved tag slugs, parents included.")


class EvidenceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    grade = serializers.CharField(allow_null=True)
    citations = serializers.ListField(child=serializers.CharField())


class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    tag = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    weight = serializers.FloatField()
    evidence = EvidenceSerializer()


class CautionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField()
    text = serializers.CharField()


class RecommendationItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    product = ProductOutSerializer()
    reasons = ReasonSerializer(many=True)
    cautions = CautionSerializer(many=True)
    link = serializers.CharField(help_text="Absolute product url with the UTM parameters.")


class PageRefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The page a list is for; a preview has no slug and no url."""

    slug = serializers.CharField(allow_null=True)
    title = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_null=True)


class RecommendationListSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A recommendation list: `{page, generated_at, disclaimer, items}`."""

    page = PageRefSerializer()
    generated_at = serializers.DateTimeField(allow_null=True)
    disclaimer = serializers.CharField()
    items = RecommendationItemSerializer(many=True)


class ProductRefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    sku = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(allow_blank=True)


class RelatedProductsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Related products: the recommendation-list shape with `product` instead of a page (`page` is null)."""

    page = PageRefSerializer(allow_null=True)
    product = ProductRefSerializer()
    disclaimer = serializers.CharField()
    items = RecommendationItemSerializer(many=True)


class ArticleItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rank = serializers.IntegerField()
    score = serializers.FloatField()
    page = PageRefSerializer()
    reasons = ReasonSerializer(many=True)
    link = serializers.CharField(help_text="Absolute page url with the UTM parameters.")


class ProductArticlesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Articles related to a product: `{product, items: [{rank, score, page, reasons, link}]}`."""

    product = ProductRefSerializer()
    items = ArticleItemSerializer(many=True)


class ProductTagRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    tag = serializers.CharField()
    relevance = serializers.FloatField()
    source = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField()


class ProductTagListSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A product's tags, every source and status."""

    sku = serializers.CharField()
    tags = ProductTagRowSerializer(many=True)


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """DRF's error body for authentication, permission, not-found and throttling errors."""

    detail = serializers.CharField()


VALIDATION_ERROR = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="Invalid input: a message list per field (`non_field_errors` for the whole body).",
)
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Not allowed for this user, or bad credentials.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object (or page of results).")
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(ErrorSerializer, description="A body DRF cannot parse as its Content-Type.")


def errors(*codes: int) -> dict[int, Any]:
    """The documented error responses for these status codes (400, 403, 404, 415)."""
    known: dict[int, Any] = {400: VALIDATION_ERROR, 403: FORBIDDEN, 404: NOT_FOUND, 415: UNSUPPORTED_MEDIA_TYPE}
    return {code: known[code] for code in codes}


class StrictSerializerExtension(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    """Request bodies of `StrictSerializer`s reject unknown fields: say so (`additionalProperties: false`)."""

    target_class = "recommender.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}
