"""Placeholder until this page is built (step 4 work in progress)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path


@login_required
def page(request, **kwargs):
    return HttpResponse("")


urlpatterns = [
    path("objectives/new/", page, name="objective_create"),
    path("objectives/<int:pk>/edit/", page, name="objective_edit"),
    path("objectives/<int:pk>/align/", page, name="objective_align"),
    path("objectives/<int:pk>/key-results/new/", page, name="key_result_create"),
    path("key-results/<int:pk>/edit/", page, name="key_result_edit"),
    path("okrs/quality-preview/", page, name="quality_preview"),
    path("okrs/alignment-search/", page, name="alignment_search"),
]
