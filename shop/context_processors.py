"""Template context the store's layout needs on every page."""

from typing import Any

from django.http import HttpRequest

from shop.basket.basket import count


def store(request: HttpRequest) -> dict[str, Any]:
    return {"basket_count": count(request)}
