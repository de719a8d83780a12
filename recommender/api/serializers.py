"""Serializers for the list endpoints (the recommendation list itself is pre-rendered JSON)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from recommender.api.bodies import SlugLookupField
from recommender.links import validate_page_url
from recommender.models import ContentPage, Synonym, Tag, TagRelation


class PageSerializer(serializers.ModelSerializer[ContentPage]):
    url = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    class Meta:
        model = ContentPage
        fields = ["slug", "title", "url", "source", "published", "tags"]

    def get_url(self, page: ContentPage) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(page.url) if request and page.url.startswith("/") else page.url

    def get_tags(self, page: ContentPage) -> list[dict[str, Any]]:
        return [
            {"tag": pt.tag.slug, "weight": pt.weight, "mentions": pt.mentions, "source": pt.source}
            for pt in page.page_tags.all()
        ]


class SynonymSerializer(serializers.ModelSerializer[Synonym]):
    class Meta:
        model = Synonym
        fields = ["text", "case_sensitive", "needs_context"]


class RelationSerializer(serializers.ModelSerializer[TagRelation]):
    target: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = TagRelation
        fields = ["target", "polarity", "strength", "grade", "citations", "summary"]


class TagSerializer(serializers.ModelSerializer[Tag]):
    parent: serializers.SlugRelatedField[Tag] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="slug", read_only=True, allow_null=True
    )
    synonyms = SynonymSerializer(many=True, read_only=True)
    relations = RelationSerializer(many=True, read_only=True, source="relations_out")

    class Meta:
        model = Tag
        fields = [
            "slug", "name", "kind", "parent", "description", "unit", "reference_intake", "upper_limit",
            "caution", "caution_level", "synonyms", "relations",
        ]  # fmt: skip


class StrictSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Rejects fields it does not know, so a typo in a feed is an error rather than a silent no-op."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs


class ProductFeedSerializer(StrictSerializer):
    """PATCH body of /products/<sku>/: what a stock feed may change."""

    in_stock = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)


class TagRelevanceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    tag = SlugLookupField(slug_field="slug", queryset=Tag.objects.all())
    relevance = serializers.FloatField(min_value=0.0, max_value=1.0, default=1.0)


class ProductTagsSerializer(StrictSerializer):
    """PUT body of /products/<sku>/tags/: the product's complete set of manual tags."""

    tags = TagRelevanceSerializer(many=True)

    def validate_tags(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        slugs = [item["tag"].slug for item in value]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Tags listed more than once: {', '.join(duplicates)}.")
        return value


class PageCreateSerializer(StrictSerializer):
    """POST body of /pages/: register an external article by url with its text."""

    url = serializers.URLField(max_length=500, validators=[validate_page_url])
    title = serializers.CharField(max_length=300)
    text = serializers.CharField(max_length=2_000_000)
    slug = serializers.SlugField(max_length=200, required=False)


class PreviewSerializer(StrictSerializer):
    """POST body of /recommendations/preview/."""

    title = serializers.CharField(max_length=300, allow_blank=True, default="")
    text = serializers.CharField(max_length=2_000_000)
    limit = serializers.IntegerField(min_value=1, max_value=20, default=6)
