"""Role permissions: the groups `merchandiser` and `marketing` (created by a data migration), or staff."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

MERCHANDISER = "merchandiser"
MARKETING = "marketing"


def in_role(user: Any, *groups: str) -> bool:
    """Staff, or a member of one of these groups."""
    if not (user and user.is_authenticated):
        return False
    return bool(user.is_staff or user.groups.filter(name__in=groups).exists())


class ReadOrMerchandiser(BasePermission):
    """Anyone may read; merchandisers and staff may write."""

    message = "Only merchandisers or staff may change products."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or in_role(request.user, MERCHANDISER)


class ReadOrMarketing(BasePermission):
    """Anyone may read; marketing and staff may write."""

    message = "Only marketing or staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or in_role(request.user, MARKETING)


class PreviewRole(BasePermission):
    """Marketing, merchandisers and staff may preview lists for any text."""

    message = "Only marketing, merchandisers or staff may preview."

    def has_permission(self, request: Request, view: Any) -> bool:
        return in_role(request.user, MARKETING, MERCHANDISER)
