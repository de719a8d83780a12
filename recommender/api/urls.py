"""API routes: /api/v1/..., the OpenAPI schema, Swagger UI and ReDoc.

The docs pages load their scripts from the host's static files when it installs
`drf_spectacular_sidecar` and sets `SWAGGER_UI_DIST` / `REDOC_DIST` to "SIDECAR" (the demo store does); the
split Swagger view serves its start-up script as a file, so a strict Content-Security-Policy can allow it.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

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
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
