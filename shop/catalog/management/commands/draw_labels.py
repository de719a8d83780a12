"""draw_labels: write an SVG label for every product (run once after load_demo; the files are committed)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from shop.catalog.labels import label_svg
from shop.catalog.models import Product
from shop.catalog.presentation import FORMS, dosage_form, image_name, label_colour


class Command(BaseCommand):
    help = "Draw an SVG label for each product into shop/static/shop/products/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "shop" / "static"))

    def handle(self, *args: Any, out: str, **options: Any) -> None:
        products = Product.objects.select_related("brand").prefetch_related("nutrients")
        for product in products:
            form = dosage_form(product.name, product.serving_size)
            first = next(iter(product.nutrients.all()), None)
            svg = label_svg(
                name=product.name,
                brand=product.brand.name if product.brand else "",
                form=form,
                form_label=FORMS[form],
                colour=label_colour(product.name, first.code if first else ""),
            )
            path = Path(out) / image_name(product.slug)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(svg, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"drew {len(products)} label(s) into {Path(out) / 'shop' / 'products'}"))
