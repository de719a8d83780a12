"""The store's error pages."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.html import escape
from django.views import defaults


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 page; a request refused for its size says which limit it passed (an article pasted in the admin).

    The API answers these itself, in its JSON error format (`recommender.api.bodies`).
    """
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request is larger than {limit:,} bytes, the most this site takes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = str(exception)
    else:
        return defaults.bad_request(request, exception)
    details = {"title": "Bad Request (400)", "details": escape(message)}
    return HttpResponseBadRequest(defaults.ERROR_PAGE_TEMPLATE % details)
