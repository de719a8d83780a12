"""Model fields of the plugin's own."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import models


class JSONTextField(models.TextField):  # type: ignore[type-arg]
    """JSON stored as text: for computed lists that are only ever read and written whole.

    PostgreSQL parses every `jsonb` value written into its binary form, and a full refresh writes about
    130 MB of product-page lists; kept as text, COPYing them costs less than half as much. Query inside
    such a value with a `JSONField` instead (the lists' ids are one: `RelatedState.related_ids`).
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else orjson.loads(value)

    def to_python(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else orjson.dumps(value).decode()

    def value_to_string(self, obj: models.Model) -> Any:
        """The value itself, as `JSONField` gives it: `dumpdata` writes the JSON, not a string of it."""
        return self.value_from_object(obj)
