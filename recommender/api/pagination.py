"""Page-number pagination: ?page=, ?page_size= up to 500, with count/next/previous/results."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
