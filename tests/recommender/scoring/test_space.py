"""recommender.scoring.space and vectors: tag order, expansion along forms and relations, unit vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommender.scoring.space import Relation, TagInfo, build_space
from recommender.scoring.vectors import normalise_rows, page_matrix_of, page_vector, product_matrix
from tests.recommender.scoring import EVIDENCE, TAGS, space


def test_tags_are_ordered_by_slug_and_indexed() -> None:
    s = space()
    assert [t.slug for t in s.tags] == sorted(t.slug for t in s.tags)
    assert all(s.tags[i].slug == slug for slug, i in s.index.items())
    assert s.size == len(s.tags) == s.expansion.shape[0] == s.expansion.shape[1]
    assert s.info("magnesium-glycinate").parent == "magnesium"


def test_expansion_is_identity_plus_edges() -> None:
    s = space()
    assert np.allclose(np.diag(s.expansion), 1.0)
    E = s.expansion
    i = s.index
    assert E[i["magnesium-glycinate"], i["magnesium"]] == pytest.approx(0.8)
    assert E[i["magnesium"], i["magnesium-glycinate"]] == 0  # a nutrient does not pass weight down to a form
    assert E[i["restless-legs-syndrome"], i["iron"]] == pytest.approx(0.9 * 1.0)
    assert E[i["restless-legs-syndrome"], i["magnesium"]] == pytest.approx(0.6 * 0.5)
    assert E[i["restless-legs-syndrome"], i["vitamin-d"]] == pytest.approx(0.4 * 0.6)
    assert E[i["iron"], i["restless-legs-syndrome"]] == 0


def test_relation_weight_scales_condition_edges_only() -> None:
    s = space(relation_weight=0.5)
    i = s.index
    assert s.expansion[i["restless-legs-syndrome"], i["magnesium"]] == pytest.approx(0.5 * 0.6 * 0.5)
    assert s.expansion[i["magnesium-glycinate"], i["magnesium"]] == pytest.approx(0.8)


def test_form_counts_toward_its_nutrient() -> None:
    s = space()
    v = s.expand(s.vector({"magnesium-glycinate": 1.0}))
    assert v[s.index["magnesium-glycinate"]] == pytest.approx(1.0)
    assert v[s.index["magnesium"]] == pytest.approx(0.8)
    assert v[s.index["iron"]] == 0


def test_condition_adds_related_nutrients_at_strength_times_evidence() -> None:
    s = space()
    v = s.expand(s.vector({"restless-legs-syndrome": 1.0}))
    assert v[s.index["iron"]] == pytest.approx(0.9)
    assert v[s.index["magnesium"]] == pytest.approx(0.3)
    assert v[s.index["vitamin-d"]] == pytest.approx(0.24)
    assert v[s.index["zinc"]] == 0


def test_grandparent_gets_parent_weight_squared() -> None:
    tags = [
        TagInfo("a", "A", "nutrient"),
        TagInfo("b", "B", "form", "a"),
        TagInfo("c", "C", "form", "b"),
    ]
    s = build_space(tags, [], parent_weight=0.5, evidence_weights=EVIDENCE)
    assert s.expansion[s.index["c"], s.index["b"]] == pytest.approx(0.5)
    assert s.expansion[s.index["c"], s.index["a"]] == pytest.approx(0.25)


def test_unknown_relation_endpoints_and_grades_are_ignored() -> None:
    tags = [TagInfo("a", "A", "condition"), TagInfo("b", "B", "nutrient")]
    rels = [Relation("a", "missing", 1.0, "rct"), Relation("a", "b", 1.0, "no-such-grade")]
    s = build_space(tags, rels, parent_weight=0.8, evidence_weights=EVIDENCE)
    assert np.array_equal(s.expansion, np.eye(2, dtype=np.float32))


def test_ancestors_survive_a_parent_cycle() -> None:
    tags = [TagInfo("a", "A", "form", "b"), TagInfo("b", "B", "form", "a")]
    s = build_space(tags, [], parent_weight=0.8, evidence_weights=EVIDENCE)
    assert s.ancestors("a") == ["a", "b"]
    assert s.ancestors("unknown") == []


def test_vector_ignores_unknown_tags() -> None:
    s = space()
    v = s.vector({"magnesium": 0.5, "no-such-tag": 1.0})
    assert v.dtype == np.float32
    assert v.sum() == pytest.approx(0.5)


def test_page_vector_is_unit_length_and_ignores_negative_weights() -> None:
    s = space()
    v = page_vector(s, {"magnesium": 1.0, "iron": -1.0})
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert v[s.index["iron"]] == 0
    assert v[s.index["magnesium"]] == pytest.approx(1.0)


def test_page_vector_of_nothing_is_zero() -> None:
    s = space()
    assert not page_vector(s, {}).any()
    assert not page_vector(s, {"iron": -1.0}).any()


def test_kind_weights_multiply_page_weights() -> None:
    s = space()
    plain = page_vector(s, {"magnesium": 1.0, "concentrace": 1.0})
    weighted = page_vector(s, {"magnesium": 1.0, "concentrace": 1.0}, {"product-line": 2.0})
    i, j = s.index["concentrace"], s.index["magnesium"]
    assert plain[i] == pytest.approx(plain[j])
    assert weighted[i] == pytest.approx(2 * weighted[j])


def test_product_matrix_rows_are_unit_or_zero() -> None:
    s = space()
    m = product_matrix(s, [{"magnesium": 1.0}, {}, {"iron": 0.3, "zinc": 0.3}])
    assert m.shape == (3, s.size)
    norms = np.linalg.norm(m, axis=1)
    assert norms == pytest.approx([1.0, 0.0, 1.0])


def test_normalise_rows_keeps_zero_rows() -> None:
    m = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32))
    assert np.allclose(m, [[0.6, 0.8], [0.0, 0.0]])


def test_multivitamin_does_not_win_a_magnesium_page() -> None:
    s = space()
    page = page_vector(s, {"magnesium": 1.0})
    products = product_matrix(
        s,
        [
            {"magnesium": 1.0, "iron": 1.0, "zinc": 1.0, "potassium": 1.0, "vitamin-d": 1.0},
            {"magnesium-glycinate": 1.0},
        ],
    )
    multi, glycinate = products @ page
    assert glycinate > multi


def test_rls_page_reaches_magnesium_product_through_the_relation() -> None:
    s = space()
    page = page_vector(s, {"restless-legs-syndrome": 1.0})
    products = product_matrix(s, [{"magnesium": 1.0}, {"zinc": 1.0}])
    magnesium, zinc = products @ page
    assert magnesium > 0
    assert zinc == 0


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([t.slug for t in TAGS] + ["unknown"]),
            st.sampled_from([-0.5, 0.0, 0.1, 0.35, 0.8, 1.0]),
            max_size=5,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_page_matrix_rows_are_the_page_vectors(pages: list[dict[str, float]]) -> None:
    s = space()
    kinds = {"nutrient": 1.0, "form": 0.7, "product-line": 0.5}
    matrix = page_matrix_of(s, pages, kinds)
    for row, weights in zip(matrix, pages, strict=True):
        np.testing.assert_allclose(row, page_vector(s, weights, kinds), atol=1e-6)
