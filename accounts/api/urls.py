"""People-side API routes; each module keeps its own ``urlpatterns``."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api.tokens")),
    path("", include("accounts.api.people")),
    path("", include("accounts.api.inbox")),
    path("", include("accounts.api.webhooks")),
    path("", include("accounts.api.imports")),
]
