"""Review API routes; each module keeps its own ``urlpatterns``."""

from django.urls import include, path

urlpatterns = [
    path("", include("reviews.api.review_cycles")),
    path("", include("reviews.api.reviews")),
]
