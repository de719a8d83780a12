"""recommender.text.extract and lexicon: tag weights from title and text (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.text.extract import extract_tags
from recommender.text.lexicon import Lexicon, SynonymEntry, compile_lexicon

RLS = "restless-legs-syndrome"


def lexicon() -> Lexicon:
    return compile_lexicon(
        [
            SynonymEntry("magnesium", "magnesium"),
            SynonymEntry("Mg", "magnesium", case_sensitive=True),
            SynonymEntry("magnesium citrate", "magnesium-citrate"),
            SynonymEntry("magnesium citrates", "magnesium-citrate"),
            SynonymEntry("iron", "iron"),
            SynonymEntry("Fe", "iron", case_sensitive=True, needs_context=True),
            SynonymEntry("zinc", "zinc"),
            SynonymEntry("restless legs syndrome", RLS),
            SynonymEntry("restless legs", RLS),
            SynonymEntry("Willis-Ekbom disease", RLS),
            SynonymEntry("RLS", RLS, case_sensitive=True, needs_context=True),
            SynonymEntry("5 \u00b5g", "microgram-dose"),
        ]
    )


def tags(text: str, title: str = "", **kwargs: float) -> dict[str, float]:
    return {slug: tw.weight for slug, tw in extract_tags(lexicon(), title=title, text=text, **kwargs).items()}


def test_plain_mention_is_found() -> None:
    assert tags("Magnesium is discussed here.") == {"magnesium": 1.0}


def test_no_mentions_gives_nothing() -> None:
    assert tags("Houseplants need light and water.") == {}
    assert tags("") == {}


@pytest.mark.parametrize("text", ["Willis\u2013Ekbom disease", "Willis-Ekbom disease", "Willis\u2014Ekbom disease"])
def test_en_dash_matches_like_hyphen(text: str) -> None:
    assert tags(f"Some people have {text}.") == {RLS: 1.0}


def test_en_dash_synonym_matches_hyphen_text() -> None:
    lex = compile_lexicon([SynonymEntry("Willis\u2013Ekbom", RLS)])
    assert set(extract_tags(lex, title="", text="Willis-Ekbom is a name.")) == {RLS}


def test_micro_sign_and_greek_mu_match_the_same_synonym() -> None:
    assert "microgram-dose" in tags("take 5 \u03bcg daily")
    assert "microgram-dose" in tags("take 5 \u00b5g daily")


def test_case_sensitive_mg_is_magnesium_but_mg_is_milligrams() -> None:
    assert tags("Take 300 mg daily.") == {}
    assert tags("Take 300 MG daily.") == {}
    assert tags("Low Mg levels are common.") == {"magnesium": 1.0}


def test_case_insensitive_synonyms_match_any_case() -> None:
    assert tags("MAGNESIUM and Magnesium and magnesium") == {"magnesium": 1.0}
    assert extract_tags(lexicon(), title="", text="MAGNESIUM and Magnesium")["magnesium"].mentions == 2


@pytest.mark.parametrize("text", ["the environment matters", "ironic", "irons", "zincs", "Mgx", "xMg", "magnesiums"])
def test_word_boundaries(text: str) -> None:
    assert tags(text) == {}


def test_punctuation_is_a_boundary() -> None:
    assert tags("(iron), zinc; magnesium.") == {"iron": 1.0, "zinc": 1.0, "magnesium": 1.0}


def test_longest_match_wins() -> None:
    assert tags("Magnesium citrate is a salt.") == {"magnesium-citrate": 1.0}
    assert tags("Magnesium citrates are salts.") == {"magnesium-citrate": 1.0}


def test_longest_match_does_not_also_count_the_shorter_synonym() -> None:
    found = extract_tags(lexicon(), title="", text="magnesium citrate and magnesium citrate")
    assert set(found) == {"magnesium-citrate"}
    assert found["magnesium-citrate"].mentions == 2


@pytest.mark.parametrize(
    "sentence",
    [
        "This formula is iron-free.",
        "It is iron free.",
        "Take it without iron.",
        "Avoid extra iron.",
        "This product has no iron.",
        "It is free of iron.",
        "Do not take iron.",
    ],
)
def test_negated_mention_gets_negative_weight(sentence: str) -> None:
    found = tags(f"Magnesium is discussed. {sentence}")
    assert found["magnesium"] == 1.0
    assert found["iron"] < 0


def test_negation_stays_within_its_clause() -> None:
    found = tags("There is no doubt. Iron matters.")
    assert found == {"iron": 1.0}
    assert tags("Not magnesium; iron matters.")["iron"] == 1.0


def test_negated_mentions_count_against_plain_ones() -> None:
    plain = tags("Magnesium. Magnesium. Iron. Iron.")["iron"]
    mixed = tags("Magnesium. Magnesium. Iron. Iron. Avoid iron.")["iron"]
    assert mixed < plain


def test_weights_are_in_range_and_top_positive_is_one() -> None:
    found = tags("magnesium magnesium magnesium magnesium iron. Without zinc.")
    assert max(found.values()) == 1.0
    assert all(-1.0 <= w <= 1.0 for w in found.values())
    assert 0 < found["iron"] < found["magnesium"]
    assert found["zinc"] < 0


def test_counts_are_sublinear() -> None:
    found = tags("magnesium " * 4 + "iron")
    assert found["iron"] == pytest.approx(0.5)  # sqrt(1) / sqrt(4)


def test_title_mentions_weigh_more() -> None:
    found = tags("magnesium.", title="Iron")
    assert found["iron"] == 1.0
    assert found["magnesium"] == pytest.approx(1 / 3**0.5, abs=1e-3)
    even = tags("magnesium.", title="Iron", title_weight=1.0)
    assert even["magnesium"] == even["iron"] == 1.0


def test_title_mention_counts_once_per_mention() -> None:
    found = extract_tags(lexicon(), title="Iron", text="iron")
    assert found["iron"].mentions == 2


def test_database_rls_article_gets_no_restless_legs_tag() -> None:
    title = "Row-level security in PostgreSQL"
    text = (
        "RLS lets a table restrict which rows a role can see. Enable RLS with ALTER TABLE. "
        "Each RLS policy is an expression. With RLS on, superusers still bypass RLS unless forced. "
    ) * 10
    assert RLS not in tags(text, title=title)
    assert tags(text, title="RLS policies") == {}


def test_rls_near_restless_legs_syndrome_counts() -> None:
    text = "Restless legs syndrome (RLS) is common. RLS is worse at night. Many people with RLS sleep badly."
    found = extract_tags(lexicon(), title="", text=text)
    assert found[RLS].weight == 1.0
    assert found[RLS].mentions == 4


def test_rls_in_title_counts_when_body_names_it() -> None:
    found = extract_tags(lexicon(), title="RLS and magnesium", text="Restless legs syndrome is common.")
    assert found[RLS].mentions == 2


def test_rls_far_from_any_plain_mention_does_not_count() -> None:
    text = "Restless legs syndrome is common." + " filler" * 200 + " RLS here."
    near = extract_tags(lexicon(), title="", text=text, context_window=5000)[RLS].mentions
    far = extract_tags(lexicon(), title="", text=text, context_window=100)[RLS].mentions
    assert (near, far) == (2, 1)


def test_needs_context_synonym_is_supported_only_by_its_own_tag() -> None:
    assert "iron" not in tags("Fe is a symbol. Magnesium is a metal.")
    assert tags("Fe is a symbol for iron.")["iron"] == 1.0


@pytest.mark.parametrize("text", ["\u0130ron", "\u0131ron"])
def test_turkish_i_does_not_crash(text: str) -> None:
    tags(f"{text} is mentioned here.")


WORDS = st.sampled_from(
    ["magnesium", "Mg", "mg", "iron", "iron-free", "without", "RLS", "restless legs", "zinc", "the", ".", ",", "no"]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(WORDS, max_size=30).map(" ".join),
    st.lists(WORDS, max_size=5).map(" ".join),
)
def test_weights_always_bounded(text: str, title: str) -> None:
    found = extract_tags(lexicon(), title=title, text=text)
    assert all(-1.0 <= tw.weight <= 1.0 and tw.weight != 0 and tw.mentions >= 1 for tw in found.values())
    positives = [tw.weight for tw in found.values() if tw.weight > 0]
    if positives:
        assert max(positives) == 1.0
