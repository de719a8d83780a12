"""Production settings (issue 15): `check --deploy` is clean, and every page sends a CSP it can live under.

The policy allows no inline script, so each page the storefront, the widget and the admin serve must load
its scripts from files (a `<script>` with `src`, or a JSON data block that never runs).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from recommender.models import ContentPage

RLS = "how-to-treat-restless-leg-syndrome"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def production_env() -> dict[str, str]:
    # Not the test session's own variables (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which deploy refuses).
    unset = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="shop.example")
    return env


def test_check_deploy_is_clean_at_warning_level() -> None:
    """Regression: drf-spectacular's W001 on ProductSkuField made `check --deploy --fail-level WARNING` fail."""
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    done = subprocess.run(
        command, cwd=Path(settings.BASE_DIR), env=production_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNINGS:" not in done.stdout and "ERRORS:" not in done.stdout, done.stdout


def inline_scripts(html: str) -> list[str]:
    """Scripts a strict CSP would block: no src, and not a JSON data block."""
    return [
        body.strip()[:80]
        for attrs, body in SCRIPT.findall(html)
        if "src=" not in attrs and "application/json" not in attrs and body.strip()
    ]


def test_every_page_sends_the_policy_and_runs_no_inline_script(demo: None) -> None:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-123-secret"))
    page = ContentPage.objects.get(slug=RLS)
    urls = [
        "/",
        f"/learn/{RLS}/",
        "/products/",
        "/api/docs/",
        "/admin/",
        f"/admin/recommender/dailystat/?page={page.pk}",
        f"/admin/recommender/contentpage/{page.pk}/change/",
        f"/admin/recommender/contentpage/{page.pk}/preview/",
        "/admin/catalog/product/",
        "/admin/recommender/producttag/import/",
    ]
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, url
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], url
        assert inline_scripts(response.content.decode()) == [], url
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("attribute", ["onclick", "onload", "onchange", "onsubmit"])
def test_templates_have_no_inline_event_handlers(attribute: str) -> None:
    for root in (Path(settings.BASE_DIR) / "shop" / "templates", Path(settings.BASE_DIR) / "recommender" / "templates"):
        for template in root.rglob("*.html"):
            assert f"{attribute}=" not in template.read_text(encoding="utf-8"), template
