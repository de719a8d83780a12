"""Label artwork for a product, drawn as a small SVG from its name, brand, form and colour.

`manage.py draw_labels` writes one file per product under shop/static/shop/products/; the files are
committed, so the store never fetches an image at run time.
"""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape

SIZE = 240


def _lines(name: str, width: int, most: int = 4) -> list[str]:
    lines = textwrap.wrap(name, width=width, break_long_words=True) or [""]
    if len(lines) > most:
        lines = [*lines[: most - 1], textwrap.shorten(" ".join(lines[most - 1 :]), width=width, placeholder="…")]
    return lines


def _text(lines: list[str], *, x: float, y: float, size: float, colour: str, weight: int = 700) -> str:
    spans = "".join(
        f'<tspan x="{x:g}" dy="{0 if i == 0 else size * 1.15:g}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return (
        f'<text x="{x:g}" y="{y:g}" text-anchor="middle" font-family="system-ui, -apple-system, Segoe UI, Roboto, '
        f'sans-serif" font-size="{size:g}" font-weight="{weight}" fill="{colour}">{spans}</text>'
    )


def _container(form: str, colour: str) -> tuple[str, tuple[float, float, float, float]]:
    """The container's shapes and the label box (x, y, width, height) on it."""
    if form == "liquid":  # dropper bottle
        shapes = (
            f'<rect x="104" y="14" width="32" height="30" rx="6" fill="#2b3338"/>'
            f'<rect x="98" y="40" width="44" height="14" rx="3" fill="#3b454b"/>'
            f'<path d="M88 54h64l22 26v132a14 14 0 0 1-14 14H80a14 14 0 0 1-14-14V80z" fill="{colour}" '
            f'fill-opacity=".88"/>'
        )
        return shapes, (73, 92, 94, 112)
    if form == "powder":  # tub
        shapes = (
            f'<rect x="44" y="48" width="152" height="26" rx="8" fill="#2b3338"/>'
            f'<rect x="50" y="72" width="140" height="146" rx="14" fill="{colour}" fill-opacity=".9"/>'
        )
        return shapes, (60, 90, 120, 110)
    if form == "topical":  # tube
        shapes = (
            f'<rect x="100" y="186" width="40" height="34" rx="5" fill="#2b3338"/>'
            f'<path d="M70 20h100l-8 170H78z" fill="{colour}" fill-opacity=".88"/>'
        )
        return shapes, (82, 52, 76, 112)
    if form == "accessory":  # box
        shapes = f'<rect x="40" y="48" width="160" height="160" rx="10" fill="{colour}" fill-opacity=".9"/>'
        return shapes, (54, 78, 132, 110)
    # tablets and capsules: a jar
    shapes = (
        f'<rect x="66" y="26" width="108" height="30" rx="6" fill="#2b3338"/>'
        f'<rect x="60" y="54" width="120" height="164" rx="16" fill="{colour}" fill-opacity=".9"/>'
    )
    return shapes, (68, 84, 104, 112)


def label_svg(*, name: str, brand: str, form: str, form_label: str, colour: str) -> str:
    """A square SVG label: the container for the form, and a label with the brand, name and form."""
    shapes, (x, y, w, h) = _container(form, colour)
    centre = x + w / 2
    chars = max(8, int(w / 8.2))
    lines = _lines(name, chars)
    size = 12.5 if len(lines) <= 3 else 11
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}" '
        f'role="img" aria-label="{escape(name, {chr(34): "&quot;"})}">'
        f'<rect width="{SIZE}" height="{SIZE}" rx="18" fill="#f1f5f6"/>'
        f"{shapes}"
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="6" fill="#fff"/>'
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="6" rx="3" fill="{colour}"/>'
        + _text(_lines(brand.upper(), chars + 4, 1), x=centre, y=y + 19, size=8.5, colour="#5b6b73", weight=600)
        + _text(lines, x=centre, y=y + 38, size=size, colour="#1d2a30")
        + _text([form_label], x=centre, y=y + h - 9, size=9, colour=colour, weight=600)
        + "</svg>\n"
    )
