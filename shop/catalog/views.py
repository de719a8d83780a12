"""Home, product list (search and filters) and product pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView

from recommender.models import Recommendation
from shop.catalog.models import NutrientAmount, Product
from shop.catalog.presentation import FORMS, dosage_form
from shop.content.models import Article

FEATURED = 8


def nutrient_label(code: str) -> str:
    return code.replace("-", " ").capitalize().replace("Vitamin d", "Vitamin D").replace(" b", " B")


class ShopFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.SearchInput(attrs={"placeholder": "Search"}))
    nutrient = forms.ChoiceField(required=False, label="Nutrient")
    form = forms.ChoiceField(required=False, label="Form", choices=[("", "Any form"), *FORMS.items()])
    in_stock = forms.BooleanField(required=False, label="In stock only")
    sort = forms.ChoiceField(
        required=False,
        label="Sort",
        choices=[("", "Name"), ("price", "Price, low to high"), ("-price", "Price, high to low")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = NutrientAmount.objects.filter(product__active=True).values_list("code", flat=True).distinct()
        choices = sorted((code, nutrient_label(code)) for code in set(codes))
        self.fields["nutrient"].choices = [("", "Any nutrient"), *choices]  # type: ignore[attr-defined]


def products_filtered(data: dict[str, Any]) -> list[Product]:
    """Active products matching the search words, nutrient and form, in the chosen order."""
    qs: QuerySet[Product] = Product.objects.filter(active=True).select_related("brand")
    for word in (data.get("q") or "").split():
        qs = qs.filter(Q(name__icontains=word) | Q(description__icontains=word) | Q(brand__name__icontains=word))
    if data.get("nutrient"):
        qs = qs.filter(nutrients__code=data["nutrient"])
    if data.get("in_stock"):
        qs = qs.filter(in_stock=True)
    if data.get("sort") in ("price", "-price"):
        qs = qs.order_by(data["sort"], "name")
    products = list(qs.distinct())
    if data.get("form"):
        products = [p for p in products if dosage_form(p.name, p.serving_size) == data["form"]]
    return products


class HomeView(TemplateView):
    template_name = "shop/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        listed = (
            Recommendation.objects.values("product_id").annotate(n=Count("id")).order_by("-n", "product_id")[:FEATURED]
        )
        ids = [row["product_id"] for row in listed]
        products = Product.objects.filter(pk__in=ids, active=True, in_stock=True).select_related("brand")
        featured = sorted(products, key=lambda p: ids.index(p.pk))
        if len(featured) < FEATURED:
            more = Product.objects.filter(active=True, in_stock=True).exclude(pk__in=ids).select_related("brand")
            featured += list(more[: FEATURED - len(featured)])
        articles = list(Article.objects.filter(published=True))
        lead = next((a for a in articles if a.slug == "how-to-treat-restless-leg-syndrome"), None) or (
            articles[0] if articles else None
        )
        return {
            **super().get_context_data(**kwargs),
            "lead": lead,
            "articles": [a for a in articles if a != lead],
            "featured": featured,
        }


class ProductListView(ListView):
    template_name = "shop/product_list.html"
    context_object_name = "products"
    paginate_by = 48

    def get_queryset(self) -> list[Product]:  # type: ignore[override]
        self.filter_form = ShopFilterForm(self.request.GET or None)
        data = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return products_filtered(data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        return {**context, "filter_form": self.filter_form, "filtered": bool(query), "query": query.urlencode()}


class ProductDetailView(DetailView):
    template_name = "shop/product_detail.html"
    context_object_name = "product"

    def get_object(self, queryset: Any = None) -> Product:
        return get_object_or_404(
            Product.objects.select_related("brand").prefetch_related("nutrients"), slug=self.kwargs["slug"], active=True
        )
