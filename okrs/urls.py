"""OKR pages of an organisation's host. Each view module carries its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("okrs.views.check_ins")),
    path("", include("okrs.views.explorer")),
    path("", include("okrs.views.objective_page")),
    path("", include("okrs.views.alignment_decisions")),
    path("", include("okrs.views.editing")),
    path("", include("okrs.views.escalations")),
    path("", include("okrs.views.kpis")),
    path("", include("okrs.views.health")),
    path("", include("okrs.views.settings")),
    path("", include("okrs.views.imports")),
    path("", include("okrs.views.comments")),
    path("", include("okrs.views.templates")),
]
