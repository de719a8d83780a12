"""load_taxonomy: the taxonomy that ships inside the app (recommender/taxonomy/taxonomy.json); idempotent.

A store's own edits are kept: a tag, synonym or relation that already exists is left as the store has
it, and only what is missing is added (see `taxonomy_load`). `--overwrite` brings every shipped row back
to the file's values instead (rows the store added itself are never touched either way).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from recommender.dirty import refresh_batch
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import TAXONOMY_PATH, shipped


class Command(BaseCommand):
    help = "Load the taxonomy shipped with the app; keeps the store's own edits unless --overwrite."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Reset the shipped tags, synonyms and relations to the file's values (the store's edits are lost).",
        )

    def handle(self, *args: Any, overwrite: bool = False, **options: Any) -> None:
        with refresh_batch():
            tags, relations = taxonomy_load(data=shipped(), keep_edits=not overwrite)
        self.stdout.write(
            self.style.SUCCESS(f"taxonomy loaded from {TAXONOMY_PATH.name}: {tags} tags, {relations} relations")
        )
