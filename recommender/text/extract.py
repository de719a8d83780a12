"""Tag weights for a page: which tags its title and text discuss, and which they speak against.

Title mentions weigh more, counts are sublinear (square root), negated mentions ("iron-free", "without iron",
"avoid extra iron") count against, and an ambiguous abbreviation ("RLS") counts only with a
supporting mention of the same tag nearby.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from dataclasses import dataclass

from recommender.text.clean import normalise
from recommender.text.lexicon import Lexicon, Match

_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|non|never|without|avoid|avoiding|avoids|free\s+of|instead\s+of|rather\s+than|"
    r"isn't|aren't|don't|doesn't|skip|exclude|excluding|lacks?|lacking)\b[^.;:!?,()\n]{0,30}$",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(r"^[\s-]*(?:free|-free)\b", re.IGNORECASE)
# "no multivitamins that contain iron": the denial is about the iron, not the multivitamin.
_RESTRICTED_AFTER = re.compile(
    r"^\s*(?:(?:that|which)\s+(?:contain|contains|include|includes|has|have)|containing|with\s+added)\b",
    re.IGNORECASE,
)
_LOOKBEHIND = 50
# Against this share of the mentions or more, a tag counts against: safety comes first.
AGAINST_SHARE = 0.5


@dataclass(frozen=True)
class TagWeight:
    """How strongly a page discusses a tag (negative: the page speaks against it)."""

    tag: str
    weight: float
    mentions: int


def is_negated(text: str, match: Match) -> bool:
    """True when the words just before or after a mention deny it, within the same clause."""
    before = text[max(0, match.start - _LOOKBEHIND) : match.start]
    after = text[match.end : match.end + 40]
    if _NEGATION_AFTER.match(after):
        return True
    return bool(_NEGATION_BEFORE.search(before)) and not _RESTRICTED_AFTER.match(after)


_HEALTH_CONTEXT = re.compile(
    r"\b(?:supplement\w*|deficien\w*|nutrient\w*|nutrition\w*|vitamins?|minerals?|dietary|diet|intake|"
    r"dos(?:e|es|age)|health|clinician\w*|doctors?|symptoms?|blood|absorb\w*|absorption|RDA|"
    r"\d+(?:\.\d+)?\s?(?:mg|mcg|µg|μg|IU))\b",
    re.IGNORECASE,
)
TOPIC_KINDS = frozenset({"condition", "symptom", "product-line"})


def has_health_context(text: str) -> bool:
    """Does the text speak about nutrition or health at all? ("bare iron rusts" does not.)"""
    return bool(_HEALTH_CONTEXT.search(text))


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


def net_weight(support: float, against: float) -> float:
    """Sublinear support minus denial; as many denials as mentions make it count against."""
    if against and against >= AGAINST_SHARE * (support + against):
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
    # The title is matched with the body as context, so "RLS" in a title counts when the body names it.
    joined = f"{title}\n{text}"
    found = [m for m in lexicon.finditer(joined) if not m.excludes]
    for m in supported(found, context_window):
        weight = title_weight if m.start < len(title) else 1.0
        mentions[m.tag] += 1
        if is_negated(joined, m):
            against[m.tag] += weight
        else:
            support[m.tag] += weight
    raw = {tag: net_weight(support[tag], against[tag]) for tag in mentions}
    top = max((w for w in raw.values() if w > 0), default=1.0)
    return {
        tag: TagWeight(tag, round(max(-1.0, min(1.0, w / top)), 4), mentions[tag]) for tag, w in raw.items() if w != 0
    }
