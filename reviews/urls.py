"""Review pages of an organisation's host. Each view module carries its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("reviews.views.reviews")),
    path("", include("reviews.views.settings")),
]
