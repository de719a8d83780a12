"""A product's cautions, as stored with its lists and as served: its tags' own (iron) and a dose caution for
each nutrient a serving holds above its supplemental upper limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext, gettext_noop

from recommender.adapters import NutrientFact
from recommender.models import Tag
from recommender.scoring.explain import in_sentence, keep, tag_name
from recommender.units import amount_words, convert

DOSE_CAUTION = gettext_noop(
    "One serving provides %(served)s of %(name)s, above the %(limit)s daily upper limit for supplemental intake. "
    "Check with your clinician before taking this amount."
)


def dose_text(params: Mapping[str, Any], translate: Callable[[str], str] = gettext) -> str:
    """The sentence of a dose caution in the active language (`keep`: the stored English)."""
    name = in_sentence(tag_name(str(params["name"]), translate))
    return translate(DOSE_CAUTION) % {"served": params["served"], "name": name, "limit": params["limit"]}


def served_caution(caution: Mapping[str, Any]) -> dict[str, str]:
    """A stored caution in the list's shape `{code, text}`, worded in the active language.

    A dose caution is worded from its params; a tag's caution is the taxonomy's text, read from the
    catalog (shipped tags are translated, a store's own text stays as written).
    """
    params = caution.get("params")
    if params and str(caution["code"]).startswith("dose-"):
        return {"code": caution["code"], "text": dose_text(params)}
    text = caution.get("text") or ""
    return {"code": caution["code"], "text": gettext(text) if text else text}


def dose_cautions(facts: Iterable[NutrientFact], tags: Mapping[str, Tag]) -> list[dict[str, Any]]:
    """A caution for each nutrient whose single serving (of these supplement facts) exceeds its
    supplemental upper limit."""
    cautions = []
    for fact in facts:
        tag = tags.get(fact.code)
        if tag is None or not tag.upper_limit:
            continue
        amount = convert(fact.amount, fact.unit, tag.unit or fact.unit, iu_per_unit=tag.iu_per_unit)
        if amount is not None and amount > tag.upper_limit:
            if tag.iu_per_unit:  # vitamins D, A, E: in IU as shoppers know them, and in the limit's unit
                served = amount_words(amount * tag.iu_per_unit, "IU", amount, tag.unit)
                limit = amount_words(tag.upper_limit * tag.iu_per_unit, "IU", tag.upper_limit, tag.unit)
            else:
                served = amount_words(fact.amount, fact.unit, amount, tag.unit)
                limit = amount_words(tag.upper_limit, tag.unit)
            params = {"name": tag.name, "served": served, "limit": limit}
            cautions.append({"code": f"dose-{tag.slug}", "text": dose_text(params, keep), "params": params})
    return cautions


def tag_cautions(slugs: Sequence[str], tags: Mapping[str, Tag]) -> list[dict[str, str]]:
    """Cautions of the product's tags, strongest level first."""
    with_caution = [tags[s] for s in slugs if s in tags and tags[s].caution]
    with_caution.sort(key=lambda t: (t.caution_level != Tag.CautionLevel.GUARD, t.slug))
    return [{"code": t.slug, "text": t.caution} for t in with_caution]
