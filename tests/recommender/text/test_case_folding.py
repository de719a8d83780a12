"""The fast paths of recommender.text find exactly what the straightforward IGNORECASE matching finds.

The context rules read lowercased ASCII windows without IGNORECASE; they are compared here with the
plain version, IGNORECASE over the window.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.text import extract
from recommender.text.extract import extract_tags
from recommender.text.lexicon import SynonymEntry, compile_lexicon

LEXICON = compile_lexicon([SynonymEntry("magnesium", "magnesium"), SynonymEntry("iron", "iron")])
RULE_TEXT = (
    "no not non never without avoid avoiding free of instead rather than isn't don't doesn't skip lacking "
    "steer clear stay away need for take use do does should must shouldn't taking any extra more the high-dose "
    "that which contain includes containing with added supplements within same time together before for 2"
)
RULE_WORDS = RULE_TEXT.split(" ")
SEPARATORS = st.sampled_from(["", " ", " ", "  ", "\n", "-", ". ", ", ", "(", ")", "'"])
ASCII_PIECES = st.one_of(
    st.sampled_from([*RULE_WORDS, "iron", "zinc"]).map(lambda w: w.upper() if len(w) % 3 == 0 else w.title()),
    st.sampled_from([*RULE_WORDS, "iron", "zinc"]),
    st.text(alphabet=st.characters(max_codepoint=127), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(ASCII_PIECES, SEPARATORS), max_size=15).map(lambda ps: "".join(p + s for p, s in ps)))
def test_lowercase_rules_read_ascii_as_ignorecase_rules_do(window: str) -> None:
    for rule in dataclasses.fields(extract._Rules):
        any_case, lowercase = getattr(extract._ANY_CASE, rule.name), getattr(extract._LOWERCASE, rule.name)
        assert bool(any_case.search(window)) == bool(lowercase.search(window.lower())), rule.name
        assert bool(any_case.match(window)) == bool(lowercase.match(window.lower())), rule.name


@pytest.mark.parametrize("text", ["Magnesium. Avo\u0131d iron.", "Magnesium. AVO\u0130D IRON.", "W\u0131thout iron."])
def test_a_window_with_a_letter_ignorecase_folds_is_read_with_ignorecase(text: str) -> None:
    """IGNORECASE reads "ı" and "İ" as "i", so these deny the iron; lowercased, they would not."""
    assert extract_tags(LEXICON, title="", text=text)["iron"].weight == -1.0
    [iron] = [m for m in LEXICON.finditer(text) if m.tag == "iron"]
    assert extract.advises_against(text, iron) == (not text.startswith("W"))
    assert extract.is_negated(text, iron)
