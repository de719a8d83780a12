"""Turn HTML or Markdown into plain text that the matcher can read.

Pure functions: no ORM, no settings.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

_REPLACEMENTS = [(dash, "-") for dash in "\u2010\u2011\u2012\u2013\u2014\u2212"] + [
    ("\u2018", "'"),
    ("\u2019", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
]
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^|\s)[#>*_`~]+|[*_`~]+(?=\s|$|[.,;:!?])", re.MULTILINE)
_BLOCK_TAGS = re.compile(r"</?(p|div|br|li|h[1-6]|tr|section|article|ul|ol|table)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v]+")
_TAG_LIKE = re.compile(r"<(?=[a-zA-Z/!?])")
_PASSES = 4


def normalise(text: str) -> str:
    """NFKC (µ -> μ, ligatures), one kind of dash and quote, so synonyms match every spelling."""
    text = unicodedata.normalize("NFKC", text)
    for old, new in _REPLACEMENTS:  # str.replace is far faster than str.translate on long text
        if old in text:
            text = text.replace(old, new)
    return text


def _strip_once(markup: str) -> str:
    with_breaks = _BLOCK_TAGS.sub("\n", markup)
    return html.unescape(nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style"}))


def html_to_text(markup: str) -> str:
    """Strip every tag (script and style with their content), keeping block breaks as newlines.

    Decoding entities can bring markup back (`&lt;script&gt;` becomes `<script>`), so the text is stripped
    again while it looks like markup; what still does after a few passes loses its `<`. Stored text is
    therefore never markup, however many times it was encoded.
    """
    text = markup
    for _ in range(_PASSES):
        text = _strip_once(text)
        if not _TAG_LIKE.search(text):
            return text
    return _TAG_LIKE.sub("", text)


def markdown_to_text(markdown: str) -> str:
    """Drop Markdown link targets and emphasis marks, keep the words."""
    return _MD_MARKS.sub(r"\1", _MD_LINK.sub(r"\1", markdown))


def plain_text(source: str) -> str:
    """Plain, normalised text from HTML, Markdown or text.

    NUL is dropped: cleaning HTML drops it too, and PostgreSQL cannot store it.
    """
    source = source.replace("\x00", "")
    text = html_to_text(source) if "<" in source and ">" in source else source
    text = markdown_to_text(text)
    lines = (_SPACES.sub(" ", line).strip() for line in normalise(text).splitlines())
    return "\n".join(line for line in lines if line)
