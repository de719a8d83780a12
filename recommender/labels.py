"""Supplement facts as labels print them: parse a `nutrients` cell and map its lines to taxonomy tags.

Pure functions over strings and a plain snapshot of the taxonomy (`LabelIndex`); no ORM, so the import, the
admin and the tests share one parser that runs without a database.

A cell is a `;`-separated list of `name=amount unit [form]` items (DESIGN.md section 7):

- name: a slug or any synonym, matched case-insensitively ("Vitamin B2", "Riboflavin", "vitamin-b2"), with a
  form split off ("Magnesium (as Magnesium Glycinate)", "Vitamin D3 (as cholecalciferol)"); a name that is a
  form ("Folic Acid", "Cholecalciferol") counts toward its nutrient.
- amount: a number ("1,000", "<1"), or "NP" when the label prints none (blend members).
- unit: see `recommender.units`; whatever follows it is the form, except a leading "(1000 IU)" or
  "(400 mcg folic acid)" and a "25% DV", which are read as such.

Lines that are not taxonomy nutrients (botanicals, calories, amino acids, blends, NP members, %DV of a nutrient
with no Daily Value) are kept as facts and never scored. Only a malformed item raises `LabelError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from recommender import units

MAX_AMOUNT = Decimal(10) ** 8  # NutrientAmount.amount: 12 digits, 4 after the point
PLACES = Decimal("0.0001")
CODE_LENGTH = 60
FORM_LENGTH = 120
LABEL_LENGTH = 200
NOT_PRINTED = "np"

_NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
_VALUE = re.compile(
    rf"^(?P<lt><\s*)?(?P<amount>{_NUMBER})\s*(?P<unit>{units.UNIT_PATTERN})(?![\w-])\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_NUMBER_START = re.compile(rf"^<?\s*(?:{_NUMBER})\s*(?P<unit>[^\s(]*)")
_ALT = re.compile(
    rf"^\(\s*(?P<amount>{_NUMBER})\s*(?P<unit>{units.UNIT_PATTERN})(?![\w-])\s*(?P<name>[^)]*)\)\s*", re.IGNORECASE
)
_PERCENT_DV = re.compile(rf"(?:^|\s)(?P<percent>{_NUMBER})\s*%\s*(?:DV|daily value)?(?![\w-])", re.IGNORECASE)
_NAME_FORM = re.compile(r"^(?P<name>[^()]*?)\s*\(\s*(?:as|from)?\s*(?P<form>[^()]*)\)\s*$", re.IGNORECASE)
_WRAPPED_FORM = re.compile(r"^\(\s*(?:as|from)?\s*(?P<form>[^()]*)\)$", re.IGNORECASE)
_FORM_SPLIT = re.compile(r"\s*(?:\+|,|&|\band\b|/)\s*", re.IGNORECASE)


class LabelError(ValueError):
    """A malformed supplement-facts item: the only error the parser raises."""


@dataclass(frozen=True)
class TagInfo:
    """What the parser needs to know of one taxonomy tag."""

    slug: str
    kind: str
    parent: str | None = None
    unit: str = ""
    iu_per_unit: float | None = None
    upper_limit: float | None = None


@dataclass(frozen=True)
class LabelIndex:
    """The taxonomy as the parser sees it: normalised names -> slug, and tags by slug."""

    names: Mapping[str, str]
    tags: Mapping[str, TagInfo]


@dataclass(frozen=True)
class PrintedItem:
    """One item split into its printed parts, before any mapping."""

    text: str
    name: str
    amount: Decimal | None  # None: "NP", no amount printed
    unit: str  # canonical unit; "" when no amount
    form: str
    daily_value: Decimal | None = None
    alternates: tuple[tuple[Decimal, str, str], ...] = ()  # "(1000 IU)", "(400 mcg folic acid)"


@dataclass(frozen=True)
class LabelFact:
    """One supplement-facts line ready to store: a taxonomy slug as code when the name maps to one."""

    code: str
    label: str
    amount: Decimal | None
    unit: str
    form: str = ""
    daily_value: Decimal | None = None
    tagged: bool = False  # maps to a taxonomy nutrient with an amount scoring can use


@dataclass
class ParsedFacts:
    """The facts of one cell and how many printed items were kept without a tag."""

    facts: list[LabelFact] = field(default_factory=list)
    untagged: int = 0


def name_key(text: str) -> str:
    """How names are compared: case-insensitive, hyphens and underscores as spaces, marks dropped."""
    text = re.sub(r"[®™*†‡]", "", text).replace("–", "-").replace("_", " ")
    return " ".join(text.replace("-", " ").lower().split()).strip(" .:")


def code_for(name: str) -> str:
    """A slug for a line that is not in the taxonomy ("Garlic Oil" -> garlic-oil)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name_key(name)).strip("-")[:CODE_LENGTH].strip("-")
    return slug or "line"


def label_index(tags: Iterable[TagInfo], synonyms: Iterable[tuple[str, str]]) -> LabelIndex:
    """Build the index from tags and (synonym text, slug) pairs; slugs and names first, then synonyms."""
    by_slug = {t.slug: t for t in tags}
    names: dict[str, str] = {}
    for tag in by_slug.values():
        names.setdefault(name_key(tag.slug), tag.slug)
    for text, slug in synonyms:
        if slug in by_slug:
            names.setdefault(name_key(text), slug)
    return LabelIndex(names=names, tags=by_slug)


# "1.000 mg" is 1 mg to a US label and 1000 mg where a point groups thousands; since "1,000" is read as
# a thousand, a point before exactly three digits (with no leading zero) is refused as ambiguous.
_AMBIGUOUS_POINT = re.compile(r"^[1-9][0-9]{0,2}\.[0-9]{3}$")


def _amount(text: str) -> Decimal:
    if _AMBIGUOUS_POINT.match(text):
        whole, _, fraction = text.partition(".")
        raise LabelError(
            f"amount {text} is ambiguous (a point may group thousands): write {Decimal(text).normalize():f} "
            f"or {whole}{fraction} (or {whole},{fraction})"
        )
    amount = Decimal(text.replace(",", ""))
    if amount >= MAX_AMOUNT:
        raise LabelError(f"amount {text} is too large")
    return amount


def _bad_value(name: str, value: str) -> LabelError:
    m = _NUMBER_START.match(value)
    if m is None:
        return LabelError(f"{name!r}: amount {value.split()[0]!r} is not a number (or NP)")
    if not m["unit"]:
        return LabelError(f"{name!r}: amount {value!r} has no unit")
    return LabelError(f"{name!r}: unknown unit {m['unit']!r} (units: {', '.join(units.UNITS)})")


def _split_name(raw: str) -> tuple[str, str]:
    m = _NAME_FORM.match(raw)
    if m and m["name"].strip():
        return m["name"].strip(), m["form"].strip()
    return raw.strip(), ""


def _split_rest(rest: str, unit: str) -> tuple[str, Decimal | None, tuple[tuple[Decimal, str, str], ...]]:
    """Form text, %DV and alternate amounts from what follows the unit."""
    alternates = []
    while (alt := _ALT.match(rest)) is not None:
        alt_unit = units.parse_unit(alt["unit"]) or alt["unit"]
        alternates.append((_amount(alt["amount"]), alt_unit, alt["name"].strip()))
        rest = rest[alt.end() :]
    daily_value = None
    if unit != units.PERCENT_DV and (dv := _PERCENT_DV.search(rest)) is not None:
        daily_value = _amount(dv["percent"])
        rest = rest[: dv.start()] + " " + rest[dv.end() :]
    form = " ".join(rest.split()).strip(" ,;")
    wrapped = _WRAPPED_FORM.match(form)
    return (wrapped["form"].strip() if wrapped else form), daily_value, tuple(alternates)


def parse_item(text: str) -> PrintedItem:
    """Split one `name=amount unit [form]` item into its printed parts; `LabelError` when malformed."""
    raw_name, sep, value = text.partition("=")
    name, name_form = _split_name(" ".join(raw_name.split()))
    if not name:
        raise LabelError(f"item {text.strip()!r} has no nutrient name")
    value = " ".join(value.split())
    if not sep or value.lower() == NOT_PRINTED:
        return PrintedItem(text=text.strip(), name=name, amount=None, unit="", form=name_form)
    if not value:
        raise LabelError(f"{name!r} has no amount (write NP when the label prints none)")
    m = _VALUE.match(value)
    if m is None:
        raise _bad_value(name, value)
    unit = units.parse_unit(m["unit"])
    if unit is None:  # pragma: no cover - the pattern only matches known spellings
        raise _bad_value(name, value)
    form, daily_value, alternates = _split_rest(m["rest"], unit)
    amount = _amount(m["amount"])
    return PrintedItem(
        text=text.strip(),
        name=name,
        amount=amount,
        unit=unit,
        form=name_form or form,
        daily_value=amount if unit == units.PERCENT_DV else daily_value,
        alternates=alternates,
    )


def _quantize(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_UP)


def form_slug(form: str, nutrient: str, index: LabelIndex) -> str | None:
    """The form tag of `nutrient` that a printed form names ("Cholecalciferol + Vitamin D3" -> vitamin-d3)."""
    pieces = [form, *_FORM_SPLIT.split(form)] if form else []
    for piece in pieces:
        key = name_key(piece)
        for candidate in (index.names.get(key), index.names.get(name_key(f"{nutrient} {key}"))):
            tag = index.tags.get(candidate or "")
            if tag is not None and tag.parent == nutrient:
                return tag.slug
    return None


def _stored_unit(tag: TagInfo) -> str:
    """The unit a tagged amount is stored in: the tag's unit, or its equivalent (mcg -> mcg DFE for folate)."""
    daily_value = units.DAILY_VALUES.get(tag.slug)
    if daily_value and units.EQUIVALENTS.get(daily_value[1]) == tag.unit:
        return daily_value[1]
    return tag.unit


def _to_tag_unit(amount: Decimal, unit: str, tag: TagInfo, form: str | None) -> tuple[Decimal, str] | None:
    """The amount in the tag's (equivalent) unit, or None when it cannot be converted."""
    if not tag.unit:
        return None
    target = _stored_unit(tag)
    if unit == units.PERCENT_DV:
        from_dv = units.from_daily_value(float(amount), tag.slug)
        if from_dv is None:
            return None
        amount, unit = Decimal(str(from_dv[0])), from_dv[1]
    if form is not None and unit in units.MASS_IN_MCG and target in units.EQUIVALENTS:
        factor = units.MASS_TO_EQUIVALENT.get((form, target))
        if factor is not None:
            mcg = units.convert(float(amount), unit, "mcg")
            converted = units.convert(mcg * factor, "mcg", target) if mcg is not None else None
            return (_quantize(converted), target) if converted is not None else None
    converted = units.convert(float(amount), unit, target, iu_per_unit=tag.iu_per_unit)
    if converted is None or converted >= MAX_AMOUNT:
        return None
    return _quantize(converted), target


def _own_limit_fact(item: PrintedItem, form: TagInfo, amount: Decimal, unit: str) -> LabelFact | None:
    """A form with its own upper limit (folic acid) keeps its own line in its own unit, apart from the nutrient."""
    if not form.upper_limit or not form.unit or unit == units.PERCENT_DV:
        return None
    converted = units.convert(float(amount), unit, form.unit, iu_per_unit=form.iu_per_unit)
    if converted is None or converted >= MAX_AMOUNT:
        return None
    return LabelFact(form.slug, item.text[:LABEL_LENGTH], _quantize(converted), form.unit, tagged=True)


def _untagged(item: PrintedItem, code: str | None = None) -> LabelFact:
    return LabelFact(
        code=code or code_for(item.name),
        label=item.text[:LABEL_LENGTH],
        amount=item.amount,
        unit=item.unit,
        form=item.form[:FORM_LENGTH],
        daily_value=item.daily_value,
    )


def resolve_item(item: PrintedItem, index: LabelIndex) -> list[LabelFact]:
    """Map a printed item to its facts: the nutrient line, plus a line for a form with its own limit."""
    tag = index.tags.get(index.names.get(name_key(item.name), ""))
    named_form = None
    if tag is not None and tag.kind == "form" and tag.parent is not None and tag.parent in index.tags:
        named_form, tag = tag, index.tags[tag.parent]
    if tag is None or tag.kind != "nutrient":
        return [_untagged(item)]
    alt_names = [name for _, _, name in item.alternates if form_slug(name, tag.slug, index)]
    form_text = item.form or (item.name if named_form else "") or next(iter(alt_names), "")
    form = named_form.slug if named_form else form_slug(form_text, tag.slug, index)
    if item.amount is None:
        return [_untagged(replace(item, form=form_text), code=tag.slug)]
    converted = _to_tag_unit(item.amount, item.unit, tag, form)
    if converted is None:
        return [_untagged(replace(item, form=form_text), code=tag.slug)]
    facts = [
        LabelFact(
            tag.slug, item.text[:LABEL_LENGTH], converted[0], converted[1], form_text[:FORM_LENGTH],
            item.daily_value, tagged=True,
        )
    ]  # fmt: skip
    own = [(named_form, item.amount, item.unit)] if named_form else []
    for amount, unit, alt_name in item.alternates:
        alt_form = form_slug(alt_name, tag.slug, index)
        if alt_form:
            own.append((index.tags[alt_form], amount, unit))
    for form_tag, amount, unit in own:
        fact = _own_limit_fact(item, form_tag, amount, unit)
        if fact is not None:
            facts.append(fact)
    return facts


def _merge(facts: Iterable[LabelFact]) -> list[LabelFact]:
    """One line per code: same nutrient twice in one unit is summed; otherwise later lines get a suffix."""
    merged: dict[str, LabelFact] = {}
    for fact in facts:
        first = merged.get(fact.code)
        if first is None:
            merged[fact.code] = fact
        elif first.amount is not None and fact.amount is not None and first.unit == fact.unit:
            total = first.amount + fact.amount
            if total >= MAX_AMOUNT:
                raise LabelError(f"{fact.code!r} is listed twice with a total that is too large")
            forms = ", ".join(filter(None, dict.fromkeys([first.form, fact.form])))
            label = f"{first.label}; {fact.label}"[:LABEL_LENGTH]
            merged[fact.code] = replace(first, amount=total, form=forms[:FORM_LENGTH], label=label)
        elif first.amount is None and fact.amount is not None:
            merged[fact.code] = replace(fact, label=f"{first.label}; {fact.label}"[:LABEL_LENGTH])
        elif fact.amount is None:
            merged[fact.code] = replace(first, label=f"{first.label}; {fact.label}"[:LABEL_LENGTH])
        else:
            n = 2
            while f"{fact.code[: CODE_LENGTH - 4]}-{n}" in merged:
                n += 1
            code = f"{fact.code[: CODE_LENGTH - 4]}-{n}"
            merged[code] = replace(fact, code=code, tagged=False)
    return list(merged.values())


def parse_facts(value: str, index: LabelIndex) -> ParsedFacts:
    """Every item of a `nutrients` cell as facts; `LabelError` names the first malformed item."""
    result = ParsedFacts()
    found: list[LabelFact] = []
    for text in filter(None, (part.strip() for part in value.split(";"))):
        facts = resolve_item(parse_item(text), index)
        if not any(f.tagged for f in facts):
            result.untagged += 1
        found += facts
    result.facts = _merge(found)
    return result
