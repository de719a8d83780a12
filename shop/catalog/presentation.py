"""How the store presents a product: its form (drops, tablets...), its label colour and its image.

Pure functions of a product's name, serving size and first nutrient, shared by the label drawing
command (`draw_labels`), the shop's filters and the product image fallback.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.templatetags.static import static

FORMS = {
    "liquid": "Liquid",
    "tablets": "Tablets",
    "capsules": "Capsules",
    "powder": "Powder",
    "topical": "Skin care",
    "accessory": "Accessories",
}

_FORM_WORDS = [
    ("capsules", r"capsule|softgel"),
    ("tablets", r"tablet"),
    ("powder", r"scoop|packet|stick|cups? per bath|\bpowder\b|\bmix\b"),
    ("liquid", r"\btsp\b|\bml\b|drops|liquid"),
    ("topical", r"apply|cream|gel|sunscreen"),
]

# Label colours by main nutrient; products without one get a colour from their name.
NUTRIENT_COLOURS = {
    "magnesium": "#0b6e6e",
    "iron": "#9c3d2e",
    "potassium": "#6a4c93",
    "calcium": "#3a6ea5",
    "sodium": "#2f7d5b",
    "zinc": "#56657a",
    "vitamin-d": "#c98a0b",
    "vitamin-b12": "#b0365b",
    "folate": "#3f8f3a",
    "vitamin-b6": "#8a5a2b",
    "vitamin-c": "#d2691e",
}
SPARE_COLOURS = ["#4a6fa5", "#7a5c99", "#2e7d6b", "#a0522d", "#5c6f2e", "#8b3a62", "#35618f"]

IMAGE_DIR = "shop/products"


def dosage_form(name: str, serving_size: str = "") -> str:
    """One of FORMS' keys, from the serving size first (it says how the product is taken), then the name."""
    for text in (serving_size.lower(), name.lower()):
        for form, pattern in _FORM_WORDS:
            if re.search(pattern, text):
                return form
    return "accessory"


def label_colour(name: str, nutrient: str = "") -> str:
    """The label colour: the main nutrient's, or a stable pick from the name."""
    if nutrient in NUTRIENT_COLOURS:
        return NUTRIENT_COLOURS[nutrient]
    return SPARE_COLOURS[sum(map(ord, name)) % len(SPARE_COLOURS)]


def image_name(slug: str) -> str:
    return f"{IMAGE_DIR}/{slug}.svg"


@lru_cache(maxsize=1024)
def _drawn(slug: str) -> bool:
    return (Path(settings.BASE_DIR) / "shop" / "static" / image_name(slug)).is_file()


def product_image(image_url: str, slug: str) -> str:
    """The product's own image, else its drawn label when one was committed, else ""."""
    if image_url:
        return image_url
    return static(image_name(slug)) if _drawn(slug) else ""
