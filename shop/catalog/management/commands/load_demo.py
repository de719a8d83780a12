"""load_demo: the taxonomy shipped in the app (as `load_taxonomy` loads it, keeping the store's edits), then the
catalog and articles from fixtures/; safe to run again.

`--with-users` also creates (or resets) one staff user per role, `demo-merchandiser` and `demo-marketing`,
with a generated password printed once; it refuses to run when DEBUG is off.
"""

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from recommender.dirty import refresh_batch
from recommender.services.taxonomy import taxonomy_load
from recommender.taxonomy import shipped
from shop.catalog.importing import import_products
from shop.content.models import Article

ROLES = ("merchandiser", "marketing")


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
        parser.add_argument(
            "--with-users",
            action="store_true",
            help="Also create a staff user per role (merchandiser, marketing) with a generated password; "
            "only with DEBUG on.",
        )

    def handle(self, *args: Any, fixtures: str, with_users: bool = False, **options: Any) -> None:
        if with_users and not settings.DEBUG:
            raise CommandError("--with-users is for local demos only: it refuses to run with DEBUG off.")
        root = Path(fixtures)
        with transaction.atomic(), refresh_batch():
            tags, relations = taxonomy_load(data=shipped(), keep_edits=True)
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
                f"demo loaded: {tags} tags, {relations} relations, {result.valid} products, {len(articles)} articles"
            )
        )
        if with_users:
            self.create_users()

    def create_users(self) -> None:
        """One staff user per role, in the role's group; the same generated password for both, printed once."""
        password = secrets.token_urlsafe(12)
        for role in ROLES:
            group = Group.objects.filter(name=role).first()
            if group is None:
                raise CommandError(f"The {role!r} group is missing: run `manage.py migrate` first.")
            user, _ = User.objects.get_or_create(username=f"demo-{role}", defaults={"is_staff": True})
            user.is_staff = True
            user.set_password(password)
            user.save()
            user.groups.set([group])
            self.stdout.write(f"user demo-{role} (group {role})")
        self.stdout.write(f"password for both: {password}")
        self.stdout.write("Log in at /admin/ with either; run `load_demo --with-users` again for a new password.")
