"""Reasons a shopper can read: which tags made a product relevant, with their evidence.

Wording describes the article ("Magnesium is discussed in this article"), never what a product
does for a disease. A reason is stored with a `code` and its `params` beside the English `label`, and is
worded again when served (`reason_text`) in the request's language: the sentences are gettext messages,
and a tag's name is looked up in the catalog too, so the shipped taxonomy reads in Spanish while a tag a
store added keeps the words it was written in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from django.utils.translation import gettext, gettext_noop
from numpy.typing import NDArray
from scipy import sparse

from recommender.fingerprint import dumped
from recommender.scoring.related import ranked_order, run_places
from recommender.scoring.space import NO_BENEFIT, SUPPORTS, Relation, TagInfo, TagSpace

GRADE_WORDS = {
    "guideline": gettext_noop("addressed in a clinical practice guideline"),
    "rct": gettext_noop("studied in randomised controlled trials"),
    "review": gettext_noop("summarised in reviews with mixed results"),
    "pilot": gettext_noop("early, limited research"),
    "traditional": gettext_noop("traditional use, little research"),
}

# Reason codes and their sentences, (one, many) where the verb agrees with the tag's name.
REASONS: dict[str, tuple[str, str]] = {
    "line": (gettext_noop("From the %(line)s line named in this article."),) * 2,
    "discussed": (
        gettext_noop("%(subject)s is discussed in this article."),
        gettext_noop("%(subject)s are discussed in this article."),
    ),
    "no-benefit": (
        gettext_noop("%(subject)s is discussed in this article; research on %(topic)s has shown no benefit."),
        gettext_noop("%(subject)s are discussed in this article; research on %(topic)s has shown no benefit."),
    ),
    "related": (gettext_noop("This article discusses %(topic)s; sources link it with %(name)s."),) * 2,
    "pinned": (gettext_noop("Featured by the store alongside this article."),) * 2,
    "linked": (gettext_noop("Chosen by the store to read alongside this product."),) * 2,
    "shared-line": (gettext_noop("Also part of the %(line)s range."),) * 2,
    "shared": (gettext_noop("Also contains %(name)s."),) * 2,
    "tagged": (gettext_noop("Also tagged %(name)s."),) * 2,
    "discusses-line": (gettext_noop("Discusses %(line)s."),) * 2,
    "discusses": (gettext_noop("Discusses %(name)s."),) * 2,
}


def keep(text: str) -> str:
    """No translation: the English wording stored as `label`."""
    return text


def tag_name(name: str, translate: Callable[[str], str] = gettext) -> str:
    """A tag's name in the active language: shipped tags have catalog entries, a store's own do not."""
    return translate(name) if name else name  # gettext("") is the catalog's header


def reason_text(code: str, params: Mapping[str, Any], translate: Callable[[str], str] = gettext) -> str | None:
    """The sentence of a reason code with its params (None for a code this version does not know)."""
    if code not in REASONS:
        return None
    english = str(params.get("name") or "")
    name = tag_name(english, translate)
    words = {
        "line": name,
        "name": in_sentence(name),
        "subject": subject(name, str(params.get("kind") or "")),
        "topic": in_sentence(tag_name(str(params.get("topic") or ""), translate)),
    }
    return translate(REASONS[code][is_plural(english)]) % words  # number carries across: "Electrolitos se tratan"


def coded(code: str, **params: Any) -> dict[str, Any]:
    """`code`, `params` and the English `label` of a reason, ready to be stored."""
    return {"code": code, "params": params, "label": reason_text(code, params, keep)}


NO_EVIDENCE: dict[str, Any] = {"grade": None, "citations": []}


def served_reason(
    reason: Mapping[str, Any], words: Mapping[str, Mapping[str, str]] | None = None
) -> dict[str, Any] | None:
    """A stored reason in the list's shape `{tag, label, weight, evidence}`, worded in the active language.

    A reason of a product page's list is stored without the tag's words (`{tag, code, weight}`: there are
    a million of them at a catalog's size); `words` gives each tag's `{name, kind}` as the taxonomy has
    them now, and a reason whose tag is gone is None. Rows stored before reasons had codes keep their
    English label unless it is a fixed sentence.
    """
    params = reason.get("params")
    if params is None and reason.get("code") and reason.get("tag") is not None:
        params = (words or {}).get(reason["tag"])
        if params is None:
            return None
    label = reason_text(str(reason.get("code") or ""), params or {})
    if label is None:
        label = gettext(reason["label"]) if reason.get("label") else reason.get("label")
    return {
        "tag": reason.get("tag"),
        "label": label,
        "weight": reason.get("weight"),
        "evidence": reason.get("evidence") or dict(NO_EVIDENCE),
    }


def best_relation(
    space: TagSpace, page_weights: Mapping[str, float], slug: str, polarity: str = SUPPORTS
) -> Relation | None:
    """The relation of this polarity from the page's main topic to this tag (or its parent); of equals,
    the one listed first."""
    candidates = [
        (position, r)
        for target in space.ancestors(slug)
        for position, r in space.relations_into(target, polarity)
        if page_weights.get(r.source, 0.0) > 0
    ]
    best = max(candidates, key=lambda c: (page_weights[c[1].source] * c[1].strength, c[1].source, -c[0]), default=None)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def in_sentence(name: str) -> str:
    """A tag name inside a sentence: "Trace Minerals" -> "trace minerals", "Vitamin D" -> "vitamin D".

    Cached: a refresh words the same few hundred tag names hundreds of thousands of times."""
    return " ".join(w if len(w) == 1 or any(c.isdigit() for c in w) else w.lower() for w in name.split(" "))


def subject(name: str, kind: str = "") -> str:
    """A tag name opening a sentence: product lines keep their spelling, others read as plain words."""
    if kind == "product-line":
        return name
    words = in_sentence(name)
    return words[:1].upper() + words[1:]


def is_line_name(info: TagInfo) -> bool:
    """A product line with a maker's spelling ("ConcenTrace", "Mega-Mag"), not a category ("Multivitamin")."""
    return info.kind == "product-line" and any(c.isupper() for c in info.name[1:])


def is_plural(name: str) -> bool:
    """Whether a tag name takes "are": "Electrolytes", "Trace Minerals"; not "Magnesium" or "Ferrous Sulfate"."""
    last = name.split()[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def discussed(name: str, kind: str = "") -> str:
    """A sentence saying the article discusses this tag, with the verb agreeing ("Electrolytes are")."""
    return str(coded("discussed", name=name, kind=kind)["label"])


def reason_code(space: TagSpace, page_weights: Mapping[str, float], slug: str, rel: Relation | None) -> dict[str, Any]:
    """The code and params of a reason about the article, with its English label."""
    info = space.info(slug)
    if is_line_name(info):
        return coded("line", name=info.name, kind=info.kind)
    if rel is None or page_weights.get(slug, 0.0) > 0:
        return coded("discussed", name=info.name, kind=info.kind)
    return coded("related", name=info.name, kind=info.kind, topic=space.info(rel.source).name)


def no_benefit_code(space: TagSpace, slug: str, rel: Relation) -> dict[str, Any]:
    """The nutrient is discussed, and research on the page's condition found no benefit: say so plainly."""
    info = space.info(slug)
    return coded("no-benefit", name=info.name, kind=info.kind, topic=space.info(rel.source).name)


def no_benefit_label(space: TagSpace, slug: str, rel: Relation) -> str:
    """The English sentence of `no_benefit_code`."""
    return str(no_benefit_code(space, slug, rel)["label"])


def reason_label(space: TagSpace, page_weights: Mapping[str, float], slug: str, rel: Relation | None) -> str:
    """One plain sentence about the article, not about the product's effect; the evidence grade and
    sources travel beside it (`evidence`) and are shown in the list's disclosure."""
    return str(reason_code(space, page_weights, slug, rel)["label"])


def top_contributors(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], *, top: int = 3
) -> list[tuple[str, float]]:
    """Tags that carry the similarity of two vectors, with their share; one tag per family."""
    return top_contributors_many(space, a, b[np.newaxis, :], top=top)[0]


MIN_SHARE = 0.05  # a tag carrying less of the score is not worth a sentence


def top_contributors_many(
    space: TagSpace, a: NDArray[np.float32], rows: NDArray[np.float32], *, top: int = 3
) -> list[list[tuple[str, float]]]:
    """`top_contributors` of `a` with each row of a block, in one numpy pass."""
    return contributors(space, rows * a, top=top)


def contributors(
    space: TagSpace, contributions: NDArray[np.float32] | sparse.csr_array, *, top: int
) -> list[list[tuple[str, float]]]:
    """Per row of element-wise products of two vectors, the tags carrying the similarity with their share.

    Largest share first, at least MIN_SHARE, `top` at most and one tag per family ("magnesium citrate"
    adds nothing a shopper needs after "magnesium"); ties by tag order. Rows may pair different
    vectors, so a whole chunk of lists is explained in one numpy pass: only the kept tags reach Python.
    """
    found: list[list[tuple[str, float]]] = [[] for _ in range(contributions.shape[0])]
    slugs = [t.slug for t in space.tags]
    at, tags, shares, _ = contributor_arrays(space, contributions, top=top)
    for row, tag, share in zip(at.tolist(), tags.tolist(), rounded(shares, 3).tolist(), strict=True):
        found[row].append((slugs[tag], share))
    return found


def contributor_arrays(
    space: TagSpace, contributions: NDArray[np.float32] | sparse.csr_array, *, top: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64], NDArray[np.intp]]:
    """`contributors` as (row, tag index, share, place in the row) entries, by row, largest share first.

    Sparse rows (a block of a product page's pairs: each shares a handful of its ~300 tags) cost only
    their non-zero entries.
    """
    n = contributions.shape[0]
    at, tags, values = positive_entries(contributions)
    totals = np.bincount(at, weights=values, minlength=n)
    shares = values.astype(np.float64) / totals[at]
    keep = shares >= MIN_SHARE
    at, tags, values, shares = at[keep], tags[keep], values[keep], shares[keep]
    order = ranked_order(at, values, tags)  # by row, then largest share, then tag
    at, tags, shares = at[order], tags[order], shares[order]
    # The first (largest) tag of each family in a row; the others say nothing new.
    families = space.families
    _, first = np.unique(at * (len(families) + 1) + families[tags], return_index=True)
    first.sort()
    at, tags, shares = at[first], tags[first], shares[first]
    place = run_places(at)
    keep = place < top
    return at[keep], tags[keep], shares[keep], place[keep]


def rounded(values: NDArray[np.float64], places: int) -> NDArray[np.float64]:
    """Python's `round(value, places)` of each value, in one numpy pass: the same floats.

    `rint(value * 10**places) / 10**places` is the float nearest the rounded decimal, as `round` gives, except
    where the scaled value sits at a tie (`round` decides from the exact value): those few go through `round`.
    """
    scale = 10.0**places
    scaled = values * scale
    found = np.rint(scaled) / scale
    near_tie = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    if near_tie.any():
        found[near_tie] = [round(v, places) for v in values[near_tie].tolist()]
    return found


def positive_entries(
    contributions: NDArray[np.float32] | sparse.csr_array,
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float32]]:
    """(row, column, value) of the positive entries of a dense or sparse block, by row."""
    if isinstance(contributions, np.ndarray):
        at, tags = np.nonzero(contributions > 0)
        return at, tags, contributions[at, tags]
    block = sparse.csr_array(contributions)
    at = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    positive = block.data > 0
    return at[positive], block.indices[positive].astype(np.intp), block.data[positive]


def explain(
    space: TagSpace,
    page_weights: Mapping[str, float],
    page: NDArray[np.float32],
    product: NDArray[np.float32],
    *,
    top: int = 3,
) -> list[dict[str, Any]]:
    """The top contributing tags with their share of the score and the evidence behind them."""
    return explain_many(space, page_weights, page, product[np.newaxis, :], top=top)[0]


def explain_many(
    space: TagSpace,
    page_weights: Mapping[str, float],
    page: NDArray[np.float32],
    rows: NDArray[np.float32],
    *,
    top: int = 3,
) -> list[list[dict[str, Any]]]:
    """`explain` for each row of a block: one numpy call for the shares, and each tag's words and
    evidence worked out once per page (a list repeats the same few tags)."""
    return explained(space, page_weights, top_contributors_many(space, page, rows, top=top))


def explained(
    space: TagSpace,
    page_weights: Mapping[str, float],
    found: Sequence[Sequence[tuple[str, float]]],
    memo: ReasonMemo | None = None,
) -> list[list[dict[str, Any]]]:
    """Reasons from each item's contributing tags and shares (`contributors`) on a page with these weights.

    Many pages' contributors come from one `contributors` call over their items' rows stacked (each row is
    explained on its own), so a chunk of pages costs one numpy pass, not one per page. `memo`, shared by the
    pages of one tag space, words a tag once for every page that weighs its sources alike.
    """
    memo = memo or ReasonMemo(space)
    about: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # each tag's words and evidence, once a page
    lists = []
    for tags in found:
        reasons = []
        for slug, share in tags:
            known = about.get(slug)
            if known is None:
                known = about[slug] = memo.words(page_weights, slug)
            reasons.append({"tag": slug, **known[0], "weight": share, "evidence": known[1]})
        lists.append(reasons)
    return lists


class ReasonMemo:
    """The words and evidence of reasons (`tag_reason`) already worked out for pages of one tag space.

    A reason about a tag depends on the page only through a few weights: whether the page names the tag, and
    the weights of the tags with a relation into it or its parents (`sources`). Pages that weigh those alike
    get the very same reason, so a refresh words each tag a few times, not once for every page listing it.
    Shared, like the words within a page: lists are only serialised.
    """

    def __init__(self, space: TagSpace) -> None:
        self.space = space
        self._sources: dict[str, tuple[str, ...]] = {}
        self._words: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}

    def sources(self, slug: str) -> tuple[str, ...]:
        """The tags whose weight on a page can choose the relation behind a reason about `slug`."""
        found = self._sources.get(slug)
        if found is None:
            found = self._sources[slug] = tuple(
                sorted(
                    {
                        r.source
                        for target in self.space.ancestors(slug)
                        for polarity in (SUPPORTS, NO_BENEFIT)
                        for _, r in self.space.relations_into(target, polarity)
                    }
                )
            )
        return found

    def words(self, page_weights: Mapping[str, float], slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """`tag_reason`'s words for this tag on a page with these weights, and its evidence."""
        # Only positive weights count (`best_relation`, `reason_code`): others key as 0.
        key = (slug, page_weights.get(slug, 0.0) > 0, *(max(page_weights.get(s, 0.0), 0.0) for s in self.sources(slug)))
        known = self._words.get(key)
        if known is None:
            words, rel = tag_reason(self.space, page_weights, slug)
            evidence = {"grade": rel.grade if rel else None, "citations": list(rel.citations) if rel else []}
            known = self._words[key] = (words, evidence)
        return known


def tag_reason(space: TagSpace, page_weights: Mapping[str, float], slug: str) -> tuple[dict[str, Any], Relation | None]:
    """The words of a reason about this tag on this page and the relation whose evidence backs it."""
    rel = best_relation(space, page_weights, slug)
    words = reason_code(space, page_weights, slug, rel)
    caveat = best_relation(space, page_weights, slug, NO_BENEFIT) if rel is None else None
    if caveat is not None:
        rel, words = caveat, no_benefit_code(space, slug, caveat)
    return words, rel


def shared_code(space: TagSpace, slug: str) -> dict[str, Any]:
    """Why another product is related: what the two share."""
    info = space.info(slug)
    code = {"product-line": "shared-line", "nutrient": "shared", "form": "shared"}.get(info.kind, "tagged")
    return coded(code, name=info.name, kind=info.kind)


def discusses_code(space: TagSpace, slug: str) -> dict[str, Any]:
    """Why an article is related to a product: what it discusses."""
    info = space.info(slug)
    return coded("discusses-line" if info.kind == "product-line" else "discusses", name=info.name, kind=info.kind)


def shared_label(space: TagSpace, slug: str) -> str:
    """The English sentence of `shared_code`."""
    return str(shared_code(space, slug)["label"])


def discusses_label(space: TagSpace, slug: str) -> str:
    """The English sentence of `discusses_code`."""
    return str(discusses_code(space, slug)["label"])


CODES: dict[Callable[[TagSpace, str], str], Callable[[TagSpace, str], dict[str, Any]]] = {
    shared_label: shared_code,
    discusses_label: discusses_code,
}


def simple_reasons(
    space: TagSpace, a: NDArray[np.float32], b: NDArray[np.float32], label: Any, *, top: int = 2
) -> list[dict[str, Any]]:
    """Reasons without evidence grades, for product-to-product and product-to-article lists."""
    return simple_reasons_many(space, a, b[np.newaxis, :], label, top=top)[0]


def simple_reasons_many(
    space: TagSpace, a: NDArray[np.float32], rows: NDArray[np.float32], label: Any, *, top: int = 2
) -> list[list[dict[str, Any]]]:
    """`simple_reasons` of `a` with each row of a block (one list's items at once)."""
    return simple_reasons_pairs(space, rows * a, label, top=top)


def simple_reasons_pairs(
    space: TagSpace,
    contributions: NDArray[np.float32] | sparse.csr_array,
    label: Any,
    *,
    top: int = 2,
) -> list[list[dict[str, Any]]]:
    """`simple_reasons` for each row of element-wise products (pairs of vectors, many lists at once).

    With a label of `CODES` a reason is `{tag, code, weight}`: product pages' lists hold a million of
    them at a catalog's size, and the tag's words are added when the list is served (`served_reason`).
    """
    n = contributions.shape[0]
    at, tags, shares, place = contributor_arrays(space, contributions, top=top)
    if not len(at):
        return [[] for _ in range(n)]
    # A pair's reasons are one of a few thousand distinct lists among hundreds of thousands of pairs: each
    # (tag, weight in thousandths) is one number, each pair's reasons one number of those as digits (its
    # signature), and every distinct list is built once and shared (lists are only ever serialised).
    entry = tags.astype(np.int64) * (WEIGHT_STEPS + 1) + np.rint(rounded(shares, 3) * WEIGHT_STEPS).astype(np.int64)
    size = space.size * (WEIGHT_STEPS + 1) + 1
    if size**top >= 2**63:  # a signature would not fit in 64 bits (a taxonomy of millions of tags)
        raise ValueError(f"too many tags to explain {top} reasons a pair")
    signature = np.zeros(n, dtype=np.int64)
    for nth in range(top):  # the pair's first, second, ... reason as digits of base `size`
        here = place == nth
        signature *= size
        signature[at[here]] += entry[here] + 1
    signatures, which = np.unique(signature, return_inverse=True)
    built = reason_lists(space, label, signatures.tolist(), size, top)
    return [built[i] for i in which.reshape(-1).tolist()]


def reason_entries(
    space: TagSpace, contributions: NDArray[np.float32] | sparse.csr_array, *, top: int = 2
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """`simple_reasons_pairs` as arrays, pairs x `top`, first reason first: each reason's tag (its index in the
    space; -1: no reason) and weight in thousandths. A product page's lists are written from these
    (`reason_text_pieces`) without a Python object per reason."""
    n = contributions.shape[0]
    at, tags, shares, place = contributor_arrays(space, contributions, top=top)
    found_tags = np.full((n, top), -1, dtype=np.intp)
    weights = np.zeros((n, top), dtype=np.intp)
    found_tags[at, place] = tags
    weights[at, place] = np.rint(rounded(shares, 3) * WEIGHT_STEPS).astype(np.intp)
    return found_tags, weights


def reason_text_pieces(space: TagSpace, label: Any) -> tuple[list[bytes], list[bytes]]:
    """A reason of `simple_reasons_pairs` as JSON text (`fingerprint.dumped`) is its tag's opening, then its
    weight's closing: the openings, tag by tag, and the closings, by weight in thousandths. ("weight" is the
    last key in sorted order, so the rest of the reason is known from its tag alone.)"""
    coder = CODES.get(label)
    openings = []
    for tag in space.tags:
        head = (
            {"code": coder(space, tag.slug)["code"]}
            if coder
            else {"label": label(space, tag.slug), "evidence": NO_EVIDENCE}
        )
        openings.append(dumped({**head, "tag": tag.slug})[:-1] + b',"weight":')
    closings = [dumped(steps / WEIGHT_STEPS) + b"}" for steps in range(WEIGHT_STEPS + 1)]
    return openings, closings


WEIGHT_STEPS = 1000  # a reason's weight is its share in thousandths


def reason_lists(space: TagSpace, label: Any, signatures: list[int], size: int, top: int) -> list[list[dict[str, Any]]]:
    """The reasons list of each signature of `simple_reasons_pairs` (digits of base `size`, first reason
    first; 0: none), each distinct reason built once and the lists put together from arrays of digits."""
    coder = CODES.get(label)
    slugs = [t.slug for t in space.tags]
    rest = np.array(signatures, dtype=np.int64)
    digits = []
    for _ in range(top):  # least significant first: the last reason first
        rest, digit = np.divmod(rest, size)
        digits.append(digit)
    found, at = np.unique(np.concatenate(digits), return_inverse=True)
    reasons = np.full(len(found), None, dtype=object)
    heads: dict[int, Any] = {}  # each tag's code (or worded label), worked out once per call
    for place, digit in enumerate(found.tolist()):
        if not digit:
            continue
        tag, thousandths = divmod(digit - 1, WEIGHT_STEPS + 1)
        weight = thousandths / WEIGHT_STEPS  # the float `round(share, 3)` gives
        head = heads.get(tag)
        if head is None:
            slug = slugs[tag]
            head = heads[tag] = coder(space, slug)["code"] if coder else {"label": label(space, slug)}
        if coder is not None:
            reasons[place] = {"tag": slugs[tag], "code": head, "weight": weight}
        else:
            reasons[place] = {"tag": slugs[tag], **head, "weight": weight, "evidence": dict(NO_EVIDENCE)}
    # One column of reasons per digit, first reason first (None: no reason).
    columns = [reasons[column].tolist() for column in reversed(np.split(at.reshape(-1), top))]
    return [[reason for reason in row if reason is not None] for row in zip(*columns, strict=True)]
