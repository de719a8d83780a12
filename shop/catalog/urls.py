from django.urls import path

from shop.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.ProductListView.as_view(), name="product-list"),
    path("<slug:slug>/", views.ProductDetailView.as_view(), name="product-detail"),
]
