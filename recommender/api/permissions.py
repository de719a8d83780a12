"""API permissions: the same Django model permissions the admin enforces.

Roles are the groups `merchandiser` and `marketing` (created by data migrations) with the model
permissions their work needs. The API asks for those permissions, never for `is_staff`: a staff flag
only lets a user into the admin, where Django checks the same permissions again. Superusers have
every permission; a staff user in no group has none.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from recommender.conf import product_model_label

MERCHANDISER = "merchandiser"
MARKETING = "marketing"


def product_perm(action: str) -> str:
    """`app_label.<action>_<model>` for the host's product model."""
    model = apps.get_model(product_model_label())
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def has_perms(user: Any, perms: list[str]) -> bool:
    """An authenticated, active user holding every one of these model permissions."""
    return bool(user and user.is_authenticated and user.has_perms(perms))


class ModelPermission(BasePermission):
    """Reads are open; each writing method needs the permissions in `write_perms`."""

    message = "You do not have permission to do this."

    def write_perms(self, method: str) -> list[str]:
        raise NotImplementedError

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or has_perms(request.user, self.write_perms(request.method or ""))


class ProductWrite(ModelPermission):
    """Stock feeds: PATCH needs the host's `change_<product>` (merchandisers, or a feed user given it)."""

    message = "Only merchandisers may change products."

    def write_perms(self, method: str) -> list[str]:
        return [product_perm("change")]


class ProductTagsWrite(ModelPermission):
    """Replacing a product's manual tags adds, changes and deletes product tags (merchandisers)."""

    message = "Only merchandisers may change product tags."

    def write_perms(self, method: str) -> list[str]:
        actions = ["add", "change", "delete"]
        return [f"recommender.{action}_producttag" for action in actions]


class PageWrite(ModelPermission):
    """Registering or updating a content page (marketing)."""

    message = "Only marketing may register pages."

    def write_perms(self, method: str) -> list[str]:
        return ["recommender.add_contentpage", "recommender.change_contentpage"]


PLACEMENT_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class PlacementAccess(BasePermission):
    """Placements are marketing's tool: reading needs `view_placement`, each write its own permission."""

    message = "Only marketing may manage placements."

    def has_permission(self, request: Request, view: Any) -> bool:
        action = PLACEMENT_ACTIONS.get(request.method or "", "view")
        return has_perms(request.user, [f"recommender.{action}_placement"])


class PreviewAccess(BasePermission):
    """Previewing a list for any text: anyone who may view stored recommendations (both roles)."""

    message = "Only marketing or merchandisers may preview."

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_perms(request.user, ["recommender.view_recommendation"])
