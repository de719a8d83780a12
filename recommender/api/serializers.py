"""Serializers for the list endpoints (the recommendation list itself is pre-rendered JSON)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

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
    target = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = TagRelation
        fields = ["target", "strength", "grade", "citations", "summary"]


class TagSerializer(serializers.ModelSerializer[Tag]):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    synonyms = SynonymSerializer(many=True, read_only=True)
    relations = RelationSerializer(many=True, read_only=True, source="relations_out")

    class Meta:
        model = Tag
        fields = [
            "slug", "name", "kind", "parent", "description", "unit", "reference_intake", "upper_limit",
            "caution", "caution_level", "synonyms", "relations",
        ]  # fmt: skip
