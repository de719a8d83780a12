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
def taxonomy_load(*, data: dict[str, Any], keep_edits: bool = False) -> tuple[int, int]:
    """Create or update tags, synonyms and relations from a dict (the shipped `recommender/taxonomy/taxonomy.json`).

    Idempotent either way. With `keep_edits`, what the store already has is left as it is: a tag, synonym
    or relation that exists (by slug, by tag and text, by source and target) is never rewritten, and a
    group's members are set only while it has none, so a change made in the admin survives a
    reload and only what is missing is added. Without it (the demo's and the tests' reset), every row
    is brought back to the file's values.
    """
    for item in data.get("tags", []):
        tag, _ = _tag_load(item, keep_edits=keep_edits)
        for syn in item.get("synonyms", []):
            values: dict[str, Any] = {
                "case_sensitive": bool(syn.get("case_sensitive", False)),
                "needs_context": bool(syn.get("needs_context", False)),
                "excludes": bool(syn.get("excludes", False)),
            }
            _row_load(Synonym, {"tag": tag, "text": syn["text"]}, values, keep_edits=keep_edits)
    for item in data.get("tags", []):
        if "members" in item:
            group = Tag.objects.get(slug=item["slug"])
            if not keep_edits or not group.members.exists():
                group.members.set(Tag.objects.filter(slug__in=item["members"]))
    for rel in data.get("relations", []):
        relation: dict[str, Any] = {
            "polarity": rel.get("polarity", TagRelation.Polarity.SUPPORTS),
            "strength": rel["strength"],
            "grade": rel["grade"],
            "citations": list(rel.get("citations", [])),
            "summary": rel.get("summary", ""),
        }
        key = {"source": Tag.objects.get(slug=rel["source"]), "target": Tag.objects.get(slug=rel["target"])}
        _row_load(TagRelation, key, relation, keep_edits=keep_edits)
    return len(data.get("tags", [])), len(data.get("relations", []))


def _tag_load(item: dict[str, Any], *, keep_edits: bool) -> tuple[Tag, bool]:
    """One tag from its file entry (its parent is loaded first: the file lists parents before children)."""
    defaults = {f: item.get(f) for f in TAG_FIELDS if f in item}
    for f in ("description", "unit", "caution"):
        defaults[f] = defaults.get(f) or ""
    defaults["caution_level"] = item.get("caution_level") or ""
    defaults["parent"] = Tag.objects.get(slug=item["parent"]) if item.get("parent") else None
    return _row_load(Tag, {"slug": item["slug"]}, defaults, keep_edits=keep_edits)


def _row_load(model: Any, key: dict[str, Any], values: dict[str, Any], *, keep_edits: bool) -> tuple[Any, bool]:
    """get_or_create when the store's edits are kept, update_or_create when the file wins."""
    if keep_edits:
        return model.objects.get_or_create(**key, defaults=values)
    return model.objects.update_or_create(**key, defaults=values)


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
