"""The fast paths of recommender.text find exactly what the straightforward IGNORECASE matching finds.

The lexicon matches its case-insensitive synonyms case-sensitively in `text.lower()`, and its
case-sensitive ones with the word boundary checked after the first character; the context rules
read lowercased ASCII windows without IGNORECASE. Each is compared here with the plain version:
IGNORECASE over the text itself, the boundary before the synonym, IGNORECASE over the window.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import string
import sys
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.text import extract
from recommender.text.clean import normalise
from recommender.text.extract import extract_tags
from recommender.text.lexicon import Lexicon, Match, SynonymEntry, _pattern, compile_lexicon

RLS = "restless-legs-syndrome"
ENTRIES = [
    SynonymEntry("magnesium", "magnesium"),
    SynonymEntry("Mg", "magnesium", case_sensitive=True),
    SynonymEntry("magnesium citrate", "magnesium-citrate"),
    SynonymEntry("iron", "iron"),
    SynonymEntry("cast iron", "iron", excludes=True),
    SynonymEntry("Fe", "iron", case_sensitive=True, needs_context=True),
    SynonymEntry("zinc", "zinc"),
    SynonymEntry("restless legs", RLS),
    SynonymEntry("Willis-Ekbom disease", RLS),
    SynonymEntry("RLS", RLS, case_sensitive=True, needs_context=True),
    SynonymEntry("5 \u00b5g", "microgram-dose"),
    SynonymEntry("vitamin k", "vitamin-k"),
    SynonymEntry("concentrace\u00ae", "trace-minerals"),
    SynonymEntry("25(OH)D", "vitamin-d"),
    SynonymEntry("stra\u00dfe", "street"),
    SynonymEntry("\u03c3\u03af\u03b4\u03b7\u03c1\u03bf\u03c2", "iron-greek"),
    SynonymEntry("caf\u00e9", "coffee"),
    SynonymEntry("-free", "free-of"),
    SynonymEntry("\u01c6emal", "digraph"),
]
TRICKY = [
    "\u0130",  # İ: lowercases to two characters
    "\u0131",  # ı: IGNORECASE pairs it with "i"
    "\u017f",  # ſ: IGNORECASE pairs it with "s"
    "\u212a",  # Kelvin sign: lowercases to "k"
    "\u00b5",  # micro sign: IGNORECASE pairs it with "μ"
    "\u03a3",  # Σ: lowercases to "ς" at the end of a word
    "\u03c2",
    "\u03c3",
    "\u1e9e",  # ẞ: lowercases to "ß", which IGNORECASE leaves alone
    "\u00df",
    "\u00c9",
    "\u00e9",
    "\u01c4",
    "\u01c5",
    "\u0345",
    "\u00ae",
    "\u00a0",
    "\u200d",
    "\u0301",
    "\U0001f642",
    "_",
]


@functools.cache
def reference_pattern(words: tuple[str, ...], flags: int) -> re.Pattern[str] | None:
    return _pattern(words, flags)


def reference_finditer(lexicon: Lexicon, text: str) -> list[Match]:
    """IGNORECASE over the text itself, then the case-sensitive synonyms: what the lexicon did before."""
    found = []
    for lookup, flags, key in ((lexicon.by_lower, re.IGNORECASE, str.lower), (lexicon.by_exact, 0, str)):
        pattern = reference_pattern(tuple(lookup), flags)
        for m in pattern.finditer(text) if pattern else ():
            entry = lookup.get(key(m.group(0)))
            if entry is not None:
                found.append(Match(entry.tag, m.start(), m.end(), entry.needs_context, entry.excludes))
    return found


def reference_context(text: str, match: Match) -> tuple[str, str, extract._Rules]:
    before = text[max(0, match.start - extract._LOOKBEHIND) : match.start]
    return before, text[match.end : match.end + 40], extract._ANY_CASE


LEXICON = compile_lexicon(ENTRIES)
WORDS = sorted({e.text for e in ENTRIES} | {normalise(e.text) for e in ENTRIES})
RULE_TEXT = (
    "no not non never without avoid avoiding free of instead rather than isn't don't doesn't skip lacking "
    "steer clear stay away need for take use do does should must shouldn't taking any extra more the high-dose "
    "that which contain includes containing with added supplements within same time together before for 2"
)
RULE_WORDS = RULE_TEXT.split(" ")
PIECES = st.one_of(
    st.sampled_from(WORDS + RULE_WORDS),
    st.sampled_from(WORDS + RULE_WORDS).map(str.upper),
    st.sampled_from(WORDS + RULE_WORDS).map(str.title),
    st.sampled_from(TRICKY),
    st.text(max_size=4),
)
SEPARATORS = st.sampled_from(["", " ", " ", "  ", "\n", "-", ". ", ", ", "(", ")", "'"])
TEXTS = st.lists(st.tuples(PIECES, SEPARATORS), max_size=40).map(lambda parts: "".join(p + s for p, s in parts))


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_lexicon_finds_what_ignorecase_matching_finds(text: str) -> None:
    for t in (text, normalise(text)):
        assert list(LEXICON.finditer(t)) == reference_finditer(LEXICON, t)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.lists(PIECES, max_size=4).map(" ".join), st.sampled_from([20, 1500]))
def test_extract_tags_matches_the_straightforward_extraction(text: str, title: str, window: int) -> None:
    fast = extract_tags(LEXICON, title=title, text=text, context_window=window)
    plain = dataclasses.replace(LEXICON, lowered=None, sensitive=_pattern(LEXICON.by_exact, 0))
    with mock.patch.object(extract, "_context", reference_context):
        reference = extract_tags(plain, title=title, text=text, context_window=window)
    assert list(fast.items()) == list(reference.items())


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


def test_every_cased_character_is_matched_as_ignorecase_would() -> None:
    """Each character with a case, and each letter `re` folds specially, against every way a synonym letter compiles.

    A one-letter synonym lands in a character set with the other one-letter ones; a longer one stays a literal.
    """
    letters = (
        string.ascii_lowercase + string.digits + "\u00e9\u00df\u03c3\u03c2\u03bc\u03b9\u03b2\u01c6\u00ae\u03c9\u00e5"
    )
    entries = [SynonymEntry(k, f"one-{k}") for k in letters] + [SynonymEntry(f"{k}q", f"two-{k}") for k in letters]
    lexicons = [compile_lexicon(entries), compile_lexicon([*entries, SynonymEntry("\u0131q", "dotless")])]
    cased = [c for c in map(chr, range(sys.maxunicode + 1)) if c.lower() != c or c.upper() != c] + TRICKY
    for lexicon in lexicons:
        for char in cased:
            for text in (char, f"{char}q", f"-{char}q {char}Q {char}{char}q"):
                assert list(lexicon.finditer(text)) == reference_finditer(lexicon, text), (hex(ord(char)), text)


def test_text_with_a_character_that_folds_differently_is_matched_with_ignorecase() -> None:
    assert LEXICON.lowers_like_ignorecase("Magnesium, zinc and iron: 5 \u03bcg, caf\u00e9, STRASSE.")
    for char in ("\u0130", "\u03a3", "\u00b5"):
        assert not LEXICON.lowers_like_ignorecase(f"Magnesium {char}")
    assert [m.tag for m in LEXICON.finditer("\u0130ron and iron")] == ["iron"]
    dotless = compile_lexicon([*ENTRIES, SynonymEntry("\u0131ron", "dotless")])
    assert not dotless.lowers_like_ignorecase("IRON")
    assert [m.tag for m in dotless.finditer("IRON")] == ["iron"]


def test_a_final_capital_sigma_is_matched_as_ignorecase_would() -> None:
    """ "AΣ B".lower() is "aς b", which "aσ b" does not match; IGNORECASE matches it, and the lookup then drops it."""
    lexicon = compile_lexicon([SynonymEntry("a\u03c3 b", "sigma"), SynonymEntry("b", "b")])
    for text in ("A\u03a3 B", "A\u03a3B b", "\u03a3 b"):
        assert list(lexicon.finditer(text)) == reference_finditer(lexicon, text)


@pytest.mark.parametrize("text", ["Magnesium. Avo\u0131d iron.", "Magnesium. AVO\u0130D IRON.", "W\u0131thout iron."])
def test_a_window_with_a_letter_ignorecase_folds_is_read_with_ignorecase(text: str) -> None:
    """IGNORECASE reads "ı" and "İ" as "i", so these deny the iron; lowercased, they would not."""
    assert extract_tags(LEXICON, title="", text=text)["iron"].weight == -1.0
    [iron] = [m for m in LEXICON.finditer(text) if m.tag == "iron"]
    assert extract.advises_against(text, iron) == (not text.startswith("W"))
    assert extract.is_negated(text, iron)
