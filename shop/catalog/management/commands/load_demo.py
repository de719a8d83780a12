"""load_demo: taxonomy, catalog and articles from fixtures/; safe to run again."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from recommender.dirty import refresh_batch
from recommender.services.taxonomy import taxonomy_load
from shop.catalog.importing import import_products
from shop.content.models import Article


def read_article(path: Path) -> tuple[str, str]:
    """Title from the first '# ' heading, body the rest."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return line[2:].strip(), "\n".join(lines[i + 1 :]).strip()
    return path.stem.replace("-", " ").capitalize(), "\n".join(lines).strip()


class Command(BaseCommand):
    help = "Load the demo taxonomy, catalog and articles (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fixtures", default=str(Path(settings.BASE_DIR) / "fixtures"))

    def handle(self, *args: Any, fixtures: str, **options: Any) -> None:
        root = Path(fixtures)
        with transaction.atomic(), refresh_batch():
            tags, relations = taxonomy_load(data=json.loads((root / "taxonomy.json").read_text(encoding="utf-8")))
            with open(root / "catalog.csv", encoding="utf-8", newline="") as stream:
                result = import_products(stream)
            if result.errors:
                raise CommandError("; ".join(f"line {line}: {msg}" for line, msg in result.errors))
            articles = sorted((root / "articles").glob("*.md"))
            for path in articles:
                title, body = read_article(path)
                Article.objects.update_or_create(slug=path.stem, defaults={"title": title, "body": body})
        self.stdout.write(
            self.style.SUCCESS(
                f"demo loaded: {tags} tags, {relations} relations, "
                f"{len(result.rows)} products, {len(articles)} articles"
            )
        )
