"""Product endpoints: list, detail and stock feed, tags, related products, related articles."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from recommender.adapters import get_adapter
from recommender.api.bodies import BoundedBodyView, query_text, refuse_unstorable
from recommender.api.pagination import StandardPagination
from recommender.api.permissions import ProductTagsWrite, ProductWrite
from recommender.api.schema import (
    ProductArticlesSerializer,
    ProductOutSerializer,
    ProductTagListSerializer,
    RelatedProductsSerializer,
    errors,
)
from recommender.api.serializers import ProductFeedSerializer, ProductTagsSerializer
from recommender.models import ProductTag
from recommender.selectors import (
    disclaimer,
    product_payload,
    product_tag_slugs,
    related_articles_for,
    related_products_for,
)
from recommender.services.products import product_update
from recommender.services.tagging import product_tags_set


def absolute(request: Request, url: str | None) -> str | None:
    return request.build_absolute_uri(url) if url and url.startswith("/") else url


def product_or_404(sku: str) -> Any:
    try:
        refuse_unstorable(sku)  # `%00` in the path: no product has it, and PostgreSQL cannot compare it
    except ValidationError:
        raise Http404("No product has this sku.") from None
    product = get_adapter().get_by_sku(sku)
    if product is None:
        raise Http404("No product has this sku.")
    return product


def product_ref(request: Request, product: Any) -> dict[str, Any]:
    adapter = get_adapter()
    return {"sku": adapter.sku(product), "name": adapter.name(product), "url": absolute(request, adapter.url(product))}


def with_absolute_urls(request: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        item = {**item, "link": absolute(request, item["link"])}
        if "product" in item:
            product = item["product"]
            item["product"] = {
                **product,
                "url": absolute(request, product["url"]),
                "image_url": absolute(request, product["image_url"]) or "",
            }
        if "page" in item:
            item["page"] = {**item["page"], "url": absolute(request, item["page"]["url"])}
        out.append(item)
    return out


class ProductListView(GenericAPIView):  # type: ignore[type-arg]
    """Products, filterable by approved tag (parents included) and availability."""

    pagination_class = StandardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("tag", str, description="Tag slug; a nutrient also matches its forms."),
            OpenApiParameter("in_stock", bool),
        ],
        responses={200: ProductOutSerializer(many=True), **errors(400, 404)},
        operation_id="v1_products_list",
    )
    def get(self, request: Request) -> Response:
        products = self.filtered(self.get_queryset().order_by("pk"), request)
        page = self.paginate_queryset(products) or []
        tags = product_tag_slugs(p.pk for p in page)
        rows = [product_payload(p, tags.get(p.pk, [])) for p in page]
        return self.get_paginated_response([{**r, "url": absolute(request, r["url"])} for r in rows])

    def get_queryset(self) -> QuerySet[Any]:
        return get_adapter().queryset()

    def filtered(self, products: QuerySet[Any], request: Request) -> QuerySet[Any]:
        tag = query_text(request, "tag")
        if tag:
            approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED)
            tagged = approved.filter(Q(tag__slug=tag) | Q(tag__parent__slug=tag)).values("product_id")
            products = products.filter(pk__in=tagged)
        in_stock = request.query_params.get("in_stock")
        if in_stock is not None and "in_stock" in {f.name for f in products.model._meta.get_fields()}:
            products = products.filter(in_stock=in_stock.lower() in {"1", "true", "yes"})
        return products


class ProductDetailView(BoundedBodyView, GenericAPIView):  # type: ignore[type-arg]
    """One product; PATCH `in_stock`, `active`, `price` (merchandisers, staff, or their tokens)."""

    permission_classes = [ProductWrite]
    serializer_class = ProductFeedSerializer

    def payload(self, request: Request, product: Any) -> dict[str, Any]:
        data = product_payload(product, product_tag_slugs([product.pk]).get(product.pk, []))
        return {**data, "url": absolute(request, data["url"])}

    @extend_schema(responses={200: ProductOutSerializer, **errors(404)})
    def get(self, request: Request, sku: str) -> Response:
        return Response(self.payload(request, product_or_404(sku)))

    @extend_schema(request=ProductFeedSerializer, responses={200: ProductOutSerializer, **errors(400, 403, 404, 415)})
    def patch(self, request: Request, sku: str) -> Response:
        product = product_or_404(sku)
        serializer = ProductFeedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product_update(product=product, data=serializer.validated_data)
        return Response(self.payload(request, product_or_404(sku)))


class ProductTagsView(BoundedBodyView, GenericAPIView):  # type: ignore[type-arg]
    """A product's tags; PUT replaces its manual tags (merchandisers and staff)."""

    permission_classes = [ProductTagsWrite]
    serializer_class = ProductTagsSerializer

    def get_object(self) -> Any:
        """The product, for DRF's OPTIONS metadata (the view has no queryset to look it up in)."""
        return product_or_404(self.kwargs["sku"])

    def rows(self, product: Any) -> dict[str, Any]:
        tags = ProductTag.objects.filter(product_id=product.pk).select_related("tag").order_by("tag__slug", "source")
        return {
            "sku": get_adapter().sku(product),
            "tags": [
                {"tag": t.tag.slug, "relevance": t.relevance, "source": t.source, "status": t.status} for t in tags
            ],
        }

    @extend_schema(responses={200: ProductTagListSerializer, **errors(404)})
    def get(self, request: Request, sku: str) -> Response:
        return Response(self.rows(product_or_404(sku)))

    @extend_schema(
        request=ProductTagsSerializer, responses={200: ProductTagListSerializer, **errors(400, 403, 404, 415)}
    )
    def put(self, request: Request, sku: str) -> Response:
        product = product_or_404(sku)
        serializer = ProductTagsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tags = [(item["tag"], item["relevance"]) for item in serializer.validated_data["tags"]]
        product_tags_set(product=product, tags=tags, user=request.user)
        return Response(self.rows(product))


LIMIT = OpenApiParameter("limit", int, description="Number of items (default 6, at most 20).")


class ProductRelatedView(GenericAPIView):  # type: ignore[type-arg]
    """Related products, in the recommendation-list shape (with `product` instead of `page`)."""

    @extend_schema(parameters=[LIMIT], responses={200: RelatedProductsSerializer, **errors(404)})
    def get(self, request: Request, sku: str) -> Response:
        product = product_or_404(sku)
        items = related_products_for(product=product, limit=request.query_params.get("limit"))
        return Response(
            {
                "page": None,
                "product": product_ref(request, product),
                "disclaimer": disclaimer(),
                "items": with_absolute_urls(request, items),
            }
        )


class ProductArticlesView(GenericAPIView):  # type: ignore[type-arg]
    """Articles that discuss what the product holds: `{product, items: [{rank, score, page, reasons, link}]}`."""

    @extend_schema(parameters=[LIMIT], responses={200: ProductArticlesSerializer, **errors(404)})
    def get(self, request: Request, sku: str) -> Response:
        product = product_or_404(sku)
        items = related_articles_for(product=product, limit=request.query_params.get("limit"))
        return Response({"product": product_ref(request, product), "items": with_absolute_urls(request, items)})
