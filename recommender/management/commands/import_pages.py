"""import_pages PATH...: Markdown, HTML or text files become content pages (title from the first heading)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from recommender.dirty import refresh_batch
from recommender.models import ContentPage
from recommender.services.pages import page_upsert
from recommender.text.clean import plain_text

_HTML_TITLE = re.compile(r"<(?:h1|title)[^>]*>(.*?)</(?:h1|title)>", re.IGNORECASE | re.DOTALL)
SUFFIXES = {".md", ".markdown", ".html", ".htm", ".txt"}


def title_and_body(path: Path, text: str) -> tuple[str, str]:
    """The first Markdown heading, HTML <h1>/<title> or first line is the title; the rest is the body."""
    if path.suffix.lower() in {".html", ".htm"}:
        found = _HTML_TITLE.search(text)
        return (re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else path.stem), text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            return line.lstrip("#").strip(), "\n".join(lines[i + 1 :])
    return path.stem, ""


class Command(BaseCommand):
    help = "Create or update content pages from Markdown, HTML or text files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="Files, or folders to read *.md, *.html and *.txt from.")
        parser.add_argument("--base-url", default="/pages/", help="Canonical url prefix; the slug is appended.")
        parser.add_argument(
            "--source", choices=[c for c, _ in ContentPage.Source.choices], default=ContentPage.Source.EXTERNAL
        )

    def handle(self, *args: Any, paths: list[str], base_url: str, source: str, **options: Any) -> None:
        files = self.collect(paths)
        pages = []
        with transaction.atomic(), refresh_batch():
            for path in files:
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise CommandError(f"cannot read {path}: {exc}; nothing was imported") from exc
                title, body = title_and_body(path, text)
                slug = slugify(path.stem)[:200] or slugify(title)[:200]
                url = f"{base_url.rstrip('/')}/{slug}/"
                self.refuse_taken_slug(path, slug, url)
                self.refuse_long_title(path, title)
                try:
                    pages.append(page_upsert(url=url, slug=slug, title=title, text=body, source=source))
                except ValidationError as exc:
                    raise CommandError(f"{path}: url {url!r}: {' '.join(exc.messages)} Nothing was imported.") from exc
        for page in pages:
            self.stdout.write(f"{page.slug}: {page.title}")
        self.stdout.write(self.style.SUCCESS(f"imported {len(pages)} page(s); their lists refresh after commit."))

    def refuse_taken_slug(self, path: Path, slug: str, url: str) -> None:
        """A slug names one page: another page's slug is an error to fix, not a traceback."""
        other = ContentPage.objects.filter(slug=slug).exclude(url=url).first()
        if other is not None:
            raise CommandError(
                f"{path}: the slug {slug!r} is already used by the page at {other.url!r}; rename the file "
                "or use the --base-url of that page. Nothing was imported."
            )

    def refuse_long_title(self, path: Path, title: str) -> None:
        """A title longer than its column (a file's first line can be a whole article) is an error, not a traceback."""
        limit = ContentPage._meta.get_field("title").max_length or 0
        length = len(plain_text(title))
        if length > limit:
            raise CommandError(
                f"{path}: the title (the first heading, or else the first line) is {length:,} characters long; "
                f"the limit is {limit}. Start the file with a heading line. Nothing was imported."
            )

    def collect(self, paths: list[str]) -> list[Path]:
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files += sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{raw} does not exist; nothing was imported")
        if not files:
            raise CommandError("no .md, .html or .txt files found")
        return files
