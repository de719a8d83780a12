"""The basket page and the add / update forms."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from shop.basket import basket
from shop.catalog.models import Product


class QuantityForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=0, max_value=basket.MAX_QUANTITY, initial=1)


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return HttpResponseRedirect(target if target and ok else default)


def basket_page(request: HttpRequest) -> HttpResponse:
    lines = basket.lines(request)
    total = sum((line.total for line in lines), start=0)
    currency = lines[0].product.currency if lines else "USD"
    return render(request, "shop/basket.html", {"lines": lines, "total": total, "currency": currency})


@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    form = QuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That quantity could not be added.")
        return _back(request, reverse("basket:page"))
    product = get_object_or_404(Product, sku=form.cleaned_data["sku"], active=True)
    if not product.in_stock:
        messages.error(request, f"{product.name} is out of stock.")
        return _back(request, product.get_absolute_url())
    basket.set_quantity(request, sku=product.sku, quantity=form.cleaned_data["quantity"] or 1, add=True)
    messages.success(request, f"Added {product.name} to your basket.")
    return _back(request, reverse("basket:page"))


@require_POST
def basket_update(request: HttpRequest) -> HttpResponse:
    form = QuantityForm(request.POST)
    if form.is_valid():
        basket.set_quantity(request, sku=form.cleaned_data["sku"], quantity=form.cleaned_data["quantity"])
    return HttpResponseRedirect(reverse("basket:page"))
