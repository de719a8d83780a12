"""import_products FILE [--dry-run] [--progress]: all-or-nothing CSV import with every bad row listed."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from shop.catalog.importing import ImportResult, import_products


class Command(BaseCommand):
    help = "Import products from CSV (sku,name,brand,...,nutrients,tags). A file with any bad row writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")
        parser.add_argument(
            "--progress", action="store_true", help="Show a progress bar on stderr even when it is not a terminal."
        )

    def handle(self, *args: Any, file: str, dry_run: bool, progress: bool, **options: Any) -> None:
        show = (progress or sys.stderr.isatty()) and options.get("verbosity", 1) > 0 and not dry_run
        try:
            with (
                open(file, "rb") as stream,
                tqdm(unit="row", desc="writing", disable=not show, file=sys.stderr) as bar,
            ):
                result = import_products(stream, dry_run=dry_run, progress=bar.update)
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        for line, message in result.warnings:
            self.stderr.write(f"warning: line {line}: {message}")
        if result.errors:
            for line, message in result.errors:
                self.stderr.write(f"error: line {line}: {message}")
            raise CommandError(f"{len(result.errors)} bad row(s); nothing was imported.")
        self.stdout.write(self.summary(result, dry_run=dry_run))

    def summary(self, result: ImportResult, *, dry_run: bool) -> str:
        kept = f"{result.untagged} label line(s) kept without a tag."
        if dry_run:
            return f"dry run: {result.valid} row(s) are valid; nothing was written. {kept}"
        imported = f"imported {result.created} new, {result.updated} updated product(s); {kept}"
        return str(self.style.SUCCESS(imported))
