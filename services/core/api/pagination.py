"""Cursor pagination: stable under inserts, no page counting on large tables."""

from rest_framework.pagination import CursorPagination


class GatewayCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
