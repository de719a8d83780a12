"""Every admin add/change/delete view and every admin action against every role.

Anonymous, shopper account, merchandiser, marketing and a staff user in no group, over the
recommender's models and the demo Product. Allowed means the form or confirmation is served (and, for
an action, offered in the changelist); refused means 403 or the login page, and a refused POST changes
nothing. The API matrix is `tests/recommender/api/test_roles.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recommender.models import (
    ArticleLink,
    ContentPage,
    DailyStat,
    Placement,
    ProductTag,
    Recommendation,
    Tag,
    TagRelation,
)
from shop.catalog.models import Product

ROLES = ["anonymous", "shopper", "merchandiser", "marketing", "staff"]
MODELS: list[type[Model]] = [
    ContentPage,
    Placement,
    ArticleLink,
    ProductTag,
    Recommendation,
    Tag,
    TagRelation,
    DailyStat,
    Product,
]

# model -> view -> roles that may use it ("change" means the form can be saved, not only read)
ALLOWED: dict[type[Model], dict[str, set[str]]] = {
    ContentPage: {"add": {"marketing"}, "change": {"marketing"}, "delete": set()},
    Placement: {"add": {"marketing"}, "change": {"marketing"}, "delete": {"marketing"}},
    ArticleLink: {"add": {"marketing"}, "change": {"marketing"}, "delete": {"marketing"}},
    ProductTag: {"add": {"merchandiser"}, "change": {"merchandiser"}, "delete": {"merchandiser"}},
    Recommendation: {"add": set(), "change": set(), "delete": set()},
    Tag: {"add": set(), "change": set(), "delete": set()},
    TagRelation: {"add": set(), "change": set(), "delete": set()},
    DailyStat: {"add": set(), "change": set(), "delete": set()},
    Product: {"add": set(), "change": {"merchandiser"}, "delete": set()},
}

# model -> action -> roles offered it
ACTIONS: dict[type[Model], dict[str, set[str]]] = {
    ContentPage: {"delete_selected": set()},
    Placement: {"delete_selected": {"marketing"}},
    ArticleLink: {"delete_selected": {"marketing"}},
    ProductTag: {
        "delete_selected": {"merchandiser"},
        "approve_selected": {"merchandiser"},
        "reject_selected": {"merchandiser"},
    },
    Recommendation: {"delete_selected": set()},
    Tag: {"delete_selected": set()},
    TagRelation: {"delete_selected": set()},
    DailyStat: {"delete_selected": set()},
    Product: {
        "delete_selected": set(),
        "recommender_add_tag": {"merchandiser"},
        "recommender_approve_suggestions": {"merchandiser"},
        "recommender_remove_tag": {"merchandiser"},
        "recommender_suggest_from_text": {"merchandiser"},
    },
}


def client_as(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    user = User.objects.create_user(f"{role}-admin", password="pw-123-secret", is_staff=role != "shopper")
    if role in {"merchandiser", "marketing"}:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def one_of_each() -> dict[type[Model], Model]:
    """A row of every model; the demo has no placement, article link or daily stat, so those are made."""
    page = ContentPage.objects.get(slug="how-to-treat-restless-leg-syndrome")
    product = Product.objects.get(sku="TM-CTD-8OZ")
    rows: dict[type[Model], Model] = {
        Placement: Placement.objects.create(page=page, product=product, action="bury"),
        ArticleLink: ArticleLink.objects.create(page=page, product=product),
        DailyStat: DailyStat.objects.create(day=timezone.localdate(), page=page, product=product),
    }
    for model in MODELS:
        rows.setdefault(model, model._default_manager.order_by("pk").first())  # type: ignore[arg-type]
    return rows


def url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def refused(response: Any) -> bool:
    login = response.status_code == 302 and "/login/" in response["Location"]
    return response.status_code == 403 or login


ACTION_PAGES = ("delete_selected_confirmation", "admin/recommender/action_form")


def action_refused(response: Any) -> bool:
    """Not run: no confirmation or intermediate form served (Django ignores an action not offered)."""
    names = [template.name or "" for template in response.templates or []]
    return not any(page in name for name in names for page in ACTION_PAGES)


def snapshot(model: type[Model], row: Model) -> tuple[int, dict[str, Any] | None]:
    fresh = model._default_manager.filter(pk=row.pk).first()
    return model._default_manager.count(), model_to_dict(fresh) if fresh else None


def check_views(client: Client, role: str, model: type[Model], row: Model) -> list[str]:
    wrong = []
    before = snapshot(model, row)
    add = client.get(url(model, "add"))
    if role in ALLOWED[model]["add"]:
        wrong += [] if add.status_code == 200 else [f"add {add.status_code}"]
    elif not refused(add) or not refused(client.post(url(model, "add"), {})):
        wrong.append(f"add {add.status_code}")
    change = client.get(url(model, "change", row.pk))
    if role in ALLOWED[model]["change"]:
        wrong += (
            [] if change.status_code == 200 and b'name="_save"' in change.content else [f"change {change.status_code}"]
        )
    elif b'name="_save"' in change.content or not refused(client.post(url(model, "change", row.pk), {})):
        wrong.append(f"change {change.status_code}")
    delete = client.get(url(model, "delete", row.pk))
    if role in ALLOWED[model]["delete"]:
        wrong += [] if delete.status_code == 200 else [f"delete {delete.status_code}"]
    elif not refused(delete) or not refused(client.post(url(model, "delete", row.pk), {"post": "yes"})):
        wrong.append(f"delete {delete.status_code}")
    if snapshot(model, row) != before:
        wrong.append("a refused write changed the row")
    return [f"{model.__name__} {w}" for w in wrong]


def offered_actions(client: Client, model: type[Model]) -> set[str]:
    response = client.get(url(model, "changelist"))
    if response.status_code != 200 or not response.context or not response.context.get("action_form"):
        return set()
    return {name for name, _ in response.context["action_form"].fields["action"].choices if name}


def check_actions(client: Client, role: str, model: type[Model], row: Model) -> list[str]:
    wrong = []
    offered = offered_actions(client, model)
    for action, allowed in ACTIONS[model].items():
        if (role in allowed) != (action in offered):
            wrong.append(f"{model.__name__} action {action}: offered={action in offered}")
        if role in allowed:
            continue
        before = snapshot(model, row)
        data = {"action": action, "_selected_action": [row.pk], "post": "yes", "index": 0}
        response = client.post(url(model, "changelist"), data)
        if not action_refused(response) or snapshot(model, row) != before:
            wrong.append(f"{model.__name__} action {action} ran: {response.status_code}")
    return wrong


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_view_and_action_by_role(demo: None, role: str) -> None:
    client = client_as(role)
    rows = one_of_each()
    wrong = []
    for model in MODELS:
        wrong += check_views(client, role, model, rows[model])
        wrong += check_actions(client, role, model, rows[model])
    assert wrong == [], f"{role}: {wrong}"


def test_allowed_actions_run(demo: None) -> None:
    """The matrix's 'offered' is real: a merchandiser's approve runs, marketing's delete_selected deletes."""
    rows = one_of_each()
    tag = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).first()
    assert tag is not None
    ProductTag.objects.filter(pk=tag.pk).update(status=ProductTag.Status.SUGGESTED)
    data = {"action": "approve_selected", "_selected_action": [tag.pk], "index": 0}
    assert client_as("merchandiser").post(url(ProductTag, "changelist"), data).status_code == 302
    tag.refresh_from_db()
    assert tag.status == ProductTag.Status.APPROVED
    placement = rows[Placement]
    data = {"action": "delete_selected", "_selected_action": [placement.pk], "post": "yes", "index": 0}
    assert client_as("marketing").post(url(Placement, "changelist"), data).status_code == 302
    assert not Placement.objects.filter(pk=placement.pk).exists()
