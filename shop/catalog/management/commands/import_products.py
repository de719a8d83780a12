"""import_products FILE [--dry-run]: all-or-nothing CSV import with every bad row listed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.catalog.importing import import_products


class Command(BaseCommand):
    help = "Import products from CSV (sku,name,brand,...,nutrients,tags). A file with any bad row writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing.")

    def handle(self, *args: Any, file: str, dry_run: bool, **options: Any) -> None:
        try:
            with open(file, encoding="utf-8-sig", newline="") as stream:
                result = import_products(stream, dry_run=dry_run)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from exc
        for line, message in result.warnings:
            self.stderr.write(f"warning: line {line}: {message}")
        if result.errors:
            for line, message in result.errors:
                self.stderr.write(f"error: line {line}: {message}")
            raise CommandError(f"{len(result.errors)} bad row(s); nothing was imported.")
        if dry_run:
            self.stdout.write(f"dry run: {len(result.rows)} row(s) are valid; nothing was written.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"imported {result.created} new, {result.updated} updated product(s).")
            )
