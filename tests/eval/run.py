"""Offline evaluation of the recommender against hand-graded articles (`make eval`).

    python -m tests.eval.run                          # print the table, write tests/eval/results.json, exit 0
    python -m tests.eval.run --check                  # exit 1 when the engine misses a set's targets
    python -m tests.eval.run --check --set frozen     # ... judging only the frozen set (both are printed)

Two sets, each scored for two systems:

- project: tests/eval/articles/ with tests/eval/judgments.json, on the demo catalog (`load_demo`);
  written together with the engine's heuristics.
- frozen: tests/eval/frozen/articles/ with tests/eval/frozen/judgments.json, on its own catalog
  (tests/eval/frozen/catalog.csv: the demo products renamed, new skus, an empty tags column) imported
  with `import_products` into a fresh database that holds only the shipped taxonomy. Pages in the
  styles of third-party health pages; frozen before the engine was tuned to them.

Systems:

- engine: `recommendations_for_text(limit=20)`, what a page with that text would show; ranking
  metrics use its first 5, the avoid check all 20 (the longest list the API serves);
- shared-tag baseline: products ranked by how many tags they share with the page's positively
  weighted extracted tags (django-taggit `similar_objects()` style: exact tag matches, approved
  product tags, ties by product id, count > 0, stock ignored).

Importing this module has no side effects: Django is configured only by `main()` (or by the
caller, e.g. pytest), and every function that touches the ORM imports it lazily.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender.taxonomy import TAXONOMY_PATH
from tests.eval.metrics import Catalog, K, score_page, summarise, target_failures

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTICLES = HERE / "articles"
JUDGMENTS = HERE / "judgments.json"
FROZEN = HERE / "frozen"
RESULTS = HERE / "results.json"
TAXONOMY = TAXONOMY_PATH

DEPTH = 20  # list length asked of each system; the avoid check covers all of it

ENGINE = "engine"
BASELINE = "shared-tag baseline"


@dataclass(frozen=True)
class EvalSet:
    name: str
    articles: Path
    judgments: Path
    targets: Mapping[str, float]
    catalog_csv: Path | None = None  # None: the demo catalog, via load_demo
    untagged_is_bad: bool = True  # see Catalog.untagged_is_bad


PROJECT = EvalSet(
    "project",
    ARTICLES,
    JUDGMENTS,
    {"ndcg": 0.9, "forbidden_rate": 0.0, "off_topic_empty": 1.0, "beat_baseline": 1},
)
FROZEN_SET = EvalSet(
    "frozen",
    FROZEN / "articles",
    FROZEN / "judgments.json",
    {"ndcg": 0.85, "forbidden_rate": 0.0, "avoid_violations": 0, "off_topic_empty": 1.0},
    catalog_csv=FROZEN / "catalog.csv",
    untagged_is_bad=False,
)
SETS = {s.name: s for s in (PROJECT, FROZEN_SET)}
TARGETS = PROJECT.targets


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Article:
    stem: str
    title: str
    body: str


def read_article(path: Path) -> Article:
    """Title from the first '# ' heading, body the rest (as load_demo reads fixtures/articles)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return Article(path.stem, line[2:].strip(), "\n".join(lines[i + 1 :]).strip())
    return Article(path.stem, path.stem.replace("-", " ").capitalize(), "\n".join(lines).strip())


def load_articles(root: Path = ARTICLES) -> list[Article]:
    return [read_article(p) for p in sorted(root.glob("*.md"))]


def load_judgments(path: Path = JUDGMENTS) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- loading a set (database)


def load_set_data(eval_set: EvalSet) -> None:
    """Put the set's taxonomy and catalog into the current (empty) database.

    project: `load_demo` (taxonomy, demo catalog, demo articles). frozen: the taxonomy the way
    load_demo loads it, then `manage.py import_products` on the set's catalog.csv, nothing else.
    """
    from django.core.management import call_command

    if eval_set.catalog_csv is None:
        call_command("load_demo", verbosity=0, stdout=io.StringIO())  # load_demo prints a summary line regardless
        return
    from django.db import transaction

    from recommender.dirty import refresh_batch
    from recommender.services.taxonomy import taxonomy_load

    with transaction.atomic(), refresh_batch():
        taxonomy_load(data=json.loads(TAXONOMY.read_text(encoding="utf-8")))
    call_command("import_products", str(eval_set.catalog_csv), stdout=io.StringIO(), stderr=io.StringIO())


def load_catalog(*, untagged_is_bad: bool = True) -> Catalog:
    from recommender.adapters import get_adapter
    from recommender.models import ProductTag
    from recommender.services.tagging import nutrient_code_index

    adapter = get_adapter()
    products = list(adapter.queryset())
    tags: dict[int, set[str]] = {p.pk: set() for p in products}
    approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).values_list("product_id", "tag__slug")
    for product_id, slug in approved:
        tags.setdefault(product_id, set()).add(slug)
    sku_by_id = {p.pk: adapter.sku(p) for p in products}
    index = nutrient_code_index()

    def lineage(code: str) -> set[str]:
        tag, found = index.get(code.lower().replace(" ", "-")), {code.lower()}
        while tag is not None:
            found.add(tag.slug)
            tag = tag.parent
        return found

    return Catalog(
        sku_by_id=sku_by_id,
        in_stock={adapter.sku(p): bool(adapter.is_available(p)) for p in products},
        approved_tags={sku_by_id[pid]: frozenset(s) for pid, s in tags.items() if pid in sku_by_id},
        id_by_sku={sku: pid for pid, sku in sku_by_id.items()},
        contains={
            adapter.sku(p): frozenset(s for f in adapter.nutrients(p) for s in lineage(f.code)) for p in products
        },
        untagged_is_bad=untagged_is_bad,
    )


# ---------------------------------------------------------------- systems (database)


def page_tags(article: Article) -> dict[str, float]:
    """The page's extracted tag weights, as the engine sees them."""
    from recommender.services.engine_build import engine_build
    from recommender.services.pages import page_extract
    from recommender.text.clean import plain_text

    lexicon = engine_build().lexicon
    found = page_extract(lexicon, title=plain_text(article.title), text=plain_text(article.body))
    return {slug: tw.weight for slug, tw in sorted(found.items(), key=lambda kv: (-kv[1].weight, kv[0]))}


def engine_top(article: Article, k: int = DEPTH) -> list[str]:
    from recommender.selectors import recommendations_for_text

    payload = recommendations_for_text(title=article.title, text=article.body, limit=k)
    return [item["product"]["sku"] for item in payload["items"]][:k]


def baseline_top(
    article: Article, catalog: Catalog, k: int = DEPTH, tags: Mapping[str, float] | None = None
) -> list[str]:
    """taggit-style similar objects: count of shared tags, ties by product id, count > 0, stock ignored."""
    weights = page_tags(article) if tags is None else tags
    positive = {slug for slug, w in weights.items() if w > 0}
    counted = []
    for pid, sku in catalog.sku_by_id.items():
        shared = len(positive & catalog.approved_tags.get(sku, frozenset()))
        if shared > 0:
            counted.append((-shared, pid, sku))
    return [sku for _, _, sku in sorted(counted)[:k]]


# ---------------------------------------------------------------- evaluation


def evaluate(
    articles: Sequence[Article] | None = None,
    judgments: Mapping[str, Any] | None = None,
    eval_set: EvalSet = PROJECT,
) -> dict[str, Any]:
    """Both systems on every article of a set; needs a configured Django with the set's data loaded."""
    articles = load_articles(eval_set.articles) if articles is None else list(articles)
    judgments = load_judgments(eval_set.judgments) if judgments is None else judgments
    missing = [a.stem for a in articles if a.stem not in judgments]
    if missing:
        raise ValueError(f"articles without judgments: {missing}")
    catalog = load_catalog(untagged_is_bad=eval_set.untagged_is_bad)
    unknown = sorted(
        {sku for j in judgments.values() for sku in [*j.get("grades", {}), *j.get("forbidden", [])]}
        - set(catalog.in_stock)
    )
    if unknown:
        raise ValueError(f"judged skus not in the catalog: {unknown}")
    systems: dict[str, Callable[[Article, Mapping[str, float]], list[str]]] = {
        ENGINE: lambda a, _tags: engine_top(a),
        BASELINE: lambda a, tags: baseline_top(a, catalog, tags=tags),
    }
    per_system: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in systems}
    extracted: dict[str, dict[str, float]] = {}
    for article in articles:
        tags = page_tags(article)
        extracted[article.stem] = tags
        for name, run in systems.items():
            per_system[name][article.stem] = score_page(run(article, tags), judgments[article.stem], catalog)
    return {
        "set": eval_set.name,
        "k": K,
        "depth": DEPTH,
        "targets": dict(eval_set.targets),
        "summary": {name: summarise(pages, judgments) for name, pages in per_system.items()},
        "pages": per_system,
        "extracted_tags": extracted,
        "off_topic": sorted(s for s in extracted if judgments[s]["off_topic"]),
    }


def failures(results: Mapping[str, Any], eval_set: EvalSet | None = None) -> list[str]:
    """Targets the engine misses on one set's results (empty when it meets them all)."""
    targets = (eval_set or SETS[results.get("set", PROJECT.name)]).targets
    return target_failures(results["summary"][ENGINE], results["summary"][BASELINE], targets)


def evaluate_fresh(eval_set: EvalSet) -> dict[str, Any]:
    """Empty the database and the cache, load the set's data, evaluate it."""
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    load_set_data(eval_set)
    return evaluate(eval_set=eval_set)


# ---------------------------------------------------------------- report


def _flags(page: Mapping[str, Any], off_topic: bool) -> str:
    flags = ""
    if page["forbidden"]:
        flags += "  FORBIDDEN: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in page["forbidden"].items())
    if page.get("avoid"):
        flags += "  AVOID: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in page["avoid"].items())
    if page.get("guarded_first"):
        flags += f"  GUARDED FIRST ({', '.join(page['guarded_first'])})"
    if off_topic and not page["empty"]:
        flags += "  NOT EMPTY"
    return flags


def report(by_set: Mapping[str, Mapping[str, Any]]) -> str:
    lines = [
        "| set | system | nDCG@5 | P@3 | forbidden rate | avoid violations | guarded first | off-topic empty |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for set_name, results in by_set.items():
        for name, s in results["summary"].items():
            lines.append(
                f"| {set_name} | {name} | {s['ndcg']:.3f} | {s['p_at_3']:.3f} | {s['forbidden_rate']:.3f} | "
                f"{s['avoid_violations']} | {s['guarded_first']} | {s['off_topic_empty']:.3f} |"
            )
    for set_name, results in by_set.items():
        lines += ["", f"Engine per page, {set_name} set (page, nDCG@5, top-5 skus):", ""]
        off = set(results["off_topic"])
        for stem, page in results["pages"][ENGINE].items():
            kind = "off-topic" if stem in off else f"{page['ndcg']:.3f}"
            lines.append(f"- {stem}: {kind} [{', '.join(page['top']) or '-'}]{_flags(page, stem in off)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- entry point


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the engine misses a checked set's targets")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=sorted(SETS),
        help="a set --check judges (repeatable; default: every set). Every set is evaluated and printed.",
    )
    args = parser.parse_args(argv)
    checked = args.sets or list(SETS)
    setup_django()
    by_set = {name: evaluate_fresh(eval_set) for name, eval_set in SETS.items()}
    RESULTS.write_text(json.dumps({"k": K, "sets": by_set}, indent=2) + "\n", encoding="utf-8")
    print(report(by_set))
    missed = False
    for name in SETS:
        problems = failures(by_set[name], SETS[name])
        status = "checked" if name in checked else "not checked"
        print(
            f"\n{name} set ({status}): "
            + ("targets missed: " + "; ".join(problems) if problems else "all targets met.")
        )
        missed = missed or (name in checked and bool(problems))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
