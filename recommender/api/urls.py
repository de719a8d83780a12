"""The plugin's API routes: `v1/...` under the namespace `recommender-api`.

A host includes them under a prefix of its choice (`path("api/", include("recommender.api.urls"))`). The
project-wide OpenAPI schema, Swagger UI and ReDoc are a separate, optional include: `recommender.api.docs_urls`.
"""

from django.urls import path

from recommender.api import events, placements, products, views

app_name = "recommender-api"

# One level of routes, each under `v1/` (an include per version would cost every request a resolver more).
urlpatterns = [
    path("v1/pages/", views.PageListView.as_view(), name="page-list"),
    path("v1/pages/<str:slug>/recommendations/", views.PageRecommendationsView.as_view(), name="page-recommendations"),
    path("v1/recommendations/", views.RecommendationsByUrlView.as_view(), name="recommendations-by-url"),
    path("v1/recommendations/preview/", views.PreviewView.as_view(), name="recommendations-preview"),
    path("v1/tags/", views.TagListView.as_view(), name="tag-list"),
    path("v1/products/", products.ProductListView.as_view(), name="product-list"),
    path("v1/products/<str:sku>/", products.ProductDetailView.as_view(), name="product-detail"),
    path("v1/products/<str:sku>/tags/", products.ProductTagsView.as_view(), name="product-tags"),
    path("v1/products/<str:sku>/related/", products.ProductRelatedView.as_view(), name="product-related"),
    path("v1/products/<str:sku>/articles/", products.ProductArticlesView.as_view(), name="product-articles"),
    path("v1/events/", events.EventView.as_view(), name="events"),
    path("v1/placements/", placements.PlacementListView.as_view(), name="placement-list"),
    path("v1/placements/<str:pk>/", placements.PlacementDetailView.as_view(), name="placement-detail"),
]
