"""recommender.text.clean: HTML/Markdown to plain, normalised text (pure, no database)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from recommender.text.clean import html_to_text, markdown_to_text, normalise, plain_text


def test_html_tags_are_stripped_and_script_and_style_content_dropped() -> None:
    markup = (
        "<html><head><style>.iron { color: red }</style></head><body>"
        "<h1>Magnesium and sleep</h1><p>Magnesium <b>is</b> discussed.</p>"
        "<script>var iron = 'zinc'; alert('potassium');</script>"
        "<p>Tom &amp; Jerry</p></body></html>"
    )
    text = plain_text(markup)
    assert "Magnesium and sleep" in text
    assert "Magnesium is discussed." in text
    assert "Tom & Jerry" in text
    for dropped in ("iron", "zinc", "potassium", "alert", "color", "<", ">"):
        assert dropped not in text


def test_html_block_tags_become_line_breaks() -> None:
    text = plain_text("<p>first</p><p>second</p><ul><li>third</li><li>fourth</li></ul>")
    assert text.splitlines() == ["first", "second", "third", "fourth"]


def test_html_to_text_drops_script_content() -> None:
    assert "secret" not in html_to_text("<div>visible<script>secret()</script></div>")
    assert "visible" in html_to_text("<div>visible<script>secret()</script></div>")


def test_markdown_links_and_emphasis_keep_only_the_words() -> None:
    md = "# Title\n\nSome **bold** and _em_ text with a [link text](https://example.com/iron) and ![alt](/img.png)."
    text = plain_text(md)
    assert text.splitlines()[0] == "Title"
    assert "Some bold and em text with a link text and alt." in text
    assert "example.com" not in text
    assert "*" not in text and "#" not in text


def test_markdown_to_text_keeps_link_text() -> None:
    assert markdown_to_text("see [the guide](http://x.test/a)") == "see the guide"


def test_plain_text_collapses_whitespace_and_blank_lines() -> None:
    assert plain_text("  a   b\t c \n\n\n   d  ") == "a b c\nd"


def test_plain_text_of_plain_text_is_unchanged() -> None:
    assert plain_text("Magnesium, iron and zinc.") == "Magnesium, iron and zinc."


def test_nfkc_micro_sign_becomes_greek_mu() -> None:
    micro, mu = "5 \u00b5g", "5 \u03bcg"
    assert normalise(micro) == normalise(mu) == mu
    assert plain_text(micro) == plain_text(mu)


def test_nfkc_ligatures_and_fullwidth() -> None:
    assert normalise("\ufb01sh o\ufb03ce") == "fish office"
    assert normalise("\uff2d\uff47") == "Mg"  # fullwidth Mg


def test_dashes_and_quotes_are_unified() -> None:
    assert normalise("Willis\u2013Ekbom \u2014 \u2212 \u2011") == "Willis-Ekbom - - -"
    assert normalise("\u2018a\u2019 \u201cb\u201d") == "'a' \"b\""


def test_normalise_is_idempotent() -> None:
    for sample in ("5 \u00b5g", "Willis\u2013Ekbom", "\ufb01", "plain"):
        once = normalise(sample)
        assert normalise(once) == once
        assert unicodedata.is_normalized("NFKC", once)


ENCODED = [
    "<p>Zinc &lt;script&gt;alert(1)&lt;/script&gt; helps.</p>",
    "<p>Zinc &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; helps.</p>",
    "<p>Zinc &#60;img src=x onerror=alert(1)&#62; helps.</p>",
    "<div>&lt;svg/onload=alert(1)&gt; Zinc</div>",
    "<p>" + "&amp;" * 8 + "lt;script&gt;x</p>",
]


@pytest.mark.parametrize("markup", ENCODED)
def test_decoded_entities_never_bring_markup_back(markup: str) -> None:
    """Regression (issue 15): entities were decoded after stripping, so `&lt;script&gt;` was stored as `<script>`."""
    text = plain_text(markup)
    assert not re.search(r"<[a-zA-Z/!?]", text), text
    assert "<script" not in text.lower()


def test_a_less_than_sign_in_prose_is_kept() -> None:
    assert plain_text("<p>Take 5 &lt; 10 mg &amp; rest.</p>") == "Take 5 < 10 mg & rest."
