"""Load and read the taxonomy: tags, synonyms, relations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from recommender.labels import LabelIndex, TagInfo, label_index
from recommender.models import Synonym, Tag, TagRelation
from recommender.text.lexicon import Lexicon, SynonymEntry, compile_lexicon

TAG_FIELDS = (
    "name", "kind", "description", "unit", "reference_intake", "upper_limit", "iu_per_unit", "caution", "min_members",
)  # fmt: skip


@transaction.atomic
def taxonomy_load(*, data: dict[str, Any]) -> tuple[int, int]:
    """Create or update tags, synonyms and relations from a dict (fixtures/taxonomy.json); idempotent."""
    for item in data.get("tags", []):
        defaults = {f: item.get(f) for f in TAG_FIELDS if f in item}
        for f in ("description", "unit", "caution"):
            defaults[f] = defaults.get(f) or ""
        defaults["caution_level"] = item.get("caution_level") or ""
        defaults["parent"] = Tag.objects.get(slug=item["parent"]) if item.get("parent") else None
        tag, _ = Tag.objects.update_or_create(slug=item["slug"], defaults=defaults)
        for syn in item.get("synonyms", []):
            Synonym.objects.update_or_create(
                tag=tag,
                text=syn["text"],
                defaults={
                    "case_sensitive": bool(syn.get("case_sensitive", False)),
                    "needs_context": bool(syn.get("needs_context", False)),
                    "excludes": bool(syn.get("excludes", False)),
                },
            )
    for item in data.get("tags", []):
        if "members" in item:
            Tag.objects.get(slug=item["slug"]).members.set(Tag.objects.filter(slug__in=item["members"]))
    for rel in data.get("relations", []):
        TagRelation.objects.update_or_create(
            source=Tag.objects.get(slug=rel["source"]),
            target=Tag.objects.get(slug=rel["target"]),
            defaults={
                "polarity": rel.get("polarity", TagRelation.Polarity.SUPPORTS),
                "strength": rel["strength"],
                "grade": rel["grade"],
                "citations": list(rel.get("citations", [])),
                "summary": rel.get("summary", ""),
            },
        )
    return len(data.get("tags", [])), len(data.get("relations", []))


def lexicon_build() -> Lexicon:
    """The matcher for the current taxonomy: every tag's name plus its synonyms."""
    entries = [SynonymEntry(text, slug) for slug, text in Tag.objects.values_list("slug", "name")]
    entries += [
        SynonymEntry(s.text, s.tag.slug, s.case_sensitive, s.needs_context, s.excludes)
        for s in Synonym.objects.select_related("tag")
    ]
    return compile_lexicon(entries)


def label_index_build(tags: Iterable[Tag] | None = None) -> LabelIndex:
    """The taxonomy as the supplement-facts parser sees it: slugs, names and synonyms (not excluding ones)."""
    tags = list(tags) if tags is not None else list(Tag.objects.select_related("parent"))
    infos = [
        TagInfo(t.slug, t.kind, t.parent.slug if t.parent else None, t.unit, t.iu_per_unit, t.upper_limit) for t in tags
    ]
    synonyms = [(t.name, t.slug) for t in tags]
    synonyms += list(Synonym.objects.filter(excludes=False).values_list("text", "tag__slug"))
    return label_index(infos, synonyms)


def tag_for_code(code: str) -> Tag | None:
    """The tag a supplement-facts nutrient code names, by slug or by synonym."""
    tag = Tag.objects.filter(slug=code).first()
    if tag:
        return tag
    synonym = Synonym.objects.filter(text__iexact=code.replace("-", " ")).select_related("tag").first()
    return synonym.tag if synonym else None
