"""API views: validate, call a selector, return. Recommendation lists are pre-rendered dicts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender import metrics
from recommender.api.bodies import BoundedBodyView, query_text
from recommender.api.caching import Lookup, cached_list, conditional, local_slugs, lookup
from recommender.api.pagination import StandardPagination
from recommender.api.permissions import PageWrite, PreviewAccess
from recommender.api.schema import NOT_FOUND, RecommendationListSerializer, errors
from recommender.api.serializers import PageCreateSerializer, PageSerializer, PreviewSerializer, TagSerializer
from recommender.api.throttling import AnonReadThrottle
from recommender.models import ContentPage, PageTag, Tag
from recommender.selectors import clamp_limit, page_by_url, recommendations_for_page, recommendations_for_text
from recommender.services.pages import page_upsert, unique_page_slug

# Django's `slug_re`, compiled here: that one is a lazy object, a proxy call on every read.
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
LIMIT = OpenApiParameter("limit", int, description="Number of items (default 6, at most 20).")


def absolutize(payload: dict[str, Any], request: Request) -> dict[str, Any]:
    """Make the page url, product urls and links absolute for API clients."""

    def full(url: str | None) -> str | None:
        return request.build_absolute_uri(url) if url and url.startswith("/") else url

    page = payload.get("page")
    items = [
        {**item, "product": {**item["product"], "url": full(item["product"]["url"])}, "link": full(item["link"])}
        for item in payload["items"]
    ]
    return {**payload, "page": {**page, "url": full(page.get("url"))} if page else page, "items": items}


@extend_schema_view(get=extend_schema(responses={200: PageSerializer, 404: NOT_FOUND}))
class PageListView(BoundedBodyView, generics.ListAPIView[ContentPage]):
    """Content pages with their tags; marketing may POST an external article (url, title, text)."""

    pagination_class = StandardPagination

    serializer_class = PageSerializer
    permission_classes = [PageWrite]

    @extend_schema(request=PageCreateSerializer, responses={201: PageSerializer, **errors(400, 403, 415)})
    def post(self, request: Request) -> Response:
        body = PageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("slug") and ContentPage.objects.filter(slug=data["slug"]).exclude(url=data["url"]).exists():
            raise ValidationError({"slug": ["Another page already has this slug."]})
        page = page_upsert(
            url=data["url"], title=data["title"], text=data["text"],
            slug=data.get("slug") or unique_page_slug(data["title"], data["url"]),
            source=ContentPage.Source.EXTERNAL,
        )  # fmt: skip
        return Response(PageSerializer(page, context={"request": request}).data, status=201)

    def get_queryset(self) -> QuerySet[ContentPage]:
        tags = Prefetch("page_tags", queryset=PageTag.objects.select_related("tag").order_by("-weight"))
        return ContentPage.objects.filter(published=True).prefetch_related(tags).order_by("slug")


@extend_schema_view(get=extend_schema(responses={200: TagSerializer, 404: NOT_FOUND}))
class TagListView(generics.ListAPIView[Tag]):
    """The taxonomy: tags with synonyms, parent, relations and evidence."""

    pagination_class = StandardPagination

    serializer_class = TagSerializer
    queryset = Tag.objects.select_related("parent").prefetch_related("synonyms", "relations_out__target")


def plain_anonymous_json(request: HttpRequest) -> bool:
    """Whether DRF would answer this GET with JSON to an anonymous client (no credentials, no session).

    Such requests, the widgets' reads, are served from the cache before DRF wraps the request; anything
    else (a session, a token, the browsable API, `?format=`) takes DRF's full path, with the same cache.
    The cookie header is searched rather than parsed: a cookie that merely contains the session cookie's
    name only sends a request down the full path.
    """
    meta = request.META
    accept = meta.get("HTTP_ACCEPT", "*/*")
    return (
        request.method == "GET"
        and "HTTP_AUTHORIZATION" not in meta
        and settings.SESSION_COOKIE_NAME not in meta.get("HTTP_COOKIE", "")
        and not (meta.get("QUERY_STRING") and "format" in request.GET)
        and "text/html" not in accept
        and ("json" in accept or "*/*" in accept or "application/*" in accept)
    )


class CachedListView(APIView):
    """Shared by the two list reads: JSON from stored bytes (see `caching`), the browsable API uncached.

    The fast path (`dispatch`) answers a hit, or a 304, before DRF wraps the request: from this process's
    local tier, or after one cache round trip that fetches the stored response, the page's version and the
    anonymous throttle's counter together. A miss, a throttled client or an unknown page continues into
    DRF with that lookup and count, so nothing is fetched or counted twice.
    """

    throttle_classes = [AnonReadThrottle]
    found: Lookup | None = None
    throttle_count: int | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        slug = self.fast_slug(request, **kwargs) if plain_anonymous_json(request) else None
        if slug is not None:
            throttle = AnonReadThrottle()
            limit = clamp_limit(request.GET.get("limit") if request.META.get("QUERY_STRING") else None)
            counter = throttle.counter(request)
            self.found, count = lookup(request, slug, limit, counter)
            if counter is not None:
                self.throttle_count = count or 0  # no count: Redis is away, and the request is let through
            hit = self.found.fresh()
            if hit is not None and (self.throttle_count is None or throttle.allows(self.throttle_count)):
                metrics.list_cache(hit=True)
                return conditional(request, *hit)
        return super().dispatch(request, *args, **kwargs)

    def fast_slug(self, request: HttpRequest, **kwargs: Any) -> str | None:
        """The slug of the page asked for, when it is known without a query."""
        raise NotImplementedError

    def respond(self, request: Request, slug: str, limit: int, build: Callable[[], dict[str, Any]]) -> HttpResponse:
        if request.accepted_renderer.format != "json":
            return Response(build())
        return cached_list(request, slug=slug, limit=limit, build=build, found=self.found)


class PageRecommendationsView(CachedListView):
    """The recommendation list of a page, by slug; a warm cache answers without SQL."""

    def fast_slug(self, request: HttpRequest, **kwargs: Any) -> str | None:
        slug = str(kwargs.get("slug", ""))
        return slug if SLUG.fullmatch(slug) else None

    @extend_schema(parameters=[LIMIT], responses={200: RecommendationListSerializer, **errors(404)})
    def get(self, request: Request, slug: str) -> HttpResponse:
        if not SLUG.fullmatch(slug):  # the route takes any segment, so a bad slug gets a JSON 404 too
            raise NotFound("No content page has this slug.")
        limit = clamp_limit(request.query_params.get("limit"))

        def build() -> dict[str, Any]:
            page = get_object_or_404(ContentPage, slug=slug, published=True)
            return absolutize(recommendations_for_page(page=page, limit=limit), request)

        return self.respond(request, slug, limit, build)


class RecommendationsByUrlView(CachedListView):
    """The recommendation list of a page, by canonical url; url -> slug is remembered so a hit needs no SQL."""

    def fast_slug(self, request: HttpRequest, **kwargs: Any) -> str | None:
        return local_slugs.get(request.GET.get("url", "").strip())

    @extend_schema(
        parameters=[OpenApiParameter("url", str, required=True, description="Canonical page URL."), LIMIT],
        responses={200: RecommendationListSerializer, **errors(400, 404)},
    )
    def get(self, request: Request) -> HttpResponse:
        url = query_text(request, "url")
        if not url:
            raise ValidationError({"url": ["This query parameter is required."]})
        try:
            urlsplit(url)
        except ValueError as exc:
            raise ValidationError({"url": ["This is not a valid URL."]}) from exc
        limit = clamp_limit(request.query_params.get("limit"))
        page = page_by_url(url)
        if page is None or not page.published:
            raise NotFound("No content page has this url.")
        local_slugs.remember(url, page.slug)
        return self.respond(
            request, page.slug, limit, lambda: absolutize(recommendations_for_page(page=page, limit=limit), request)
        )


class PreviewView(BoundedBodyView):
    """What shoppers would see for any title and text; writes nothing."""

    permission_classes = [PreviewAccess]

    @extend_schema(request=PreviewSerializer, responses={200: RecommendationListSerializer, **errors(400, 403, 415)})
    def post(self, request: Request) -> Response:
        body = PreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        payload = recommendations_for_text(title=data["title"], text=data["text"], limit=data["limit"])
        return Response(absolutize(payload, request))
