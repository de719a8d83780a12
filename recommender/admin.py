"""Admin registrations for the taxonomy, pages and stored lists (richer tooling comes with the admin issue)."""

from django.contrib import admin

from recommender.models import ContentPage, PageTag, Placement, ProductTag, Recommendation, Synonym, Tag, TagRelation


class SynonymInline(admin.TabularInline):
    model = Synonym
    extra = 0


class RelationInline(admin.TabularInline):
    model = TagRelation
    fk_name = "source"
    extra = 0
    autocomplete_fields = ["target"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "parent", "upper_limit", "caution_level"]
    list_filter = ["kind", "caution_level"]
    search_fields = ["slug", "name", "synonyms__text"]
    inlines = [SynonymInline, RelationInline]


@admin.register(ProductTag)
class ProductTagAdmin(admin.ModelAdmin):
    list_display = ["product", "tag", "relevance", "source", "status", "updated_at"]
    list_filter = ["status", "source", "tag"]
    autocomplete_fields = ["tag"]
    raw_id_fields = ["product"]


class PageTagInline(admin.TabularInline):
    model = PageTag
    extra = 0
    autocomplete_fields = ["tag"]


@admin.register(ContentPage)
class ContentPageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "source", "published", "analysed_at"]
    list_filter = ["source", "published"]
    search_fields = ["title", "slug", "url"]
    inlines = [PageTagInline]


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = ["action", "product", "page", "tag", "position", "factor", "campaign", "starts_at", "ends_at"]
    list_filter = ["action"]
    autocomplete_fields = ["page", "tag"]
    raw_id_fields = ["product"]


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["page", "rank", "product", "score", "generation", "computed_at"]
    list_filter = ["page"]
    raw_id_fields = ["product"]
