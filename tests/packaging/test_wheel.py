"""The distribution: a wheel of the app alone that a fresh project can install and pass `django-admin check` with.

Nothing is downloaded: the wheel is built without build isolation (setuptools from this environment), and
the fresh virtual environment gets its dependencies by a .pth line pointing at this environment's
site-packages, while the app itself comes only from the wheel (asserted). Runs in `make test` (~20 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging
SKIP = (".venv", ".git", "__pycache__", "*.sqlite3", "*_cache", "build", "*.egg-info", "test-artifacts", "staticfiles")

HOST_SETTINGS = """
INSTALLED_APPS += ["rest_framework", "catalog", "recommender"]
RECOMMENDER = {"PRODUCT_MODEL": "catalog.Product"}
"""
CATALOG_MODELS = """
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
"""
API_SCRIPT = """
import csv
import io

from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
from catalog.models import Product
from recommender.models import Tag
from recommender.services.pages import page_upsert
from recommender.services.tagging import product_tags_set

# The host's own small product feed: its identifier, a name, and mineral-relevance tags.
FEED = "sku,name,tags\\nMG-1,Magnesium glycinate,magnesium=1\\nZN-1,Zinc picolinate,zinc=1\\nFO-1,Fish oil,\\n"
for row in csv.DictReader(io.StringIO(FEED)):
    product = Product.objects.create(sku=row["sku"], name=row["name"])
    pairs = [item.split("=") for item in row["tags"].split(";") if item]
    product_tags_set(product=product, tags=[(Tag.objects.get(slug=slug), float(value)) for slug, value in pairs])
page = page_upsert(
    url="https://blog.example.org/magnesium-and-sleep",
    title="Magnesium and sleep",
    text="How much magnesium do adults need from diet and supplements? Magnesium intake and sleep.",
)
client = Client()
tags = client.get("/api/v1/tags/").json()
assert tags["count"] > 50 and "results" in tags, tags
products = client.get("/api/v1/products/").json()
assert {p["sku"] for p in products["results"]} == {"MG-1", "ZN-1", "FO-1"}, products
listed = client.get(f"/api/v1/pages/{page.slug}/recommendations/").json()
assert [item["product"]["sku"] for item in listed["items"]] == ["MG-1"], listed
assert listed["items"][0]["reasons"] and listed["disclaimer"].startswith("These statements"), listed
print("api ok")
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout (so the build leaves nothing behind in it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns(*SKIP)
    source = tmp / "src"
    shutil.copytree(ROOT, source, ignore=ignore)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", ".",
        cwd=source)  # fmt: skip
    (built,) = (tmp / "dist").glob("django_mineral_recommender-*.whl")
    return built


def test_the_wheel_holds_the_app_and_its_data_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"recommender"}
    for expected in ("recommender/taxonomy/taxonomy.json", "recommender/migrations/0001_initial.py",
                     "recommender/templates/recommender/", "recommender/static/recommender/",
                     "recommender/management/commands/load_taxonomy.py"):  # fmt: skip
        assert any(n.startswith(expected) for n in names), expected
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert any(r.startswith("Requires-Dist: Django") for r in requires) and "Provides-Extra: redis" in text
    assert not [r for r in requires if "psycopg" in r or "gunicorn" in r]  # the demo's own requirements stay out


def test_a_fresh_project_installs_it_and_passes_check(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip())
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", site, wheel, cwd=tmp_path)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # Django, DRF... without a download
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    run(python, "-m", "django", "startproject", "host", cwd=tmp_path, env=env)
    project = tmp_path / "host"
    catalog = project / "catalog"
    (catalog / "migrations").mkdir(parents=True)
    (catalog / "__init__.py").write_text("")
    (catalog / "migrations" / "__init__.py").write_text("")
    (catalog / "models.py").write_text(textwrap.dedent(CATALOG_MODELS))
    with open(project / "host" / "settings.py", "a", encoding="utf-8") as stream:
        stream.write(HOST_SETTINGS)
    (project / "host" / "urls.py").write_text(
        "from django.urls import include, path\n\nurlpatterns = [path('api/', include('recommender.api.urls'))]\n"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "host.settings", "PYTHONPATH": str(project)}
    where = run(python, "-c", "import recommender; print(recommender.__file__)", cwd=project, env=env)
    assert where.startswith(str(site)), where  # the app comes from the wheel, not the checkout
    run(python, "-m", "django", "check", cwd=project, env=env)
    run(python, "-m", "django", "makemigrations", "catalog", "-v", "0", cwd=project, env=env)
    run(python, "-m", "django", "migrate", "-v", "0", cwd=project, env=env)
    assert "67 tags" in run(python, "-m", "django", "load_taxonomy", cwd=project, env=env)
    assert "api ok" in run(python, "-m", "django", "shell", "-c", API_SCRIPT, cwd=project, env=env)
