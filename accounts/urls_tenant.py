"""Pages about people on an organisation's host: inbox and people settings."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.views.inbox")),
    path("", include("accounts.views.api_tokens")),
    path("", include("accounts.views.people")),
    path("", include("accounts.views.teams")),
    path("", include("accounts.views.notification_settings")),
    path("", include("accounts.views.imports")),
    path("", include("accounts.views.webhooks")),
    path("", include("accounts.views.logo")),
]
