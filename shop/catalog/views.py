"""Product list and product pages."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView

from shop.catalog.models import Product


class ProductListView(ListView):
    template_name = "shop/product_list.html"
    context_object_name = "products"
    paginate_by = 48

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.filter(active=True).select_related("brand")


class ProductDetailView(DetailView):
    template_name = "shop/product_detail.html"
    context_object_name = "product"

    def get_object(self, queryset: Any = None) -> Product:
        return get_object_or_404(
            Product.objects.select_related("brand").prefetch_related("nutrients"), slug=self.kwargs["slug"], active=True
        )
