"""recommender.scoring.rank: similarity plus the business rules of DESIGN.md section 4 (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from recommender.scoring.rank import ProductMeta, Ranked, RankParams, Rule, diversify, rank
from recommender.scoring.vectors import normalise_rows, page_vector, product_matrix
from tests.recommender.scoring import space

NO_CAPS = RankParams(limit=20, min_score=0.0, max_per_nutrient=0, max_per_brand=0)


def rows(*vectors: Sequence[float]) -> np.ndarray:
    return normalise_rows(np.array(vectors, dtype=np.float32))


def page(*values: float) -> np.ndarray:
    return normalise_rows(np.array(values, dtype=np.float32))


def ids(ranked: list[Ranked]) -> list[int]:
    return [r.product_id for r in ranked]


def metas(n: int, **overrides: dict[int, object]) -> list[ProductMeta]:
    """n available products with ids 1..n; overrides map a field to {id: value}."""
    out = []
    for pid in range(1, n + 1):
        fields = {name: values[pid] for name, values in overrides.items() if pid in values}
        out.append(ProductMeta(id=pid, available=fields.pop("available", True), **fields))
    return out


# Three products along one axis with decreasing similarity to the page [1, 0].
P = page(1, 0)
M3 = rows([1, 0], [1, 0.5], [1, 1.5])


def test_ranked_by_similarity() -> None:
    result = rank(P, M3, metas(3), params=NO_CAPS)
    assert ids(result) == [1, 2, 3]
    scores = [r.score for r in result]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0)
    assert [r.index for r in result] == [0, 1, 2]


def test_unavailable_products_are_out() -> None:
    result = rank(P, M3, metas(3, available={1: False}), params=NO_CAPS)
    assert ids(result) == [2, 3]


def test_products_carrying_a_tag_the_page_speaks_against_are_out() -> None:
    m = metas(3, tags={1: frozenset({"iron"}), 2: frozenset({"magnesium"})})
    assert ids(rank(P, M3, m, against=frozenset({"iron"}), params=NO_CAPS)) == [2, 3]


def test_exclude() -> None:
    result = rank(P, M3, metas(3), rules=[Rule(1, "exclude")], params=NO_CAPS)
    assert ids(result) == [2, 3]


def test_boost_moves_a_product_up() -> None:
    result = rank(P, M3, metas(3), rules=[Rule(3, "boost", factor=3.0)], params=NO_CAPS)
    assert ids(result)[0] == 3


def test_bury_moves_a_product_down() -> None:
    result = rank(P, M3, metas(3), rules=[Rule(1, "bury")], params=NO_CAPS)
    assert ids(result) == [2, 3, 1]


def test_buried_product_stays_listed_with_default_params() -> None:
    result = rank(P, M3, metas(3), rules=[Rule(1, "bury")], params=RankParams())
    assert ids(result) == [2, 3, 1]


def test_rules_for_unknown_products_are_ignored() -> None:
    rules = [Rule(99, "boost", factor=5), Rule(98, "bury"), Rule(97, "exclude"), Rule(96, "pin", position=1)]
    assert ids(rank(P, M3, metas(3), rules=rules, params=NO_CAPS)) == [1, 2, 3]


def test_pins_at_their_positions() -> None:
    m4 = rows([1, 0], [1, 0.5], [1, 1.5], [0, 1])  # product 4 is unrelated to the page
    result = rank(P, m4, metas(4), rules=[Rule(4, "pin", position=2), Rule(3, "pin", position=1)], params=NO_CAPS)
    assert ids(result) == [3, 4, 1, 2]
    assert [r.pinned for r in result] == [True, True, False, False]
    assert result[1].score == 0.0


def test_pin_beyond_the_list_goes_to_its_end_and_pin_beyond_limit_is_dropped() -> None:
    assert ids(rank(P, M3, metas(3), rules=[Rule(1, "pin", position=10)], params=NO_CAPS)) == [2, 3, 1]
    limited = RankParams(limit=2, min_score=0.0, max_per_nutrient=0, max_per_brand=0)
    assert ids(rank(P, M3, metas(3), rules=[Rule(3, "pin", position=3)], params=limited)) == [1, 2]


def test_unavailable_or_excluded_pins_are_not_shown() -> None:
    rules = [Rule(3, "pin", position=1), Rule(2, "pin", position=1), Rule(2, "exclude")]
    assert ids(rank(P, M3, metas(3, available={3: False}), rules=rules, params=NO_CAPS)) == [1]


def test_pin_carries_its_link_params() -> None:
    rules = [Rule(2, "pin", position=1, link_params=(("utm_campaign", "spring"),))]
    first = rank(P, M3, metas(3), rules=rules, params=NO_CAPS)[0]
    assert (first.product_id, first.pinned, first.link_params) == (2, True, {"utm_campaign": "spring"})


def test_guarded_product_is_never_first() -> None:
    result = rank(P, M3, metas(3, guarded={1: True}), params=NO_CAPS)
    assert ids(result) == [2, 1, 3]


def test_guarded_product_is_first_when_pinned() -> None:
    result = rank(P, M3, metas(3, guarded={1: True}), rules=[Rule(1, "pin", position=1)], params=NO_CAPS)
    assert ids(result)[0] == 1


def test_all_guarded_gives_no_unpinned_lead() -> None:
    result = rank(P, M3, metas(3, guarded={1: True, 2: True, 3: True}), params=NO_CAPS)
    assert result == []


def test_guarded_product_may_lead_on_a_page_about_its_nutrient() -> None:
    iron = frozenset({"iron"})
    m = metas(3, guarded={1: True}, guards={1: iron})
    assert ids(rank(P, M3, m, subject="iron", params=NO_CAPS))[0] == 1
    assert ids(rank(P, M3, m, subject="magnesium", params=NO_CAPS))[0] == 2


def test_nothing_leads_only_because_guarded_products_moved() -> None:
    weak = rows([1, 0], [0.2, 1])  # product 2 is barely relevant
    m = metas(2, guarded={1: True})
    assert rank(P, weak, m, params=RankParams(limit=5, min_score=0.0)) == []


def test_products_containing_an_avoided_nutrient_at_any_amount_are_out() -> None:
    m = metas(3, contains={1: frozenset({"iron"}), 2: frozenset({"vitamin-c", "zinc"})})
    assert ids(rank(P, M3, m, against=frozenset({"iron", "vitamin-c"}), params=NO_CAPS)) == [3]


def test_huge_boost_factors_never_overflow() -> None:
    result = rank(P, M3, metas(3), rules=[Rule(3, "boost", factor=1e39), Rule(2, "boost", factor=float("inf"))])
    assert all(np.isfinite(r.score) for r in result)


def test_at_most_one_guarded_product_in_the_top_three() -> None:
    m5 = rows([1, 0], [1, 0.1], [1, 0.2], [1, 0.3], [1, 0.4])
    m = metas(5, guarded={1: True, 2: True, 3: True})
    assert ids(rank(P, m5, m, params=NO_CAPS)) == [4, 1, 5, 2, 3]


def test_no_benefit_nutrient_does_not_lead() -> None:
    m = metas(3, primary_nutrient={1: "magnesium", 2: "magnesium", 3: "electrolytes"})
    result = rank(
        P, M3, m, held_back=frozenset({"magnesium"}), params=RankParams(limit=5, min_score=0.0, lead_share=0.3)
    )
    assert ids(result) == [3, 1, 2]


def test_pins_never_show_a_product_the_page_says_to_avoid() -> None:
    m = metas(3, contains={2: frozenset({"iron"})})
    result = rank(P, M3, m, rules=[Rule(2, "pin", position=1)], against=frozenset({"iron"}), params=NO_CAPS)
    assert 2 not in ids(result)


def test_guarded_products_are_kept() -> None:
    result = rank(P, M3, metas(3, guarded={1: True, 2: True}), params=NO_CAPS)
    assert ids(result) == [3, 1, 2]


def test_over_limit_ranks_below_an_equal_product_within_limit() -> None:
    same = rows([1, 0], [1, 0])
    result = rank(P, same, metas(2, over_limit={1: True}), params=NO_CAPS)
    assert ids(result) == [2, 1]
    assert result[1].score == pytest.approx(0.85 * result[0].score)


def test_over_limit_penalty_is_a_setting() -> None:
    same = rows([1, 0], [1, 0])
    params = RankParams(min_score=0.0, dose_penalty=1.0)
    assert ids(rank(P, same, metas(2, over_limit={1: True}), params=params)) == [1, 2]


def test_diversity_caps_per_primary_nutrient() -> None:
    n = 6
    m = rows(*[[1, 0.1 * i] for i in range(n)])
    nutrient = {pid: "magnesium" for pid in range(1, n)} | {n: "iron"}
    params = RankParams(limit=4, min_score=0.0, max_per_nutrient=3, max_per_brand=0)
    assert ids(rank(P, m, metas(n, primary_nutrient=nutrient), params=params)) == [1, 2, 3, 6]


def test_products_over_a_cap_follow_the_others() -> None:
    n = 6
    m = rows(*[[1, 0.1 * i] for i in range(n)])
    nutrient = {pid: "magnesium" for pid in range(1, n)} | {n: "iron"}
    params = RankParams(limit=10, min_score=0.0, max_per_nutrient=3, max_per_brand=0)
    assert ids(rank(P, m, metas(n, primary_nutrient=nutrient), params=params)) == [1, 2, 3, 6, 4, 5]


def test_diversity_caps_per_brand() -> None:
    n = 6
    m = rows(*[[1, 0.1 * i] for i in range(n)])
    brand = {pid: "Acme" for pid in range(1, n)} | {n: "Other"}
    params = RankParams(limit=3, min_score=0.0, max_per_nutrient=0, max_per_brand=2)
    assert ids(rank(P, m, metas(n, brand=brand), params=params)) == [1, 2, 6]


def test_products_without_nutrient_or_brand_are_not_capped() -> None:
    m = rows(*[[1, 0.1 * i] for i in range(5)])
    params = RankParams(limit=10, min_score=0.0, max_per_nutrient=1, max_per_brand=1)
    assert ids(rank(P, m, metas(5), params=params)) == [1, 2, 3, 4, 5]


def test_min_score_gives_an_empty_list_for_an_unrelated_page() -> None:
    assert rank(page(0, 1), rows([1, 0], [1, 0.05]), metas(2)) == []


def test_min_score_cuts_weak_matches() -> None:
    result = rank(P, M3, metas(3), params=RankParams(min_score=0.8, max_per_nutrient=0, max_per_brand=0))
    assert ids(result) == [1, 2]


def test_ties_break_by_product_id() -> None:
    same = rows([1, 0], [1, 0], [1, 0])
    m = [ProductMeta(id=pid, available=True) for pid in (9, 3, 5)]
    result = rank(P, same, m, params=NO_CAPS)
    assert ids(result) == [3, 5, 9]
    assert [r.index for r in result] == [1, 2, 0]


def test_at_most_limit() -> None:
    m = rows(*[[1, 0.01 * i] for i in range(10)])
    assert len(rank(P, m, metas(10), params=RankParams(limit=4, min_score=0.0))) == 4


def test_empty_catalog() -> None:
    assert rank(P, np.zeros((0, 2), dtype=np.float32), []) == []


def test_end_to_end_rls_page_prefers_magnesium_over_unrelated() -> None:
    s = space()
    pv = page_vector(s, {"restless-legs-syndrome": 1.0, "magnesium": 0.7})
    products = product_matrix(s, [{"zinc": 1.0}, {"magnesium-glycinate": 1.0}, {"iron": 1.0}])
    m = [
        ProductMeta(1, True, primary_nutrient="zinc"),
        ProductMeta(2, True, primary_nutrient="magnesium"),
        ProductMeta(3, True, primary_nutrient="iron", guarded=True),
    ]
    result = rank(pv, products, m)
    assert ids(result)[0] == 2
    assert 1 not in ids(result)


# --- properties ---------------------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(0, 8))
    dim = draw(st.integers(1, 4))
    unit = st.floats(0, 1, allow_nan=False, width=32)
    matrix = rows(*[draw(st.lists(unit, min_size=dim, max_size=dim)) for _ in range(n)]) if n else None
    if matrix is None:
        matrix = np.zeros((0, dim), dtype=np.float32)
    pv = page(*draw(st.lists(unit, min_size=dim, max_size=dim)))
    product_ids = draw(st.lists(st.integers(1, 50), min_size=n, max_size=n, unique=True))
    ms = [
        ProductMeta(
            id=pid,
            available=draw(st.booleans()),
            brand=draw(st.sampled_from(["", "A", "B"])),
            primary_nutrient=draw(st.sampled_from(["", "magnesium", "iron"])),
            guarded=draw(st.booleans()),
            over_limit=draw(st.booleans()),
            tags=frozenset(draw(st.sets(st.sampled_from(["iron", "magnesium", "zinc"]), max_size=2))),
            contains=frozenset(draw(st.sets(st.sampled_from(["iron", "magnesium", "vitamin-c"]), max_size=2))),
        )
        for pid in product_ids
    ]
    # A guarded product is guarded by iron; the page may be about iron itself.
    ms = [ProductMeta(**{**m.__dict__, "guards": frozenset({"iron"}) if m.guarded else frozenset()}) for m in ms]
    limit = draw(st.integers(1, 6))
    rule_ids = st.sampled_from([*product_ids, 99]) if product_ids else st.just(99)
    rules = draw(
        st.lists(
            st.builds(
                Rule,
                product_id=rule_ids,
                action=st.sampled_from(["pin", "boost", "bury", "exclude"]),
                position=st.one_of(st.none(), st.integers(1, limit + 2)),
                factor=st.floats(0, 3, allow_nan=False),
            ),
            max_size=4,
        )
    )
    params = RankParams(
        limit=limit,
        min_score=draw(st.floats(0, 0.5, allow_nan=False)),
        max_per_nutrient=draw(st.integers(0, 3)),
        max_per_brand=draw(st.integers(0, 3)),
    )
    against = frozenset(draw(st.sets(st.sampled_from(["iron", "zinc", "vitamin-c"]), max_size=1)))
    return pv, matrix, ms, rules, params, against


def effective_pins(ms: list[ProductMeta], rules: list[Rule], against: frozenset[str]) -> dict[int, int]:
    """Product id -> requested position for pins that should be shown (available, not excluded, safe)."""
    excluded = {r.product_id for r in rules if r.action == "exclude"}
    available = {m.id for m in ms if m.available and not m.holds & against}
    pins = {r.product_id: max(1, r.position or 1) for r in rules if r.action == "pin"}
    return {pid: pos for pid, pos in pins.items() if pid in available and pid not in excluded}


def check_basic_invariants(
    result: list[Ranked], ms: list[ProductMeta], rules: list[Rule], params: RankParams, against: frozenset[str]
) -> None:
    """At most limit, unique, available only, never excluded, above min score unless pinned."""
    by_id = {m.id: m for m in ms}
    excluded = {r.product_id for r in rules if r.action == "exclude"}
    assert len(result) <= params.limit
    assert len(set(ids(result))) == len(result)
    assert all(by_id[r.product_id].available for r in result)
    assert not excluded & set(ids(result))
    assert all(ms[r.index].id == r.product_id for r in result)
    for r in result:
        assert not (by_id[r.product_id].holds & against)  # never, not even pinned
        if not r.pinned:
            assert r.score >= np.float32(params.min_score)  # scores are float32


def check_pins(
    result: list[Ranked], ms: list[ProductMeta], rules: list[Rule], params: RankParams, against: frozenset[str]
) -> None:
    """Pins with distinct positions that fit within the limit are shown at their positions."""
    pins = effective_pins(ms, rules, against)
    if len(set(pins.values())) != len(pins):
        return
    shown = ids(result)
    for pid, position in pins.items():
        if position <= params.limit:
            assert pid in shown
    for k, r in enumerate(result, start=1):
        if r.pinned:
            position = pins[r.product_id]
            # At its position, or earlier only because the list ran out of unpinned products.
            assert k == position or (k < position and all(x.pinned for x in result[k - 1 :]))
        else:
            assert r.product_id not in pins


def check_guard(
    result: list[Ranked], ms: list[ProductMeta], params: RankParams, subject: str = "", rules: Sequence[Rule] = ()
) -> None:
    """A guarded product never stands first unless pinned (or the page is about its nutrient), even when
    every candidate is guarded; an unpinned first item is relevant in its own right (buried items, which
    follow everything else whatever their score, aside)."""
    by_id = {m.id: m for m in ms}
    if not result or result[0].pinned:
        return
    lead = by_id[result[0].product_id]
    assert not lead.guarded or (subject and lead.guards <= {subject})
    buried = {r.product_id for r in rules if r.action == "bury"}
    others = [r.score for r in result if not r.pinned and r.product_id not in buried]
    assert all(result[0].score >= params.lead_share * score - 1e-6 for score in others)


def key(result: list[Ranked]) -> list[tuple[int, float, bool]]:
    # float32 dot products may differ in the last bit with the row order (BLAS); compare what users see.
    return [(r.product_id, round(r.score, 5), r.pinned) for r in result]


@settings(max_examples=250, deadline=None)
@given(scenarios())
def test_rank_properties(scenario: tuple) -> None:
    pv, matrix, ms, rules, params, against = scenario
    result = rank(pv, matrix, ms, rules=rules, against=against, params=params)
    check_basic_invariants(result, ms, rules, params, against)
    check_pins(result, ms, rules, params, against)
    check_guard(result, ms, params, rules=rules)
    # Deterministic, and independent of the order products come in (ties break by id).
    again = rank(pv, matrix.copy(), list(ms), rules=list(rules), against=against, params=params)
    assert key(again) == key(result)
    order = list(reversed(range(len(ms))))
    flipped = rank(pv, matrix[order], [ms[i] for i in order], rules=rules, against=against, params=params)
    assert key(flipped) == key(result)


@settings(max_examples=250, deadline=None)
@given(scenarios(), st.sampled_from(["", "iron", "magnesium"]))
def test_guard_rule_holds_for_any_subject(scenario: tuple, subject: str) -> None:
    """Property: the list never starts with a guarded product unless pinned, including when every
    candidate is guarded; only a page about iron itself may start with an iron product."""
    pv, matrix, ms, rules, params, against = scenario
    result = rank(pv, matrix, ms, rules=rules, against=against, subject=subject, params=params)
    check_basic_invariants(result, ms, rules, params, against)
    check_guard(result, ms, params, subject, rules)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.integers(1, 3))
def test_rank_properties_with_a_pin_on_a_guarded_product(scenario: tuple, position: int) -> None:
    pv, matrix, ms, rules, params, against = scenario
    assume(ms)
    guarded = ProductMeta(ms[0].id, True, guarded=True)
    ms = [guarded, *ms[1:]]
    others = [r for r in rules if r.product_id != guarded.id and r.action != "pin"]
    rules = [*others, Rule(guarded.id, "pin", position=position)]
    result = rank(pv, matrix, ms, rules=rules, against=against, params=params)
    check_basic_invariants(result, ms, rules, params, against)
    check_pins(result, ms, rules, params, against)
    check_guard(result, ms, params, rules=rules)
    if position <= params.limit:
        assert ids(result).index(guarded.id) + 1 == min(position, len(result))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["", "magnesium", "zinc", "iron"]), st.sampled_from(["", "A", "B"])), max_size=40
    ),
    st.randoms(use_true_random=False),
    st.integers(0, 3),
    st.booleans(),
)
def test_diversify_counting_in_arrays_keeps_what_the_loop_keeps(products, random, cap, by_nutrient) -> None:
    """With one cap set, `diversify` counts by numbers in array passes; the order is the plain loop's."""
    metas = [
        ProductMeta(i, True, brand=brand, primary_nutrient=nutrient) for i, (nutrient, brand) in enumerate(products)
    ]
    order = list(range(len(metas)))
    random.shuffle(order)
    order = order[: random.randint(0, len(order))]
    params = RankParams(max_per_nutrient=cap if by_nutrient else 0, max_per_brand=0 if by_nutrient else cap)
    counted = [m.primary_nutrient if by_nutrient else m.brand for m in metas]
    number = {value: n for n, value in enumerate(sorted(set(counted) - {""}))}
    keys = np.array([number.get(value, -1) for value in counted], dtype=np.intp)
    assert diversify(order, metas, params, keys) == diversify(order, metas, params)
