"""Optional: the OpenAPI schema, Swagger UI and ReDoc, for a host that has none of its own.

    path("api/", include("recommender.api.docs_urls")),  # /api/schema/, /api/docs/, /api/redoc/

The schema covers the whole project (drf-spectacular's view), which is why this is not part of
`recommender.api.urls`. It needs `REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"`.
The pages load their scripts from the host's static files when it installs `drf_spectacular_sidecar` (the
`openapi` extra) and sets `SWAGGER_UI_DIST` / `REDOC_DIST` to "SIDECAR" (the demo store does); the split
Swagger view serves its start-up script as a file, so a strict Content-Security-Policy can allow it.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
