"""One compiled matcher over every tag's synonyms.

Case-insensitive synonyms share one pattern, case-sensitive ones ("Mg", not "mg") another; both
are alternations ordered longest first, so "magnesium citrate" wins over "magnesium" and an
excluding phrase ("cast iron") swallows the word it contains.

Speed (issue 16, `extract.mb_per_s`): `re` runs its matcher at every position of the text, so the
cost is per character, not per synonym. Two things keep that cost low:

- the case-insensitive synonyms are matched case-sensitively in `text.lower()`. With IGNORECASE,
  `re` cannot rule out an alternative by comparing its first character, so it enters every branch
  at every word start; without it, one comparison rules a branch out (2.5x faster). The result is the
  same whenever each character of the text lowercases to one character and IGNORECASE pairs it with
  a synonym letter exactly when its lower() is that letter (`folds_alike`): true of ASCII
  and of almost every letter, not of "İ", a final "Σ", or "ı" and "ſ" beside synonyms spelled with
  "i" or "s". A text with such a character is matched with IGNORECASE, as before: slower, same tags.
- the case-sensitive pattern starts with its synonyms' first characters and checks the word
  boundary after the first one, so `re` jumps from one capital letter to the next.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from recommender.text.clean import normalise

_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


@dataclass(frozen=True)
class SynonymEntry:
    """A surface form of a tag."""

    text: str
    tag: str
    case_sensitive: bool = False
    needs_context: bool = False
    excludes: bool = False  # "cast iron": matched so that the words inside it are not the tag


class Match(NamedTuple):
    """A synonym found in text (a named tuple: a long page has thousands, and it is quicker to make)."""

    tag: str
    start: int
    end: int
    needs_context: bool
    excludes: bool = False


@dataclass
class Lexicon:
    """Compiled patterns plus the surface-form -> entry maps they resolve through.

    `insensitive` (IGNORECASE, over the text itself) defines what a case-insensitive synonym match is;
    `lowered`, the same synonyms without IGNORECASE, finds the same matches in `text.lower()` whenever
    `lowers_like_ignorecase(text)`.
    """

    insensitive: re.Pattern[str] | None
    sensitive: re.Pattern[str] | None
    by_lower: dict[str, SynonymEntry] = field(default_factory=dict)
    by_exact: dict[str, SynonymEntry] = field(default_factory=dict)
    lowered: re.Pattern[str] | None = None
    _letters: str = field(init=False, repr=False, compare=False)  # of the case-insensitive synonyms

    def __post_init__(self) -> None:
        self._letters = "".join(sorted(set("".join(self.by_lower))))

    def finditer(self, text: str) -> Iterator[Match]:
        """Every synonym occurrence in `text` (already normalised), in no particular order."""
        if self.lowered is not None and self.lowers_like_ignorecase(text):
            for m in self.lowered.finditer(text.lower()):
                entry = self.by_lower[m.group(0)]
                yield Match(entry.tag, m.start(), m.end(), entry.needs_context, entry.excludes)
        elif self.insensitive is not None:
            yield from _resolved(self.insensitive.finditer(text), self.by_lower, str.lower)
        if self.sensitive is not None:
            yield from _resolved(self.sensitive.finditer(text), self.by_exact, str)

    def lowers_like_ignorecase(self, text: str) -> bool:
        """Do the synonyms match `text.lower()` exactly where IGNORECASE matches them in `text`?

        They do when every character of the text folds alike (`folds_alike`). ASCII letters are always
        checked: a synonym spelled with "ı" makes IGNORECASE pair "i" and "I" with it.
        """
        chars = set(string.ascii_letters)
        if not text.isascii():
            chars.update(_ASCII_RUNS.sub("", text))
        return all(folds_alike(char, self._letters) for char in chars)


@functools.lru_cache(maxsize=1 << 16)
def folds_alike(char: str, letters: str) -> bool:
    """Does `char` lowercase to one character, whatever its neighbours, that IGNORECASE agrees with?

    That is: IGNORECASE pairs `char` with one of the synonyms' `letters` exactly when `char.lower()` is
    that letter (`re` folds case with the same single-character mapping as `str.lower`, but also pairs
    "ı" with "i", "ſ" with "s" and a few Greek letters). A character with no case only matches itself
    either way. Answers are kept: texts share most of their characters, lexicons their letters.
    """
    low = char.lower()
    return (
        len(low) == 1  # not "İ"
        and ("a" + char).lower() == "a" + low  # not "Σ", which lowercases to "ς" at the end of a word
        and (
            char == low == char.upper()
            or all(bool(re.fullmatch(re.escape(k), char, re.IGNORECASE)) == (low == k) for k in letters)
        )
    )


def _resolved(matches: Iterator[re.Match[str]], lookup: dict[str, SynonymEntry], key: Any) -> Iterator[Match]:
    for m in matches:
        entry = lookup.get(key(m.group(0)))
        if entry is None:  # IGNORECASE matched a letter whose lower() differs ("İron")
            continue
        yield Match(entry.tag, m.start(), m.end(), entry.needs_context, entry.excludes)


def _trie(words: Iterable[str]) -> dict[str, Any]:
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return trie


def _trie_regex(words: list[str]) -> str:
    """A regex that matches the same words as `a|b|c...`, factored by common prefix.

    Python's `re` tries alternatives one by one at every position; sharing prefixes ("magnesium",
    "magnesium citrate", "magnesium-free") makes a 1 MB article several times faster to scan.
    Longer continuations come first, so the longest synonym still wins.
    """
    return _node_regex(_trie(words))


def _node_regex(node: dict[str, Any]) -> str:
    ends_here = "" in node
    branches = [re.escape(char) + _node_regex(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends_here else body


def _pattern(words: Iterable[str], flags: int) -> re.Pattern[str] | None:
    ordered = sorted(set(words))
    if not ordered:
        return None
    return re.compile(rf"(?<![\w])(?:{_trie_regex(ordered)})(?![\w])", flags)


def _first_char_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    r"""`_pattern(words, 0)` with the word-boundary check moved after each synonym's first character.

    A pattern that begins with a set of characters lets `re` skip straight to the next one of them;
    `(?<![\w][\s\S])` after the first character is `(?<![\w])` before it.
    """
    trie = _trie(sorted(set(words)))
    if not trie:
        return None
    branches = [re.escape(char) + r"(?<![\w][\s\S])" + _node_regex(child) for char, child in sorted(trie.items())]
    return re.compile(rf"(?:{'|'.join(branches)})(?![\w])")


def compile_lexicon(entries: Iterable[SynonymEntry]) -> Lexicon:
    """Build the matcher once for a taxonomy; reuse it for every page."""
    by_lower: dict[str, SynonymEntry] = {}
    by_exact: dict[str, SynonymEntry] = {}
    for entry in entries:
        text = normalise(entry.text).strip()
        if not text:
            continue
        entry = SynonymEntry(text, entry.tag, entry.case_sensitive, entry.needs_context, entry.excludes)
        if entry.case_sensitive:
            by_exact.setdefault(text, entry)
        else:
            by_lower.setdefault(text.lower(), entry)
    return Lexicon(
        insensitive=_pattern(by_lower, re.IGNORECASE),
        sensitive=_first_char_pattern(by_exact),
        by_lower=by_lower,
        by_exact=by_exact,
        lowered=_pattern(by_lower, 0),
    )
