"""recommender.scoring.explain: reasons that describe the article, with evidence, never a disease claim."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommender.scoring.explain import (
    GRADE_WORDS,
    MIN_SHARE,
    ReasonMemo,
    best_relation,
    contributors,
    discussed,
    discusses_label,
    explain,
    explained,
    in_sentence,
    is_line_name,
    reason_label,
    shared_label,
)
from recommender.scoring.space import NO_BENEFIT, Relation, TagInfo, TagSpace, build_space
from recommender.scoring.vectors import page_vector, product_matrix
from tests.recommender.scoring import EVIDENCE, RELATIONS, TAGS, space

CLAIM = re.compile(
    r"\b(treat\w*|cure[sd]?|curing|curative|heal|heals|healed|healing|remed\w*|reliev\w*|allevia\w*|prevent\w*)\b"
    r"|for rls|for restless",
    re.IGNORECASE,
)


def reasons_for(page_weights: dict[str, float], product: dict[str, float], top: int = 3) -> list[dict]:
    s = space()
    page = page_vector(s, page_weights)
    row = product_matrix(s, [product])[0]
    return explain(s, page_weights, page, row, top=top)


def test_claim_pattern_catches_what_it_should() -> None:
    for bad in ("Treats RLS", "a cure", "relieves cramps", "helps prevent", "heals", "remedy", "for RLS"):
        assert CLAIM.search(bad)
    for fine in ("discussed in this article", "health", "clinical practice guideline", "restless legs syndrome"):
        assert not CLAIM.search(fine)


def test_direct_mention_with_relation_cites_the_evidence() -> None:
    """The label is one line about the article; the grade and sources travel beside it for the disclosure."""
    reasons = reasons_for({"restless-legs-syndrome": 1.0, "magnesium": 0.8}, {"magnesium": 1.0})
    assert [r["tag"] for r in reasons] == ["magnesium"]
    (reason,) = reasons
    assert reason["label"] == "Magnesium is discussed in this article."
    assert reason["evidence"] == {"grade": "pilot", "citations": ["10.5664/jcsm.11206"]}
    assert reason["weight"] == pytest.approx(1.0)


def test_reached_only_through_the_condition() -> None:
    (reason,) = reasons_for({"restless-legs-syndrome": 1.0}, {"iron": 1.0})
    assert reason["tag"] == "iron"
    label = reason["label"]
    assert label.startswith("This article discusses restless legs syndrome;")
    assert label.endswith("sources link it with iron.")
    assert reason["evidence"]["grade"] == "guideline"
    assert GRADE_WORDS[reason["evidence"]["grade"]] == "addressed in a clinical practice guideline"
    assert reason["evidence"]["citations"] == ["10.1016/j.sleep.2018.11.019"]


def test_no_relation_is_a_plain_mention() -> None:
    (reason,) = reasons_for({"zinc": 1.0}, {"zinc": 1.0})
    assert reason["label"] == "Zinc is discussed in this article."
    assert reason["evidence"] == {"grade": None, "citations": []}


def test_form_uses_its_nutrients_relation() -> None:
    s = space()
    rel = best_relation(s, {"restless-legs-syndrome": 1.0}, "magnesium-glycinate")
    assert rel is not None and rel.target == "magnesium"


def test_reasons_are_ordered_by_contribution_and_capped() -> None:
    reasons = reasons_for(
        {"magnesium": 1.0, "zinc": 0.5, "iron": 0.3, "potassium": 0.2},
        {"magnesium": 1.0, "zinc": 1.0, "iron": 1.0, "potassium": 1.0},
        top=3,
    )
    assert [r["tag"] for r in reasons] == ["magnesium", "zinc", "iron"]
    weights = [r["weight"] for r in reasons]
    assert weights == sorted(weights, reverse=True)
    assert sum(weights) <= 1.0 + 1e-6


def test_negligible_contributions_are_left_out() -> None:
    reasons = reasons_for({"magnesium": 1.0, "zinc": 0.01}, {"magnesium": 1.0, "zinc": 1.0})
    assert [r["tag"] for r in reasons] == ["magnesium"]


def test_no_overlap_no_reasons() -> None:
    assert reasons_for({"zinc": 1.0}, {"iron": 1.0}) == []
    assert reasons_for({}, {"iron": 1.0}) == []


def test_grade_words_make_no_claims() -> None:
    for words in GRADE_WORDS.values():
        assert not CLAIM.search(words)


@pytest.mark.parametrize("grade", sorted(GRADE_WORDS))
def test_every_label_form_is_claim_free(grade: str) -> None:
    s = space()
    rel = Relation("restless-legs-syndrome", "magnesium", 0.5, grade)
    for weights in ({"restless-legs-syndrome": 1.0}, {"restless-legs-syndrome": 1.0, "magnesium": 1.0}):
        for slug in ("magnesium", "magnesium-glycinate"):
            for r in (rel, None):
                label = reason_label(s, weights, slug, r)
                assert not CLAIM.search(label), label


def test_related_product_and_article_labels_are_claim_free() -> None:
    s = space()
    for tag in s.tags:
        for label in (shared_label(s, tag.slug), discusses_label(s, tag.slug)):
            assert not CLAIM.search(label), label


def test_one_reason_per_tag_family() -> None:
    reasons = reasons_for({"magnesium": 1.0, "magnesium-citrate": 1.0}, {"magnesium-citrate": 1.0})
    assert len(reasons) == 1


WEIGHTS = st.dictionaries(st.sampled_from([t.slug for t in TAGS]), st.floats(-1, 1, allow_nan=False), max_size=6)
RELEVANCES = st.dictionaries(st.sampled_from([t.slug for t in TAGS]), st.floats(0, 1, allow_nan=False), max_size=6)


@given(WEIGHTS, RELEVANCES)
def test_explanations_never_claim(page_weights: dict[str, float], product: dict[str, float]) -> None:
    reasons = reasons_for(page_weights, product)
    assert len(reasons) <= 3
    for reason in reasons:
        assert not CLAIM.search(reason["label"]), reason["label"]
        assert reason["label"].endswith(".")
        assert 0 < reason["weight"] <= 1.0
        assert reason["evidence"]["grade"] in (None, *GRADE_WORDS)


def test_names_read_as_words_in_a_sentence() -> None:
    assert discussed("Electrolytes") == "Electrolytes are discussed in this article."
    assert discussed("Trace Minerals") == "Trace minerals are discussed in this article."
    assert discussed("Magnesium") == "Magnesium is discussed in this article."
    assert discussed("Vitamin D") == "Vitamin D is discussed in this article."
    assert discussed("Ferrous Sulfate") == "Ferrous sulfate is discussed in this article."
    assert in_sentence("Vitamin B12") == "vitamin B12"


def test_a_product_line_is_worded_as_a_line_not_as_evidence() -> None:
    s = space()
    lines = [t for t in TAGS if t.kind == "product-line"]
    for tag in lines:
        label = reason_label(s, {tag.slug: 1.0}, tag.slug, None)
        if is_line_name(tag):
            assert label == f"From the {tag.name} line named in this article."
        assert "evidence" not in label


def walk_contributors(space_: TagSpace, row: list[float], top: int) -> list[tuple[str, float]]:
    """The specification of `contributors`, one row at a time: largest share first, at least MIN_SHARE,
    one tag per family of `ancestors`, `top` at most."""
    values = np.asarray(row, dtype=np.float32)
    total = float(np.where(values > 0, values, 0.0).astype(np.float64).sum())  # shares divide by float64 totals
    entries = sorted((-float(v), i) for i, v in enumerate(values.tolist()) if v > 0)
    found: list[tuple[str, float]] = []
    covered: set[str] = set()
    for negated, i in entries:
        share = -negated / total
        if share < MIN_SHARE or len(found) >= top:
            break
        family = set(space_.ancestors(space_.tags[i].slug))
        if not family & covered:
            covered |= family
            found.append((space_.tags[i].slug, round(share, 3)))
    return found


CONTRIBUTIONS = [0.0, 0.0, 0.01, 0.05, 0.2, 0.2, 0.5, 1.0, -0.3]  # ties, tiny shares, negatives


@given(
    st.lists(
        st.lists(st.sampled_from(CONTRIBUTIONS), min_size=len(TAGS), max_size=len(TAGS)),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=4),
)
def test_contributors_of_a_block_match_the_walk_row_by_row(rows: list[list[float]], top: int) -> None:
    s = space()
    block = np.asarray(rows, dtype=np.float32)
    assert contributors(s, block, top=top) == [walk_contributors(s, row, top) for row in rows]


def test_families_join_tags_whose_ancestor_chains_meet() -> None:
    s = space()
    families = {t.slug: int(s.families[i]) for i, t in enumerate(s.tags)}
    assert families["magnesium-glycinate"] == families["magnesium-citrate"] == families["magnesium"]
    assert len({families[slug] for slug in ("magnesium", "iron", "zinc", "concentrace")}) == 4


# A second condition, one relation with no benefit and one into a form: a reason's relation depends on the page.
MEMO_TAGS = [*TAGS, TagInfo("leg-cramps", "Leg Cramps", "condition")]
MEMO_RELATIONS = [
    *RELATIONS,
    Relation("leg-cramps", "magnesium", 0.7, "rct", ("10.1002/14651858.CD008168",), NO_BENEFIT),
    Relation("leg-cramps", "magnesium-citrate", 0.6, "review"),
    Relation("leg-cramps", "potassium", 0.6, "review"),
]
PAGE_WEIGHTS = st.dictionaries(
    st.sampled_from([t.slug for t in MEMO_TAGS]), st.sampled_from([-0.5, 0.0, 0.3, 0.6, 1.0]), max_size=5
)


@given(st.lists(PAGE_WEIGHTS, min_size=1, max_size=8))
def test_a_shared_memo_words_every_page_as_a_memo_of_its_own(pages: list[dict[str, float]]) -> None:
    """Pages that weigh a tag's sources alike share its words; no page gets another page's reason."""
    memo_space = build_space(MEMO_TAGS, MEMO_RELATIONS, parent_weight=0.8, evidence_weights=EVIDENCE)
    found = [[(t.slug, 0.5) for t in MEMO_TAGS]]  # one item naming every tag
    shared = ReasonMemo(memo_space)
    for weights in pages:
        assert explained(memo_space, weights, found, shared) == explained(memo_space, weights, found)
