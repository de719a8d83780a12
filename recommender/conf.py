"""The plugin's settings: one namespaced dict, `settings.RECOMMENDER`, read lazily.

Defaults live here, in one place. Values are looked up on every access (and the cache is
dropped on `setting_changed`), so tests and hosts can change them at run time; nothing copies a
setting into a module global or class attribute.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

# Served through gettext: this default is translated, a host's own disclaimer stays as written.
DISCLAIMER = gettext_noop(
    "These statements have not been evaluated by the Food and Drug Administration. "
    "This product is not intended to diagnose, treat, cure, or prevent any disease."
)

DEFAULTS: dict[str, Any] = {
    # Host product model label ("app_label.Model"); required.
    "PRODUCT_MODEL": None,
    # Dotted path of the ProductAdapter subclass that reads the host's products.
    "PRODUCT_ADAPTER": "recommender.adapters.ProductAdapter",
    # Tags derived from supplement facts are approved without a merchandiser.
    "AUTO_APPROVE_FACTS": True,
    # Default and maximum list length.
    "LIMIT": 6,
    "MAX_LIMIT": 20,
    # Lists are computed and stored this long, so a shorter ?limit= is a slice.
    "STORED_LIMIT": 20,
    # Minimum similarity for a product to be shown at all (an unrelated page gets nothing).
    "MIN_SCORE": 0.12,
    # At most this many items share a primary nutrient / a brand before the others (0 = no cap);
    # the rest follow rather than drop out, so a one-nutrient page still fills its list.
    "MAX_PER_NUTRIENT": 3,
    "MAX_PER_BRAND": 0,
    # Title mentions count this many times a body mention.
    "TITLE_WEIGHT": 3.0,
    # A form counts toward its nutrient at this weight.
    "PARENT_WEIGHT": 0.8,
    # A condition passes this share of strength x evidence on to its related nutrients, so that a
    # page's own mentions outweigh what the graph adds.
    "RELATION_WEIGHT": 0.5,
    # Page weight multiplier per tag kind: naming a product line is a more specific signal.
    "KIND_WEIGHTS": {"product-line": 2.0},
    # The same for product vectors (a product line is part of what a product is).
    "PRODUCT_KIND_WEIGHTS": {"product-line": 1.0},
    # On a product page's "read more" list, an article that names the product's own line is
    # scored up by this factor.
    "LINE_BOOST": 1.5,
    # How much each evidence grade passes on along a condition -> nutrient relation.
    "EVIDENCE_WEIGHTS": {
        "guideline": 1.0,
        "rct": 0.9,
        "review": 0.6,
        "pilot": 0.5,
        "traditional": 0.3,
    },
    # A group tag (trace minerals) applies from facts only when its members are at least this share
    # of the label's known nutrients.
    "GROUP_MIN_SHARE": 0.75,
    # A condition with an "avoid" relation is the page's subject at this weight or more (1 is the
    # page's strongest tag): its avoided nutrients are then excluded, whatever else the page says.
    "AVOID_SUBJECT_WEIGHT": 0.5,
    # At most this many guarded products among the first three items while others are left to show.
    "GUARDED_IN_TOP": 1,
    # Pages per chunk of a fanned-out full refresh (products per chunk: four times as many).
    "REFRESH_CHUNK": 500,
    # Threads numpy's BLAS may use in a Celery worker (one leaves the other cores to the database).
    "WORKER_BLAS_THREADS": 1,
    # Products ranked per page with rules after a vectorised preselection (at least ten times the list
    # length; a page ranked by score and one cap alone needs the list length); the list is the same as
    # ranking the whole catalog.
    "CANDIDATES": 200,
    # The first item must score at least this share of the best candidate's score in its own right.
    "LEAD_SHARE": 0.5,
    # Products with a serving above a nutrient's upper limit are scored down by this factor.
    "DOSE_PENALTY": 0.85,
    # Characters of context searched for a supporting mention of an ambiguous abbreviation.
    "CONTEXT_WINDOW": 400,
    "DISCLAIMER": DISCLAIMER,
    "UTM_SOURCE": "recommender",
    "UTM_MEDIUM": "widget",
    # Changes are collected this long before one task refreshes what they touched.
    "DEBOUNCE_SECONDS": 1.0,
    # Seconds a rendered list stays in the cache (it is also invalidated on refresh).
    "CACHE_TIMEOUT": 60 * 60,
    # In front of a shared cache (Redis), each web process keeps the list responses it served this many
    # seconds and answers repeats without a round trip; a list refreshed elsewhere is served at most this
    # late (0 = ask the shared cache on every read). Clients may keep a list 60 s anyway (Cache-Control).
    "LOCAL_CACHE_SECONDS": 1.0,
    # The API's list pages (?page=, ?page_size= up to MAX_PAGE_SIZE); set on the plugin's own views, so a
    # host needs no DRF DEFAULT_PAGINATION_CLASS.
    "PAGE_SIZE": 50,
    "MAX_PAGE_SIZE": 500,
    # Rates of the plugin's throttles, by scope: "anon" for anonymous recommendation reads, "events" for the
    # widget's impressions and clicks (None switches one off). Read here, not from DRF's DEFAULT_THROTTLE_RATES.
    "THROTTLE_RATES": {"anon": "600/min", "events": "120/min"},
    # Fetching external articles by URL (recommender/fetch.py): largest body, whole-fetch deadline
    # in seconds, redirects followed, and hosts allowed (empty = any public host; ".example.com"
    # allows subdomains).
    "FETCH_MAX_BYTES": 2 * 1024 * 1024,
    "FETCH_TIMEOUT": 5.0,
    "FETCH_MAX_REDIRECTS": 3,
    "FETCH_ALLOWED_HOSTS": [],
    # `/metrics/` answers staff users, and a scraper sending `Authorization: Bearer <token>` when set.
    "METRICS_TOKEN": "",
}


class RecommenderSettings:
    """Attribute access to `settings.RECOMMENDER` with DEFAULTS filled in.

    A setting read once becomes an attribute of this object, so later reads are plain attribute reads
    (ranking and refreshes read some for every item of every list).
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Unknown recommender setting: {name}")
        user = getattr(settings, "RECOMMENDER", {}) or {}
        value = user.get(name, DEFAULTS[name])
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        """Forget cached values; called when Django's settings change (tests)."""
        for name in [name for name in vars(self) if name in DEFAULTS]:
            delattr(self, name)


recommender_settings = RecommenderSettings()


@receiver(setting_changed)
def _reload_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "RECOMMENDER":
        recommender_settings.reload()


def product_model_label() -> str:
    """The host product model label, used by migrations and ForeignKeys."""
    label = (getattr(settings, "RECOMMENDER", {}) or {}).get("PRODUCT_MODEL")
    return str(label or "")


def adapter_class() -> type:
    """The configured ProductAdapter class."""
    return import_string(recommender_settings.PRODUCT_ADAPTER)
