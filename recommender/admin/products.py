"""Product tagging in the host's product admin: an inline, list filters and bulk actions.

The plugin does not know the host's ProductAdmin, so it ships `ProductTaggingMixin`; a host adds it
in front of `admin.ModelAdmin`. Every write goes through `recommender.services.tagging`, and each
action is one transaction and one refresh, recorded in the admin history of the products it touched.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from recommender.dirty import refresh_batch
from recommender.models import ArticleLink, ProductTag, Tag
from recommender.selectors import cautions_for_product, disclaimer, related_articles_for, related_products_for
from recommender.services import tagging

PREVIEW_LIMIT = 6
PERM_ADD = "recommender.add_producttag"
PERM_CHANGE = "recommender.change_producttag"
PERM_DELETE = "recommender.delete_producttag"


class ProductTagInline(admin.TabularInline):
    """A product's tags with where each came from; suggestions are approved or rejected by their status."""

    model = ProductTag
    extra = 0
    fields = ["tag", "relevance", "source", "status", "created_by", "updated_at"]
    readonly_fields = ["source", "created_by", "updated_at"]
    autocomplete_fields = ["tag"]
    verbose_name = "recommendation tag"
    verbose_name_plural = "Recommendation tags (only approved tags count)"


class ProductArticleLinkInline(admin.TabularInline):
    """Marketing's manual product <-> article links, seen from the product."""

    model = ArticleLink
    extra = 0
    fields = ["page", "position", "campaign", "starts_at", "ends_at"]
    autocomplete_fields = ["page"]
    verbose_name_plural = "Linked articles (pinned in both lists)"


class TagFilter(admin.SimpleListFilter):
    """Products carrying a tag (any status)."""

    title = "recommendation tag"
    parameter_name = "rec_tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        used = Tag.objects.filter(product_tags__isnull=False).distinct().order_by("name")
        return [(t.slug, t.name) for t in used]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        return queryset.filter(pk__in=ProductTag.objects.filter(tag__slug=self.value()).values("product_id"))


class TagStatusFilter(admin.SimpleListFilter):
    """Products with a tag in this status; "untagged" finds products nothing recommends yet."""

    title = "tag status"
    parameter_name = "rec_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        statuses = [(value, f"has {label.lower()} tags") for value, label in ProductTag.Status.choices]
        return [*statuses, ("untagged", "no approved tags")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "untagged":
            approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).values("product_id")
            return queryset.exclude(pk__in=approved)
        if value in ProductTag.Status.values:
            return queryset.filter(pk__in=ProductTag.objects.filter(status=value).values("product_id"))
        return queryset


class TagChoiceForm(forms.Form):
    """The intermediate page of "Remove tag…": which tag."""

    tag = forms.ModelChoiceField(queryset=Tag.objects.order_by("name"))


class TagRelevanceForm(TagChoiceForm):
    """The intermediate page of "Add tag with relevance…"."""

    relevance = forms.FloatField(
        min_value=0.0, max_value=1.0, initial=1.0, help_text="From 0 to 1: how central the tag is to the product."
    )


def intermediate_form(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[Any], form_class: type[forms.Form], title: str
) -> forms.Form | TemplateResponse:
    """The bound, valid form when the page was submitted; otherwise the page that asks for it."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            return form
    else:
        form = form_class()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "objects": queryset,
        "opts": model_admin.opts,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
    }
    return TemplateResponse(request, "admin/recommender/action_form.html", context)


@admin.action(description="Add tag with relevance…")
def add_tag_action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
    form = intermediate_form(model_admin, request, queryset, TagRelevanceForm, "Add a tag to the selected products")
    if isinstance(form, TemplateResponse):
        return form
    tag, relevance = form.cleaned_data["tag"], form.cleaned_data["relevance"]
    count = tagging.product_tags_add(products=queryset, tag=tag, relevance=relevance, user=request.user)
    for product in queryset:
        model_admin.log_change(request, product, f"Added tag {tag.slug} with relevance {relevance:.2f}.")
    model_admin.message_user(request, f"Tag “{tag.name}” added to {count} products.", messages.SUCCESS)
    return None


@admin.action(description="Remove tag…")
def remove_tag_action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
    form = intermediate_form(model_admin, request, queryset, TagChoiceForm, "Remove a tag from the selected products")
    if isinstance(form, TemplateResponse):
        return form
    tag = form.cleaned_data["tag"]
    removed = tagging.product_tags_remove(products=queryset, tag=tag)
    for product in {row.product for row in removed}:
        model_admin.log_change(request, product, f"Removed tag {tag.slug}.")
    model_admin.message_user(request, f"Tag “{tag.name}” removed ({len(removed)} rows).", messages.SUCCESS)
    return None


@admin.action(description="Approve suggested tags")
def approve_suggestions_action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    rows = ProductTag.objects.filter(product__in=queryset, status=ProductTag.Status.SUGGESTED).select_related("tag")
    changed = tagging.product_tags_approve(rows=rows)
    for row in changed:
        model_admin.log_change(request, row.product, f"Approved suggested tag {row.tag.slug} ({row.source}).")
    model_admin.message_user(request, f"{len(changed)} suggested tags approved.", messages.SUCCESS)


@admin.action(description="Suggest tags from text")
def suggest_from_text_action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    found = tagging.products_text_suggest(products=queryset)
    for product, rows in found.items():
        if rows:
            slugs = ", ".join(row.tag.slug for row in rows)
            model_admin.log_change(request, product, f"Suggested tags from text: {slugs}.")
    total = sum(len(rows) for rows in found.values())
    model_admin.message_user(
        request, f"{total} tags suggested; they wait for approval (filter by “has suggested tags”).", messages.INFO
    )


# name -> (action, permissions it needs)
PRODUCT_ACTIONS = {
    "recommender_add_tag": (add_tag_action, [PERM_ADD, PERM_CHANGE]),
    "recommender_approve_suggestions": (approve_suggestions_action, [PERM_CHANGE]),
    "recommender_remove_tag": (remove_tag_action, [PERM_DELETE]),
    "recommender_suggest_from_text": (suggest_from_text_action, [PERM_ADD]),
}


class ProductTaggingMixin:
    """Add in front of a host's ProductAdmin: `class ProductAdmin(ProductTaggingMixin, admin.ModelAdmin)`."""

    recommender_inlines: list[type[admin.options.InlineModelAdmin]] = [ProductTagInline, ProductArticleLinkInline]
    change_form_template: ClassVar[str | None] = "admin/recommender/product_change_form.html"

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [*super().get_inlines(request, obj), *self.recommender_inlines]  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Deleting many products announces one refresh for all of them, not one per tag row."""
        with refresh_batch():
            super().delete_queryset(request, queryset)  # type: ignore[misc]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with refresh_batch():
            super().delete_model(request, obj)  # type: ignore[misc]

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        view = self.admin_site.admin_view(self.recommender_preview_view)  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_recommender_preview"
        return [path("<path:object_id>/recommender-preview/", view, name=name), *super().get_urls()]  # type: ignore[misc]

    def recommender_preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """What shoppers see on this product's page: related products and the articles to read."""
        product = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if product is None:
            raise Http404
        if not self.has_view_permission(request, product):  # type: ignore[attr-defined]
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "original": product,
            "title": f"Preview: {product}",
            "related": {
                "items": related_products_for(product=product, limit=PREVIEW_LIMIT),
                "disclaimer": disclaimer(),
            },
            "articles": related_articles_for(product=product, limit=PREVIEW_LIMIT),
            "cautions": cautions_for_product(product=product),
        }
        return TemplateResponse(request, "admin/recommender/product_preview.html", context)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [*super().get_list_filter(request), TagFilter, TagStatusFilter]  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.actions is None or IS_POPUP_VAR in request.GET:  # type: ignore[attr-defined]
            return actions
        for name, (func, perms) in PRODUCT_ACTIONS.items():
            if request.user.has_perms(perms):
                actions[name] = (func, name, func.short_description)  # type: ignore[attr-defined]
        return actions

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ProductTag:
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            return
        rows = formset.save(commit=False)
        tagging.product_tag_rows_save(rows=rows, deleted=formset.deleted_objects, user=request.user)
