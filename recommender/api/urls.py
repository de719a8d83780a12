"""The plugin's API routes: `v1/...` under the namespace `recommender-api`.

A host includes them under a prefix of its choice (`path("api/", include("recommender.api.urls"))`). The
project-wide OpenAPI schema, Swagger UI and ReDoc are a separate, optional include: `recommender.api.docs_urls`.
"""

from django.urls import include, path

from recommender.api import events, placements, products, views

v1 = [
    path("pages/", views.PageListView.as_view(), name="page-list"),
    path("pages/<str:slug>/recommendations/", views.PageRecommendationsView.as_view(), name="page-recommendations"),
    path("recommendations/", views.RecommendationsByUrlView.as_view(), name="recommendations-by-url"),
    path("recommendations/preview/", views.PreviewView.as_view(), name="recommendations-preview"),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
    path("products/", products.ProductListView.as_view(), name="product-list"),
    path("products/<str:sku>/", products.ProductDetailView.as_view(), name="product-detail"),
    path("products/<str:sku>/tags/", products.ProductTagsView.as_view(), name="product-tags"),
    path("products/<str:sku>/related/", products.ProductRelatedView.as_view(), name="product-related"),
    path("products/<str:sku>/articles/", products.ProductArticlesView.as_view(), name="product-articles"),
    path("events/", events.EventView.as_view(), name="events"),
    path("placements/", placements.PlacementListView.as_view(), name="placement-list"),
    path("placements/<str:pk>/", placements.PlacementDetailView.as_view(), name="placement-detail"),
]

urlpatterns = [
    path("v1/", include((v1, "recommender-api"))),
]
