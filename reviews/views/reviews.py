"""Placeholder until this page is built (step 4 work in progress)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def page(request, **kwargs):
    return HttpResponse("")


urlpatterns = [path("reviews/", page, name="reviews"), path("reviews/<int:pk>/", page, name="review")]
