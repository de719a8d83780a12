from django import template
from django.utils.safestring import SafeString

from shop.content.markdown import render

register = template.Library()


@register.filter
def markdown(body: str) -> SafeString:
    """Render an article body."""
    return render(body)
