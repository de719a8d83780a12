"""recommender.scoring.facts: how central each nutrient is to a product."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommender.scoring.facts import centrality
from recommender.scoring.vectors import product_matrix
from tests.recommender.scoring import space

MAGNESIUM_RI = 400.0  # mg
POTASSIUM_RI = 3400.0  # mg


def test_potassium_only_99_mg_product_is_fully_potassium() -> None:
    assert centrality({"potassium": 99 / POTASSIUM_RI}) == {"potassium": 1.0}


def test_500_mg_and_200_mg_magnesium_only_are_the_same_match() -> None:
    big = centrality({"magnesium": 500 / MAGNESIUM_RI})
    small = centrality({"magnesium": 200 / MAGNESIUM_RI})
    assert big == small == {"magnesium": 1.0}


def test_500_mg_and_200_mg_magnesium_products_score_the_same() -> None:
    s = space()
    rows = product_matrix(
        s, [centrality({"magnesium": 500 / MAGNESIUM_RI}), centrality({"magnesium": 200 / MAGNESIUM_RI})]
    )
    assert rows[0].tolist() == rows[1].tolist()


def test_shares_are_relative_to_the_top_nutrient() -> None:
    result = centrality({"magnesium": 250 / MAGNESIUM_RI, "potassium": 99 / POTASSIUM_RI})
    assert result["magnesium"] == 1.0
    assert result["potassium"] == pytest.approx((99 / POTASSIUM_RI) / (250 / MAGNESIUM_RI), abs=1e-4)


def test_doses_above_one_intake_count_as_one() -> None:
    assert centrality({"magnesium": 3.0, "zinc": 1.0}) == {"magnesium": 1.0, "zinc": 1.0}


def test_tiny_traces_and_unknown_ratios_are_dropped() -> None:
    assert centrality({"magnesium": 1.0, "sodium": 0.005, "sulfate": 0.0}) == {"magnesium": 1.0}


def test_nothing_known_gives_nothing() -> None:
    assert centrality({}) == {}
    assert centrality({"boron": 0.0}) == {}
    assert centrality({"x": -1.0}) == {}


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.floats(-2, 50, allow_nan=False)))
def test_centrality_is_bounded_and_top_is_one(ratios: dict[str, float]) -> None:
    result = centrality(ratios)
    assert all(0.01 <= v <= 1.0 for v in result.values())
    if result:
        assert max(result.values()) == 1.0
    assert set(result) <= {k for k, v in ratios.items() if v > 0}
