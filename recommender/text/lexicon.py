"""One compiled matcher over every tag's synonyms.

Case-insensitive synonyms share one pattern, case-sensitive ones ("Mg", not "mg") another; both
are alternations ordered longest first, so "magnesium citrate" wins over "magnesium" and an
excluding phrase ("cast iron") swallows the word it contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from recommender.text.clean import normalise


@dataclass(frozen=True)
class SynonymEntry:
    """A surface form of a tag."""

    text: str
    tag: str
    case_sensitive: bool = False
    needs_context: bool = False
    excludes: bool = False  # "cast iron": matched so that the words inside it are not the tag


@dataclass(frozen=True)
class Match:
    """A synonym found in text."""

    tag: str
    start: int
    end: int
    needs_context: bool
    excludes: bool = False


@dataclass
class Lexicon:
    """Compiled patterns plus the surface-form -> entry maps they resolve through."""

    insensitive: re.Pattern[str] | None
    sensitive: re.Pattern[str] | None
    by_lower: dict[str, SynonymEntry] = field(default_factory=dict)
    by_exact: dict[str, SynonymEntry] = field(default_factory=dict)

    def finditer(self, text: str) -> Iterator[Match]:
        """Every synonym occurrence in `text` (already normalised), in no particular order."""
        for pattern, lookup, key in (
            (self.insensitive, self.by_lower, str.lower),
            (self.sensitive, self.by_exact, str),
        ):
            if pattern is None:
                continue
            for m in pattern.finditer(text):
                entry = lookup.get(key(m.group(0)))
                if entry is None:  # IGNORECASE matched a letter whose lower() differs ("İron")
                    continue
                yield Match(entry.tag, m.start(), m.end(), entry.needs_context, entry.excludes)


def _trie_regex(words: list[str]) -> str:
    """A regex that matches the same words as `a|b|c...`, factored by common prefix.

    Python's `re` tries alternatives one by one at every position; sharing prefixes ("magnesium",
    "magnesium citrate", "magnesium-free") makes a 1 MB article several times faster to scan.
    Longer continuations come first, so the longest synonym still wins.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_regex(trie)


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
        sensitive=_pattern(by_exact, 0),
        by_lower=by_lower,
        by_exact=by_exact,
    )
