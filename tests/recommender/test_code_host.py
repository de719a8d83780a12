"""A host whose products have no `sku` field (they identify by `code`) passes the API and admin paths."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_code_host_api_and_admin() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.codehost.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "tests.codehost.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["products"] == ["W-1", "W-2", "W-3"]  # the `code` is what the API calls sku
    assert seen["detail"] == "W-1" and seen["missing"] == 404
    assert seen["list"] == ["W-1", "W-2"]
    assert seen["tags"] == seen["related"] == seen["articles"] == 200
    assert seen["patch"] == 200 and seen["in_stock_after"] is False and seen["patch_anonymous"] == 403
    assert seen["placement"] == [201, "W-2"] and seen["placement_product"] is True
    assert seen["placement_unknown"] == 400 and seen["placement_list"] == ["W-2"]
    assert seen["admin_changelist"] == [200, True]
    assert seen["admin_search"] == 200 and seen["admin_change"] == 200
