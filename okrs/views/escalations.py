"""Placeholder until this page is built (step 4 work in progress)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def page(request, **kwargs):
    return HttpResponse("")


urlpatterns = [
    path("escalations/<int:pk>/acknowledge/", page, name="escalation_acknowledge"),
    path("escalations/<int:pk>/resolve/", page, name="escalation_resolve"),
]
