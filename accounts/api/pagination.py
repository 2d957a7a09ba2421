"""Cursor pagination on every list: stable under inserts, constant cost for deep pages."""

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    # Newest first by default; lists may override (ordering must end in a unique field).
    ordering = "-id"
