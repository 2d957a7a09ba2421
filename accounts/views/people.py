"""Placeholder until this page is built (step 4 work in progress)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def page(request, **kwargs):
    return HttpResponse("")


urlpatterns = [
    path("settings/", page, name="settings"),
    path("settings/teams/", page, name="settings_teams"),
    path("settings/cycles/", page, name="settings_cycles"),
    path("settings/okrs/", page, name="settings_okrs"),
    path("settings/notifications/", page, name="settings_notifications"),
    path("settings/reviews/", page, name="settings_reviews"),
]
