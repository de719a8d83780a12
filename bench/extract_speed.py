"""Tag extraction speed by hand (issue 16's `extract.mb_per_s`), optionally side by side with another commit's code.

    .venv/bin/python -m bench.extract_speed [--against REV] [--profile] [ARTICLE ...]

The setup is `bench_matcher`'s: the demo taxonomy in an in-memory SQLite database, its lexicon, and
`extract_tags` on the 1 MB `long_article`, plus each ARTICLE file (default: the shared seed article). Figures are
the best of `--repeat` runs. `--against REV` loads `recommender/text` as it was at REV and times both in turns in
this process, so a busy machine slows both alike: read the ratio. `--profile` prints cProfile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import astuple
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.run import ROOT, load_taxonomy
from bench.synthetic import long_article

SEED = ROOT.parent / "shared" / "seed" / "rls-article.txt"
MODULES = ("clean", "lexicon", "extract")


def text_package_at(rev: str, into: Path) -> ModuleType:
    """`recommender.text` as it was at `rev`, importable as `text_at_rev`."""
    package = into / "text_at_rev"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in MODULES:
        source = subprocess.run(
            ["git", "show", f"{rev}:recommender/text/{name}.py"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        (package / f"{name}.py").write_text(source.replace("recommender.text.", "text_at_rev."))
    sys.path.insert(0, str(into))
    return importlib.import_module("text_at_rev.extract")


def lexicon_from(lexicon_module: Any) -> Any:
    """The demo taxonomy's lexicon, built by `lexicon_module` (as `lexicon_build` does)."""
    from recommender.models import Synonym, Tag

    entry = lexicon_module.SynonymEntry
    entries = [entry(name, slug) for slug, name in Tag.objects.values_list("slug", "name")]
    entries += [
        entry(s.text, s.tag.slug, s.case_sensitive, s.needs_context, s.excludes)
        for s in Synonym.objects.select_related("tag")
    ]
    return lexicon_module.compile_lexicon(entries)


def per_call(fn: Callable[[], Any], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - start) / loops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=Path, default=[SEED] if SEED.exists() else [])
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    load_taxonomy()
    from recommender.text import extract, lexicon

    sides = {"this tree": (extract.extract_tags, lexicon_from(lexicon))}
    if args.against:
        old = text_package_at(args.against, Path(tempfile.mkdtemp()))
        sides[args.against] = (old.extract_tags, lexicon_from(importlib.import_module("text_at_rev.lexicon")))
    pages = [("long_article(1_000_000)", "Minerals", long_article(1_000_000))]
    pages += [(str(path), path.stem.replace("-", " "), path.read_text(encoding="utf-8")) for path in args.articles]
    for label, title, text in pages:
        megabytes = len(text.encode()) / 1e6
        loops = max(1, round(0.05 / megabytes))  # about 50 ms per timing
        outputs = [[(k, *astuple(w)) for k, w in fn(lex, title=title, text=text).items()] for fn, lex in sides.values()]
        same = all(output == outputs[0] for output in outputs)
        times: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(args.repeat):
            for side, (fn, lex) in sides.items():
                times[side].append(per_call(partial(fn, lex, title=title, text=text), loops))
        figures = ", ".join(
            f"{side} {min(t) * 1e3:.1f} ms = {megabytes / min(t):.2f} MB/s" for side, t in times.items()
        )
        ratio = f", ratio {min(times[args.against]) / min(times['this tree']):.2f}x" if args.against else ""
        print(f"{label} ({megabytes:.3f} MB): {figures}{ratio}" + (", same tags" if same else ", OUTPUTS DIFFER"))
    if args.profile:
        title, text = pages[0][1], pages[0][2]
        for side, (fn, lex) in sides.items():
            profile = cProfile.Profile()
            profile.runcall(fn, lex, title=title, text=text)
            print(f"\ncProfile, {side}, {pages[0][0]}:")
            pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
