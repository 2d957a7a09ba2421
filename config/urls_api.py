"""The integration API on an organisation's host (D8): /api/v1/ plus its OpenAPI schema
and documentation pages (served from local static files, drf-spectacular-sidecar)."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

# Swagger UI and Redoc inject <style> elements and style attributes at run time, so their two pages
# (and only those) allow inline styles; scripts stay 'self' (the split view serves Swagger UI's
# start-up script as a file). Redoc starts its search index in a blob: worker.
DOCS_POLICY = {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]}
docs_csp = csp_update(DOCS_POLICY)
# Redoc's sidebar footer ("API docs by Redocly") shows its logo from Redocly's CDN; an image,
# allowed on that page only (no script or style comes from there).
redoc_csp = csp_update({**DOCS_POLICY, "img-src": ["https://cdn.redoc.ly"]})

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
    path("api/docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("api/redoc/", redoc_csp(SpectacularRedocView.as_view(url_name="api_schema")), name="api_redoc"),
]
