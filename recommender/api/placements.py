"""`/api/v1/placements/`: marketing's pins, boosts, buries and excludes, for a page or a tag.

Validation is the model's own (`Placement.clean`), so the admin and the API apply the same rules;
saving announces the change and the pages in scope are refreshed after commit.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers

from recommender.adapters import get_adapter
from recommender.api.bodies import BoundedBodyView, SlugLookupField, refuse_unstorable
from recommender.api.pagination import StandardPagination
from recommender.api.permissions import PlacementAccess
from recommender.api.schema import errors
from recommender.models import ContentPage, Placement, Tag


@extend_schema_field(OpenApiTypes.STR)
class ProductSkuField(serializers.Field):  # type: ignore[type-arg]
    """A host product, written and read as its sku."""

    def to_representation(self, product: Any) -> str:
        return get_adapter().sku(product)

    def to_internal_value(self, data: Any) -> Any:
        refuse_unstorable(data)
        product = get_adapter().get_by_sku(str(data))
        if product is None:
            raise serializers.ValidationError(f"No product has the sku {data!r}.")
        return product


class PlacementSerializer(serializers.ModelSerializer[Placement]):
    page = SlugLookupField(slug_field="slug", queryset=ContentPage.objects.all(), allow_null=True, required=False)
    tag = SlugLookupField(slug_field="slug", queryset=Tag.objects.all(), allow_null=True, required=False)
    product = ProductSkuField()

    class Meta:
        model = Placement
        fields = [
            "id", "page", "tag", "product", "action", "position", "factor", "campaign",
            "utm_source", "utm_medium", "utm_campaign", "starts_at", "ends_at",
        ]  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Run the model's rules on the placement as it would be saved."""
        instance = Placement(**{**self.current(), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def current(self) -> dict[str, Any]:
        if self.instance is None:
            return {}
        fields = ["page", "tag", "product", "action", "position", "factor", "starts_at", "ends_at"]
        return {name: getattr(self.instance, name) for name in fields}


@extend_schema_view(
    get=extend_schema(responses={200: PlacementSerializer, **errors(403, 404)}),
    post=extend_schema(responses={201: PlacementSerializer, **errors(400, 403, 415)}),
)
class PlacementListView(BoundedBodyView, generics.ListCreateAPIView[Placement]):
    """List and create placements."""

    pagination_class = StandardPagination

    serializer_class = PlacementSerializer
    permission_classes = [PlacementAccess]

    def get_queryset(self) -> QuerySet[Placement]:
        return Placement.objects.select_related("page", "tag", "product").order_by("pk")


@extend_schema_view(
    get=extend_schema(responses={200: PlacementSerializer, **errors(403, 404)}),
    put=extend_schema(responses={200: PlacementSerializer, **errors(400, 403, 404, 415)}),
    patch=extend_schema(responses={200: PlacementSerializer, **errors(400, 403, 404, 415)}),
    delete=extend_schema(responses={204: None, **errors(403, 404)}),
)
class PlacementDetailView(BoundedBodyView, generics.RetrieveUpdateDestroyAPIView[Placement]):
    """Read, change or delete one placement."""

    serializer_class = PlacementSerializer
    permission_classes = [PlacementAccess]

    def get_queryset(self) -> QuerySet[Placement]:
        return Placement.objects.select_related("page", "tag", "product")
