"""Tag weights for a page: which tags its title and text discuss, and which they speak against.

Title mentions weigh more, counts are sublinear (square root), negated mentions ("not iron", "without
iron") count against, and an ambiguous abbreviation ("RLS") counts only with a supporting mention of
the same tag nearby. Advice against taking a nutrient ("zinc-free", "steer clear of potassium tablets",
"you don't need more magnesium") makes it count against however much else the page says about it: safety first.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import dataclass

from recommender.text.clean import normalise
from recommender.text.lexicon import Lexicon, Match

_NEGATION_BEFORE = (
    r"\b(?:no|not|non|never|without|avoid|avoiding|avoids|free\s+of|instead\s+of|rather\s+than|"
    r"isn't|aren't|don't|doesn't|skip|exclude|excluding|lacks?|lacking)\b[^.;:!?,()\n]{0,30}$"
)
_NEGATION_AFTER = r"^[\s-]*(?:free|-free)\b"
# "no multivitamins that contain iron": the denial is about the iron, not the multivitamin.
_RESTRICTED_AFTER = r"^\s*(?:(?:that|which)\s+(?:contain|contains|include|includes|has|have)|containing|with\s+added)\b"
# Advice against taking the nutrient itself: only intake modifiers may stand between verb and nutrient.
_ADVICE_BEFORE = (
    r"\b(?:avoid(?:s|ing)?|steer\s+clear\s+of|stay\s+away\s+from|free\s+of|no\s+need\s+for|never\s+take|"
    r"(?:do|does|should|must)\s+not\s+(?:take|use|need)|(?:don't|doesn't|shouldn't|mustn't)\s+(?:take|use|need))\s+"
    r"(?:(?:taking|any|extra|additional|more|added|supplemental|high[- ]dose|the)\s+)*$"
)
_ADVICE_AFTER = r"^[\s-]*free\b"
# "avoid taking magnesium within two hours of ...": advice on timing, not against the nutrient.
_TIMING_AFTER = (
    r"^\s*(?:(?:supplements?|tablets?|pills?|products?)\s+)?(?:within|at\s+the\s+same\s+time|together|alongside|"
    r"close\s+to|on\s+an\s+empty|before|after|until|for\s+\d)\b"
)


@dataclass(frozen=True)
class _Rules:
    """The rules above, compiled with IGNORECASE (`_ANY_CASE`) or without it (`_LOWERCASE`).

    With IGNORECASE, `re` has to enter every alternative to compare its first letter; without it, one
    comparison rules an alternative out, and the search of a window is about three times faster. On
    ASCII, `_LOWERCASE` over the lowercased window finds what `_ANY_CASE` finds over the window, as
    the rules' letters are all lowercase (checked below) and lowering ASCII changes no character class,
    word boundary or length. The windows, 90 characters around each of thousands of mentions in a long
    page, are most of the cost of the rules.
    """

    negation_before: re.Pattern[str]
    negation_after: re.Pattern[str]
    restricted_after: re.Pattern[str]
    advice_before: re.Pattern[str]
    advice_after: re.Pattern[str]
    timing_after: re.Pattern[str]

    @classmethod
    def compile(cls, flags: int) -> _Rules:
        sources = (_NEGATION_BEFORE, _NEGATION_AFTER, _RESTRICTED_AFTER, _ADVICE_BEFORE, _ADVICE_AFTER, _TIMING_AFTER)
        for source in sources:
            if any(char.isupper() for char in re.sub(r"\\.", "", source)):
                raise ValueError(f"a rule's letters must be lowercase: {source}")
        return cls(*(re.compile(source, flags) for source in sources))


_ANY_CASE = _Rules.compile(re.IGNORECASE)
_LOWERCASE = _Rules.compile(0)

_LOOKBEHIND = 50
# Against this share of the mentions or more, a tag counts against: safety comes first.
AGAINST_SHARE = 0.5


@dataclass(frozen=True)
class TagWeight:
    """How strongly a page discusses a tag (negative: the page speaks against it)."""

    tag: str
    weight: float
    mentions: int
    advised_against: bool = False


def _context(text: str, match: Match) -> tuple[str, str, _Rules]:
    """The words just before and after a mention, and the rules to read them with (see `_Rules`)."""
    before = text[max(0, match.start - _LOOKBEHIND) : match.start]
    after = text[match.end : match.end + 40]
    if before.isascii() and after.isascii():
        return before.lower(), after.lower(), _LOWERCASE
    return before, after, _ANY_CASE


def advises_against(text: str, match: Match) -> bool:
    """True when the mention is advice not to take the nutrient ("avoid additional zinc", "zinc-free")."""
    return _advice(*_context(text, match))


def is_negated(text: str, match: Match) -> bool:
    """True when the words just before or after a mention deny it, within the same clause."""
    return _denial(*_context(text, match))


def _advice(before: str, after: str, rules: _Rules) -> bool:
    if rules.advice_after.match(after):
        return True
    return bool(rules.advice_before.search(before)) and not rules.timing_after.match(after)


def _denial(before: str, after: str, rules: _Rules) -> bool:
    if rules.negation_after.match(after):
        return True
    return bool(rules.negation_before.search(before)) and not rules.restricted_after.match(after)


_HEALTH_CONTEXT = re.compile(
    r"\b(?:supplement\w*|deficien\w*|nutrient\w*|nutrition\w*|vitamins?|minerals?|dietary|diet|intake|"
    r"dos(?:e|es|age)|health|clinician\w*|doctors?|symptoms?|blood|absorb\w*|absorption|RDA|"
    r"\d+(?:\.\d+)?\s?(?:mg|mcg|µg|μg|IU))\b",
    re.IGNORECASE,
)
TOPIC_KINDS = frozenset({"condition", "symptom", "product-line"})


# Past this many words, one health word in passing ("intake manifolds") is not a health page.
_SHORT_TEXT_WORDS = 150


def has_health_context(text: str) -> bool:
    """Does the text speak about nutrition or health? ("bare iron rusts" does not.)

    A short text needs one health word; a longer one at least two, so a page on magnesium alloys
    that mentions "intake manifolds" once is not read as a page about magnesium the nutrient.
    """
    needed = 1 if len(text.split()) < _SHORT_TEXT_WORDS else 2
    return any(count >= needed for count, _ in enumerate(_HEALTH_CONTEXT.finditer(text), start=1))


def supported(matches: list[Match], window: int) -> list[Match]:
    """Drop context-needing matches with no plain mention of the same tag within `window` chars."""
    anchors: dict[str, list[int]] = defaultdict(list)
    for m in sorted(matches, key=lambda m: m.start):
        if not m.needs_context:
            anchors[m.tag].append(m.start)
    return [m for m in matches if not m.needs_context or _near(anchors.get(m.tag, []), m.start, window)]


def _near(sorted_positions: list[int], position: int, window: int) -> bool:
    i = bisect.bisect_left(sorted_positions, position - window)
    return i < len(sorted_positions) and sorted_positions[i] <= position + window


def net_weight(support: float, against: float, *, advised: bool = False) -> float:
    """Sublinear support minus denial; as many denials as mentions, or any advice against, make it count against."""
    if against and (advised or against >= AGAINST_SHARE * (support + against)):
        return -max(math.sqrt(against) - math.sqrt(support), 0.25)
    return math.sqrt(support) - math.sqrt(against)


def extract_tags(
    lexicon: Lexicon, *, title: str, text: str, title_weight: float = 3.0, context_window: int = 1500
) -> dict[str, TagWeight]:
    """Weights in [-1, 1] per tag, the strongest positive tag at 1."""
    title, text = normalise(title), normalise(text)
    support: dict[str, float] = defaultdict(float)
    against: dict[str, float] = defaultdict(float)
    mentions: dict[str, int] = defaultdict(int)
    advised: set[str] = set()
    # The title is matched with the body as context, so "RLS" in a title counts when the body names it.
    joined = f"{title}\n{text}"
    found = [m for m in lexicon.finditer(joined) if not m.excludes]
    for m in supported(found, context_window):
        weight = title_weight if m.start < len(title) else 1.0
        mentions[m.tag] += 1
        context = _context(joined, m)
        if _advice(*context):
            advised.add(m.tag)
            against[m.tag] += weight
        elif _denial(*context):
            against[m.tag] += weight
        else:
            support[m.tag] += weight
    raw = {tag: net_weight(support[tag], against[tag], advised=tag in advised) for tag in mentions}
    top = max((w for w in raw.values() if w > 0), default=1.0)
    return {
        tag: TagWeight(tag, round(max(-1.0, min(1.0, w / top)), 4), mentions[tag], tag in advised)
        for tag, w in raw.items()
        if w != 0
    }
