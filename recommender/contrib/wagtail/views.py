"""Admin views behind the editor panel: pin a product on a page, remove a pin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.models import Page

from recommender.contrib.wagtail import services
from recommender.contrib.wagtail.forms import PinForm
from recommender.contrib.wagtail.selectors import wagtail_page_pins, wagtail_page_preview


def editable_page(request: HttpRequest, page_id: int) -> Page:
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    return page


def back_to_editor(page: Page) -> HttpResponse:
    return redirect(reverse("wagtailadmin_pages:edit", args=[page.pk]) + "#tab-recommendations")


def pin(request: HttpRequest, page_id: int) -> HttpResponse:
    """Choose a product and a position; the page's list is refreshed after commit."""
    page = editable_page(request, page_id)
    form = PinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.wagtail_page_pin(page=page, product=data["product"], position=data["position"])
        messages.success(request, _("Pinned on “%(title)s”.") % {"title": page.title})
        return back_to_editor(page)
    context: dict[str, Any] = {
        "page": page,
        "form": form,
        "pins": wagtail_page_pins(page=page),
        "preview": wagtail_page_preview(page=page),
        "page_title": _("Pin a product on “%(title)s”") % {"title": page.title},
        "header_icon": "pick",
    }
    return TemplateResponse(request, "recommender_wagtail/pin.html", context)


@require_POST
def unpin(request: HttpRequest, page_id: int, placement_id: int) -> HttpResponse:
    page = editable_page(request, page_id)
    services.wagtail_page_unpin(page=page, placement_id=placement_id)
    messages.success(request, _("Pin removed."))
    return back_to_editor(page)
