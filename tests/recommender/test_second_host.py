"""The plugin works in another host: its own product model and adapter, no `shop` installed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_minimal_host_gets_recommendations() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.minihost.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "tests.minihost.run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    names = [item["product"]["name"] for item in payload["items"]]
    # Reached through the condition -> magnesium relation; the untagged and the out-of-stock gadget are not shown.
    assert names == ["Mag Gadget"]
    item = payload["items"][0]
    assert item["product"]["price"] == "19.99"
    assert item["reasons"][0]["evidence"] == {"grade": "pilot", "citations": ["10.5664/jcsm.11206"]}
    assert "Food and Drug Administration" in payload["disclaimer"]


def test_recommender_imports_nothing_from_shop() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "recommender").rglob("*.py")
        if "from shop" in path.read_text() or "import shop" in path.read_text()
    ]
    assert offenders == []
