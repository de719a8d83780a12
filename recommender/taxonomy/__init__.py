"""The taxonomy that ships inside the app: tags, synonyms, reference intakes, upper limits and relations.

`manage.py load_taxonomy` loads it (see `recommender.services.taxonomy.taxonomy_load` for how a store's own
edits are kept); tests, benchmarks and the demo read the same file through `TAXONOMY_PATH` / `shipped()`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TAXONOMY_PATH = Path(__file__).resolve().parent / "taxonomy.json"


def shipped() -> dict[str, Any]:
    """The shipped taxonomy as a dict (`{"tags": [...], "relations": [...]}`)."""
    data: dict[str, Any] = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))
    return data
