"""import_pages: files of three kinds become content pages with lists; a missing file writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from recommender.models import ContentPage
from recommender.selectors import recommendations_for_page


def test_markdown_html_and_text_become_pages(
    demo: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    (tmp_path / "cramps.md").write_text("# Leg cramps at night\n\nMagnesium and potassium supplements are discussed.\n")
    (tmp_path / "iron.html").write_text(
        "<html><head><title>Iron basics</title></head><body><p>Iron supplements and ferritin tests.</p>"
        "<script>alert('x')</script></body></html>"
    )
    (tmp_path / "garden.txt").write_text("Raised beds\nCompost, mulch and seedlings for spring.\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_pages", str(tmp_path), base_url="https://blog.example.org/posts", verbosity=0)
    cramps = ContentPage.objects.get(slug="cramps")
    assert cramps.title == "Leg cramps at night" and cramps.url == "https://blog.example.org/posts/cramps/"
    assert recommendations_for_page(page=cramps)["items"]
    iron = ContentPage.objects.get(slug="iron")
    assert iron.title == "Iron basics" and "alert" not in iron.text
    assert recommendations_for_page(page=ContentPage.objects.get(slug="garden"))["items"] == []


def test_missing_file_imports_nothing(db: None, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nMagnesium.\n")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_pages", str(good), str(tmp_path / "missing.md"))
    assert not ContentPage.objects.exists()


def test_a_slug_taken_at_another_url_is_a_clear_error(db: None, tmp_path: Path) -> None:
    """Regression (issue 15): the unique slug raised an IntegrityError traceback."""
    (tmp_path / "zinc-basics.md").write_text("# Zinc basics\n\nZinc text.", encoding="utf-8")
    call_command("import_pages", str(tmp_path), base_url="https://one.example/posts", verbosity=0)
    (tmp_path / "other.md").write_text("# Other\n\nMore text.", encoding="utf-8")
    with pytest.raises(CommandError, match=r"slug 'zinc-basics' is already used by the page at 'https://one\.example"):
        call_command("import_pages", str(tmp_path), base_url="https://two.example/posts", verbosity=0)
    assert ContentPage.objects.count() == 1
