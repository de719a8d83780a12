"""The taxonomy: tags with synonyms, parent, caution and upper limit; relations with their evidence.

Every save here changes what every page can reach, so the admin history (LogEntry) is the record
of who changed what and when; merchandisers and marketing may read the taxonomy, not change it.
"""

from __future__ import annotations

from django.contrib import admin

from recommender.models import Synonym, Tag, TagRelation


class SynonymInline(admin.TabularInline):
    model = Synonym
    extra = 0
    fields = ["text", "case_sensitive", "needs_context", "excludes"]


class RelationInline(admin.TabularInline):
    model = TagRelation
    fk_name = "source"
    extra = 0
    fields = ["target", "polarity", "strength", "grade", "citations", "summary"]
    autocomplete_fields = ["target"]
    verbose_name_plural = "Related tags (this condition -> nutrient: supports, no benefit shown, or avoid)"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "parent", "upper_limit", "unit", "caution_level"]
    list_filter = ["kind", "caution_level"]
    search_fields = ["slug", "name", "synonyms__text"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["members"]
    inlines = [SynonymInline, RelationInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "parent", "description"]}),
        ("Intake", {"fields": ["unit", "reference_intake", "upper_limit", "iu_per_unit"]}),
        ("Caution", {"fields": ["caution", "caution_level"]}),
        ("Group (from supplement facts)", {"fields": ["members", "min_members"], "classes": ["collapse"]}),
    ]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(TagRelation)
class TagRelationAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "polarity", "strength", "grade", "citation_list"]
    list_filter = ["polarity", "grade", "source"]
    search_fields = ["source__name", "target__name", "summary"]
    autocomplete_fields = ["source", "target"]

    @admin.display(description="citations")
    def citation_list(self, obj: TagRelation) -> str:
        return ", ".join(obj.citations or [])
