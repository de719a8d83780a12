"""Content pages for marketing: their tags, what shoppers will see, a refresh, external articles, embedding.

The views here are thin: a permission check, a selector or a service, a template. Preview and
refresh need change permission on content pages; registering an external article needs add
permission. A URL is fetched through `recommender.fetch`, which refuses internal addresses.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from recommender.admin.pickers import ProductPickerMixin
from recommender.fetch import FetchError, fetch_article
from recommender.links import linkable, validate_page_url
from recommender.models import ArticleLink, ContentPage, PageTag
from recommender.selectors import recommendations_for_page, recommendations_for_text
from recommender.services.pages import external_page_register, page_tags_override
from recommender.services.refresh import page_refresh
from recommender.text.clean import plain_text

PREVIEW_LIMIT = 6


class PageTagInline(admin.TabularInline):
    """The page's tags with weights; any row edited here becomes manual and overrides extraction."""

    model = PageTag
    extra = 0
    fields = ["tag", "weight", "mentions", "source"]
    readonly_fields = ["mentions", "source"]
    autocomplete_fields = ["tag"]
    verbose_name_plural = "Tags (edit a weight to override extraction; 0 or below keeps a tag off the page)"


class ArticleLinkInline(ProductPickerMixin, admin.TabularInline):
    """Products marketing links to the page by hand: pinned in the page's list and the product's."""

    model = ArticleLink
    extra = 0
    fields = ["product", "position", "campaign", "starts_at", "ends_at"]
    raw_id_fields = ["product"]
    verbose_name_plural = "Linked products (pinned at their position)"


class ExternalArticleForm(forms.Form):
    """An article on another site: give its URL to fetch it, or paste its title and text."""

    url = forms.URLField(
        required=False,
        label="Article URL",
        max_length=500,
        assume_scheme="https",
        validators=[validate_page_url],
        help_text="Fetched by the server (public http or https addresses only). With pasted text, only recorded.",
    )
    title = forms.CharField(required=False, max_length=300)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 14, "cols": 90}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("text"):
            if not data.get("title"):
                self.add_error("title", "A pasted article needs a title.")
        elif not data.get("url"):
            raise forms.ValidationError("Give the article's URL, or paste its title and text.")
        return data


def embed_snippet(request: HttpRequest, page: ContentPage) -> str:
    """The script tag an external page uses to show the widget; empty when the page has no address."""
    url = linkable(page.url)
    if url is None:
        return ""
    page_url = request.build_absolute_uri(url)
    script = request.build_absolute_uri(static("recommender/widget.js"))
    return format_html('<script src="{}" data-page-url="{}" async></script>', script, page_url)


@admin.register(ContentPage)
class ContentPageAdmin(admin.ModelAdmin):
    list_display = ["title", "tag_list", "source", "published", "analysed_at"]
    list_filter = ["source", "published", "page_tags__tag"]
    search_fields = ["title", "slug", "url"]
    readonly_fields = ["content_hash", "analysed_at", "created_at", "updated_at"]
    inlines = [PageTagInline, ArticleLinkInline]
    change_form_template = "admin/recommender/contentpage/change_form.html"
    change_list_template = "admin/recommender/contentpage/change_list.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("page_tags__tag")

    @admin.display(description="tags (weight)")
    def tag_list(self, obj: ContentPage) -> str:
        rows = sorted(obj.page_tags.all(), key=lambda r: -r.weight)[:6]
        return format_html_join(
            ", ", '<span title="{}">{} ({})</span>', ((r.source, r.tag.name, f"{r.weight:.2f}") for r in rows)
        )

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("add-external/", wrap(self.external_view), name="recommender_contentpage_external"),
            path("<path:object_id>/preview/", wrap(self.preview_view), name="recommender_contentpage_preview"),
            path("<path:object_id>/refresh/", wrap(self.refresh_view), name="recommender_contentpage_refresh"),
            *super().get_urls(),
        ]

    def _page_to_change(self, request: HttpRequest, object_id: str) -> ContentPage:
        page = get_object_or_404(ContentPage, pk=object_id) if object_id.isdigit() else None
        if page is None:
            raise Http404
        if not self.has_change_permission(request, page):
            raise PermissionDenied
        return page

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The widget exactly as shoppers get it, with the tags behind it."""
        page = self._page_to_change(request, object_id)
        context = self._context(
            request,
            f"Preview: {page.title}",
            original=page,
            recommendations=recommendations_for_page(page=page, limit=PREVIEW_LIMIT),
            page_tags=page.page_tags.select_related("tag").order_by("-weight"),
        )
        return TemplateResponse(request, "admin/recommender/contentpage/preview.html", context)

    def refresh_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Recompute the page's list now, rather than waiting for the next change."""
        return require_POST(self._refresh)(request, object_id)

    def _refresh(self, request: HttpRequest, object_id: str) -> HttpResponse:
        page = self._page_to_change(request, object_id)
        count = page_refresh(page_id=page.pk)
        self.log_change(request, page, "Refreshed the recommendation list.")
        self.message_user(request, f"“{page.title}” refreshed: {count} products in its list.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:recommender_contentpage_change", args=[page.pk]))

    def external_view(self, request: HttpRequest) -> HttpResponse:
        """Register an article from another site by URL or pasted text; "Preview" shows its list unsaved."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ExternalArticleForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            if not data["text"]:
                try:
                    fetched = fetch_article(data["url"])
                except FetchError as exc:
                    form.add_error("url", exc.reason)
                    fetched = None
                if fetched:
                    data.update(url=fetched.url, title=fetched.title or data["url"], text=fetched.text)
            if not form.errors and "_preview" in request.POST:
                preview = recommendations_for_text(title=data["title"], text=data["text"], limit=PREVIEW_LIMIT)
            elif not form.errors:
                page = external_page_register(title=data["title"], text=data["text"], url=data["url"])
                self.log_addition(request, page, [{"added": {}}])
                self.message_user(request, f"“{page.title}” registered; its list is being computed.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:recommender_contentpage_change", args=[page.pk]))
        context = self._context(request, "Add external article", form=form, recommendations=preview)
        return TemplateResponse(request, "admin/recommender/contentpage/external.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        page = ContentPage.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        extra = dict(extra_context or {})
        if page is not None and self.has_change_permission(request, page):
            extra.update(can_preview=True, embed_snippet=embed_snippet(request, page))
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request: HttpRequest, obj: ContentPage, form: Any, change: bool) -> None:
        """Title and text are stored sanitised, as every other way in stores them (markup-only text is empty)."""
        obj.title, obj.text = plain_text(obj.title), plain_text(obj.text)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PageTag:
            super().save_formset(request, form, formset, change)
            return
        rows = formset.save(commit=False)
        page_tags_override(page=form.instance, rows=rows, deleted=formset.deleted_objects)
