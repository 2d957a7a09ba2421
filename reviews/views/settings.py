"""Placeholder until this page is built (step 4 work in progress)."""

urlpatterns: list = []
