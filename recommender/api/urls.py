"""API routes: /api/v1/..., the OpenAPI schema and Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from recommender.api import views

v1 = [
    path("pages/", views.PageListView.as_view(), name="page-list"),
    path("pages/<slug:slug>/recommendations/", views.PageRecommendationsView.as_view(), name="page-recommendations"),
    path("recommendations/", views.RecommendationsByUrlView.as_view(), name="recommendations-by-url"),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
]

urlpatterns = [
    path("v1/", include((v1, "recommender-api"))),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
