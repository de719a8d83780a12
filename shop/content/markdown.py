"""A tiny Markdown subset for the demo articles: headings, lists and paragraphs, escaped.

The seed article comes as plain text whose section titles are short lines without closing
punctuation; those are shown as headings too.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _flush_list(items: list[str], out: list[str]) -> None:
    if items:
        out.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")
        items.clear()


def looks_like_heading(line: str) -> bool:
    """A short line that does not end like a sentence: 'What Is Restless Legs Syndrome?' is a heading too."""
    return len(line) <= 90 and (line[-1] not in ".!:;,") and (line[-1] != "?" or line.istitle() or len(line) < 60)


def render(body: str) -> SafeString:
    """HTML for a body whose lines are headings ('# '), list items ('- ') or paragraphs."""
    out: list[str] = []
    items: list[str] = []
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("- "):
            items.append(line[2:])
            continue
        _flush_list(items, out)
        if not line:
            continue
        level = len(line) - len(line.lstrip("#"))
        if 0 < level <= 6 and line[level : level + 1] == " ":
            tag = f"h{min(level + 1, 6)}"
            out.append(f"<{tag}>{escape(line[level + 1 :])}</{tag}>")
        elif looks_like_heading(line):
            out.append(f"<h2>{escape(line)}</h2>")
        else:
            out.append(f"<p>{escape(line)}</p>")
    _flush_list(items, out)
    return mark_safe("\n".join(out))  # noqa: S308 - every piece of text above is escaped
