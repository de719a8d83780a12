"""recommend --text-file F [--title T] [--limit N] [--json]: what a page with this text would show."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from recommender.selectors import recommendations_for_text


class Command(BaseCommand):
    help = "Print the recommendation list for arbitrary text; writes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--text-file", required=True, help="Text, Markdown or HTML file ('-' for stdin).")
        parser.add_argument("--title", default="")
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print the API's JSON object.")

    def handle(self, *args: Any, text_file: str, title: str, limit: int | None, as_json: bool, **o: Any) -> None:
        try:
            text = Path(text_file).read_text(encoding="utf-8") if text_file != "-" else self.stdin_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {text_file}: {exc}") from exc
        payload = recommendations_for_text(title=title, text=text, limit=limit)
        if as_json:
            self.stdout.write(json.dumps(payload, cls=DjangoJSONEncoder, indent=2))
            return
        if not payload["items"]:
            self.stdout.write("No relevant products for this text.")
        for item in payload["items"]:
            product = item["product"]
            self.stdout.write(f"{item['rank']}. {product['name']} ({product['brand']})  score {item['score']:.3f}")
            for reason in item["reasons"]:
                self.stdout.write(f"     - {reason['label']}")
            for caution in item["cautions"]:
                self.stdout.write(f"     ! {caution['text']}")
        self.stdout.write(f"\n* {payload['disclaimer']}")

    def stdin_text(self) -> str:
        import sys

        return sys.stdin.read()
