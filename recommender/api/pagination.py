"""Page-number pagination: ?page=, ?page_size= up to MAX_PAGE_SIZE, with count/next/previous/results.

Every list view of the plugin names this class itself, so a host with DRF's defaults (no paginator) works;
the sizes come from `RECOMMENDER["PAGE_SIZE"]` and `["MAX_PAGE_SIZE"]`, read on each request.
"""

from rest_framework.pagination import PageNumberPagination

from recommender.conf import recommender_settings


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return int(recommender_settings.PAGE_SIZE)

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return int(recommender_settings.MAX_PAGE_SIZE)
