"""Write docs/settings.md from recommender.conf.DEFAULTS: each setting, its default and the comment above it."""

from __future__ import annotations

import ast
import pprint
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def comments_by_key(source: str) -> dict[str, str]:
    """The comment lines right above each key of the DEFAULTS literal."""
    lines, out, pending = source.splitlines(), {}, []
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("DEFAULTS"):
            inside = True
        elif inside and stripped == "}":
            break
        elif inside and stripped.startswith("#"):
            pending.append(stripped.lstrip("# "))
        elif inside and stripped.startswith('"') and line.startswith('    "'):
            out[stripped.split('"')[1]] = " ".join(pending)
            pending = []
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT))
    source = (ROOT / "recommender" / "conf.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    literal = next(
        n.value for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "DEFAULTS"
    )
    namespace = {"DISCLAIMER": "(the FDA disclaimer, see recommender/conf.py)"}
    defaults = eval(compile(ast.Expression(literal), "conf.py", "eval"), namespace)  # noqa: S307  # our own literal
    notes = comments_by_key(source)
    rows = [
        "# Settings reference",
        "",
        "Generated from `recommender.conf.DEFAULTS` by `make docs`; do not edit by hand.",
        "",
        "Every setting lives in one dict, `settings.RECOMMENDER`; what it leaves out takes the default below.",
        "",
    ]
    for name, value in defaults.items():
        rows += [f"## `{name}`", "", f"Default: `{pprint.pformat(value, width=100)}`", ""]
        if notes.get(name):
            rows += [notes[name], ""]
    (ROOT / "docs" / "settings.md").write_text("\n".join(rows), encoding="utf-8")


if __name__ == "__main__":
    main()
