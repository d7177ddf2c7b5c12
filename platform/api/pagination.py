"""Pagination for every list: numbered pages with a capped size, or cursors for long, growing lists.

DRF reads `page_size=true` (or empty, or 0) as "the default size" and an empty `page` as page 1; here a
page size that is not a whole number from 1 up is a 422 on `/page_size`, and an empty `page` a 404 like any
other page that is not one.
"""

from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound, ValidationError


def page_size_of(paginator, request) -> int:
    raw = request.query_params.get(paginator.page_size_query_param)
    if raw is None:
        return paginator.page_size
    try:
        size = serializers.IntegerField(min_value=1).run_validation(raw)
    except ValidationError as error:
        raise ValidationError({paginator.page_size_query_param: error.detail}) from None
    return min(size, paginator.max_page_size)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        return page_size_of(self, request)

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound(self.invalid_page_message.format(page_number="", message="No page number."))
        return super().get_page_number(request, paginator)


class CursorPagination(pagination.CursorPagination):
    """Stable under inserts; the view's `cursor_ordering` (default: id) must be unique."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"

    def get_page_size(self, request):
        return page_size_of(self, request)

    def get_ordering(self, request, queryset, view):
        return (getattr(view, "cursor_ordering", self.ordering),)
