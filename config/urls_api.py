"""The integration API on an organisation's host (D8): /api/v1/ plus its OpenAPI schema
and documentation pages (served from local static files, drf-spectacular-sidecar)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path(
        "api/v1/",
        include(
            [
                path("", include("accounts.api.urls")),
                path("", include("okrs.api.urls")),
                path("", include("reviews.api.urls")),
            ]
        ),
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
]
