"""Offline evaluation of the recommender against hand-graded articles (`make eval`).

    python -m tests.eval.run            # print the table, write tests/eval/results.json, exit 0
    python -m tests.eval.run --check    # exit 1 when the engine misses the targets

Two systems are scored on the articles in tests/eval/articles/ with the grades in
tests/eval/judgments.json:

- engine: `recommendations_for_text(limit=5)`, exactly what a page with that text would show;
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
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ARTICLES = HERE / "articles"
JUDGMENTS = HERE / "judgments.json"
RESULTS = HERE / "results.json"

K = 5
P_AT = 3
RELEVANT = 2  # grade at or above which an item counts for precision

TARGETS = {"ndcg": 0.9, "forbidden_rate": 0.0, "off_topic_empty": 1.0}

ENGINE = "engine"
BASELINE = "shared-tag baseline"


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


# ---------------------------------------------------------------- metrics (pure)


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """nDCG@k with gain = grade, log2 discount, ideal from the judged grades; 0 when nothing is judged."""
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(sku, 0) for sku in ranked[:k]]) / ideal


def precision_at_k(ranked: Sequence[str], grades: Mapping[str, int], k: int = P_AT) -> float:
    """Share of the first k slots holding a product graded >= RELEVANT (empty slots count as misses)."""
    return sum(1 for sku in ranked[:k] if grades.get(sku, 0) >= RELEVANT) / k


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------- catalog view (database)


@dataclass
class Catalog:
    """What the metrics need to know about products, read once after load_demo."""

    sku_by_id: dict[int, str]
    in_stock: dict[str, bool]  # in stock and active (the adapter's is_available)
    approved_tags: dict[str, frozenset[str]]  # sku -> approved tag slugs (as stored, no parents)
    id_by_sku: dict[str, int] = field(default_factory=dict)

    def bad_reasons(self, sku: str, forbidden: Sequence[str]) -> list[str]:
        """Why this sku must not be in a top 5 (empty when it may)."""
        reasons = []
        if sku in forbidden:
            reasons.append("judged forbidden")
        if not self.in_stock.get(sku, False):
            reasons.append("out of stock or inactive")
        if not self.approved_tags.get(sku):
            reasons.append("no approved tags")
        return reasons


def load_catalog() -> Catalog:
    from recommender.adapters import get_adapter
    from recommender.models import ProductTag

    adapter = get_adapter()
    products = list(adapter.queryset())
    tags: dict[int, set[str]] = {p.pk: set() for p in products}
    approved = ProductTag.objects.filter(status=ProductTag.Status.APPROVED).values_list("product_id", "tag__slug")
    for product_id, slug in approved:
        tags.setdefault(product_id, set()).add(slug)
    sku_by_id = {p.pk: adapter.sku(p) for p in products}
    return Catalog(
        sku_by_id=sku_by_id,
        in_stock={adapter.sku(p): bool(adapter.is_available(p)) for p in products},
        approved_tags={sku_by_id[pid]: frozenset(s) for pid, s in tags.items() if pid in sku_by_id},
        id_by_sku={sku: pid for pid, sku in sku_by_id.items()},
    )


# ---------------------------------------------------------------- systems (database)


def page_tags(article: Article) -> dict[str, float]:
    """The page's extracted tag weights, as the engine sees them."""
    from recommender.services.engine import engine_build
    from recommender.services.pages import page_extract
    from recommender.text.clean import plain_text

    lexicon = engine_build().lexicon
    found = page_extract(lexicon, title=plain_text(article.title), text=plain_text(article.body))
    return {slug: tw.weight for slug, tw in sorted(found.items(), key=lambda kv: (-kv[1].weight, kv[0]))}


def engine_top(article: Article, k: int = K) -> list[str]:
    from recommender.selectors import recommendations_for_text

    payload = recommendations_for_text(title=article.title, text=article.body, limit=k)
    return [item["product"]["sku"] for item in payload["items"]][:k]


def baseline_top(article: Article, catalog: Catalog, k: int = K, tags: Mapping[str, float] | None = None) -> list[str]:
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


def score_page(ranked: Sequence[str], judgment: Mapping[str, Any], catalog: Catalog) -> dict[str, Any]:
    grades = judgment.get("grades", {})
    forbidden = judgment.get("forbidden", [])
    bad = {sku: r for sku in ranked[:K] if (r := catalog.bad_reasons(sku, forbidden))}
    return {
        "top": list(ranked[:K]),
        "grades": [grades.get(sku, 0) for sku in ranked[:K]],
        "ndcg": round(ndcg_at_k(ranked, grades), 4),
        "p_at_3": round(precision_at_k(ranked, grades), 4),
        "forbidden": bad,
        "empty": not ranked,
    }


def summarise(pages: Mapping[str, dict[str, Any]], judgments: Mapping[str, Any]) -> dict[str, float]:
    on = [s for s in pages if not judgments[s]["off_topic"]]
    off = [s for s in pages if judgments[s]["off_topic"]]
    return {
        "ndcg": round(mean([pages[s]["ndcg"] for s in on]), 4),
        "p_at_3": round(mean([pages[s]["p_at_3"] for s in on]), 4),
        "forbidden_rate": round(mean([1.0 if pages[s]["forbidden"] else 0.0 for s in pages]), 4),
        "off_topic_empty": round(mean([1.0 if pages[s]["empty"] else 0.0 for s in off]), 4),
        "on_topic_pages": len(on),
        "off_topic_pages": len(off),
    }


def evaluate(articles: Sequence[Article] | None = None, judgments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Both systems on every article; needs a configured Django with the demo data loaded."""
    articles = load_articles() if articles is None else list(articles)
    judgments = load_judgments() if judgments is None else judgments
    missing = [a.stem for a in articles if a.stem not in judgments]
    if missing:
        raise ValueError(f"articles without judgments: {missing}")
    catalog = load_catalog()
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
        "k": K,
        "summary": {name: summarise(pages, judgments) for name, pages in per_system.items()},
        "pages": per_system,
        "extracted_tags": extracted,
        "off_topic": sorted(s for s in extracted if judgments[s]["off_topic"]),
    }


def failures(results: Mapping[str, Any]) -> list[str]:
    """Targets the engine misses (empty when it meets them all)."""
    engine, baseline = results["summary"][ENGINE], results["summary"][BASELINE]
    problems = []
    if engine["ndcg"] < TARGETS["ndcg"]:
        problems.append(f"mean nDCG@5 {engine['ndcg']:.3f} < {TARGETS['ndcg']}")
    if engine["forbidden_rate"] > TARGETS["forbidden_rate"]:
        problems.append(f"forbidden rate {engine['forbidden_rate']:.3f} > 0")
    if engine["off_topic_empty"] < TARGETS["off_topic_empty"]:
        problems.append(f"off-topic empty {engine['off_topic_empty']:.3f} < 1.0")
    if engine["ndcg"] <= baseline["ndcg"]:
        problems.append(f"engine nDCG@5 {engine['ndcg']:.3f} not ahead of baseline {baseline['ndcg']:.3f}")
    return problems


def report(results: Mapping[str, Any]) -> str:
    lines = [
        "| system | nDCG@5 | P@3 | forbidden rate | off-topic empty |",
        "|---|---|---|---|---|",
    ]
    for name, s in results["summary"].items():
        lines.append(
            f"| {name} | {s['ndcg']:.3f} | {s['p_at_3']:.3f} | {s['forbidden_rate']:.3f} | {s['off_topic_empty']:.3f} |"
        )
    lines += ["", "Engine per page (page, nDCG@5, top-5 skus):", ""]
    off = set(results["off_topic"])
    for stem, page in results["pages"][ENGINE].items():
        kind = "off-topic" if stem in off else f"{page['ndcg']:.3f}"
        flags = ""
        if page["forbidden"]:
            flags += "  FORBIDDEN: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in page["forbidden"].items())
        if stem in off and not page["empty"]:
            flags += "  NOT EMPTY"
        lines.append(f"- {stem}: {kind} [{', '.join(page['top']) or '-'}]{flags}")
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
    call_command("load_demo", verbosity=0, stdout=io.StringIO())  # load_demo prints a summary line regardless


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the engine misses the targets")
    args = parser.parse_args(argv)
    setup_django()
    results = evaluate()
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(report(results))
    problems = failures(results)
    if problems:
        print("\nTargets missed: " + "; ".join(problems))
    else:
        print("\nAll targets met.")
    return 1 if args.check and problems else 0


if __name__ == "__main__":
    sys.exit(main())
