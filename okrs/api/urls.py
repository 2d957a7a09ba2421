"""OKR API routes; each module keeps its own ``urlpatterns``."""

from django.urls import include, path

urlpatterns = [
    path("", include("okrs.api.cycles")),
    path("", include("okrs.api.objectives")),
    path("", include("okrs.api.key_results")),
    path("", include("okrs.api.check_ins")),
    path("", include("okrs.api.initiatives")),
    path("", include("okrs.api.kpis")),
    path("", include("okrs.api.alignment")),
    path("", include("okrs.api.escalations")),
    path("", include("okrs.api.imports")),
    path("", include("okrs.api.exports")),
]
