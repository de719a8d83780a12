from html import unescape

from django import template
from django.utils.html import strip_tags
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from shop.content.markdown import render

register = template.Library()


@register.filter
def markdown(body: str) -> SafeString:
    """Render an article body."""
    return render(body)


@register.filter
def excerpt(body: str, words: int = 30) -> str:
    """The opening words of an article as plain text (headings and markup dropped)."""
    text = " ".join(line.strip() for line in unescape(strip_tags(render(body))).splitlines() if len(line.split()) > 6)
    return Truncator(text).words(words)


@register.filter
def reading_minutes(body: str) -> int:
    """Minutes to read at about 220 words a minute."""
    return max(1, round(len(body.split()) / 220))
