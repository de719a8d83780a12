"""The plugin's data: taxonomy, product and page tags, rules and precomputed lists.

The host's product model is reached only through `RECOMMENDER["PRODUCT_MODEL"]`; no shopper
profile is ever stored.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from recommender.conf import product_model_label
from recommender.fields import JSONTextField
from recommender.links import validate_page_url
from recommender.scoring.rank import MAX_BOOST

UNIT_RANGE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Tag(models.Model):
    """A mineral-relevance tag: a nutrient, one of its forms, a condition, a symptom or a product line."""

    class Kind(models.TextChoices):
        NUTRIENT = "nutrient", "Nutrient"
        FORM = "form", "Form"
        CONDITION = "condition", "Condition"
        SYMPTOM = "symptom", "Symptom"
        PRODUCT_LINE = "product-line", "Product line"

    class CautionLevel(models.TextChoices):
        NONE = "", "None"
        NOTE = "note", "Shown with the product"
        GUARD = "guard", "Shown, and never ranked first unless pinned"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NUTRIENT)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=8, blank=True, help_text="Unit of the intake values: mg or mcg.")
    reference_intake = models.FloatField(null=True, blank=True, help_text="Adult RDA or AI, in `unit`.")
    upper_limit = models.FloatField(
        null=True, blank=True, help_text="Daily upper limit for supplemental intake, in `unit`."
    )
    iu_per_unit = models.FloatField(null=True, blank=True, help_text="International units per `unit`.")
    caution = models.TextField(blank=True)
    caution_level = models.CharField(max_length=8, choices=CautionLevel.choices, default=CautionLevel.NONE, blank=True)
    members = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="composites",
        help_text="For a group such as trace minerals: the nutrients a product's facts must list to carry it.",
    )
    min_members = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many different members a product's facts must list (empty: never)."
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Synonym(models.Model):
    """A surface form of a tag in text; "Mg" is case-sensitive, "RLS" needs a supporting mention."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="synonyms")
    text = models.CharField(max_length=120)
    case_sensitive = models.BooleanField(default=False)
    needs_context = models.BooleanField(default=False, help_text="Counts only when another synonym of the tag is near.")
    excludes = models.BooleanField(
        default=False, help_text='A phrase that looks like the tag but is not it ("cast iron").'
    )

    class Meta:
        ordering = ["tag", "text"]
        constraints = [models.UniqueConstraint(fields=["tag", "text"], name="uniq_synonym_per_tag")]

    def __str__(self) -> str:
        return self.text


class TagRelation(models.Model):
    """Condition -> nutrient link with its polarity, strength and evidence.

    "supports" lets a page about the condition reach the nutrient's products; "no benefit shown"
    never promotes them (its evidence is shown where the nutrient is discussed anyway); "avoid" is
    safety: a page whose subject is the condition lists no product containing the nutrient.
    """

    class Polarity(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        NO_BENEFIT = "no-benefit", "No benefit shown"
        AVOID = "avoid", "Avoid"

    class Grade(models.TextChoices):
        GUIDELINE = "guideline", "Clinical practice guideline"
        RCT = "rct", "Randomised controlled trials"
        REVIEW = "review", "Review of studies"
        PILOT = "pilot", "Early, limited research"
        TRADITIONAL = "traditional", "Traditional use, little research"

    source = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="relations_out")
    target = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="relations_in")
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.SUPPORTS)
    strength = models.FloatField(validators=UNIT_RANGE)
    grade = models.CharField(max_length=12, choices=Grade.choices)
    citations = models.JSONField(default=list, blank=True, help_text="DOIs.")
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["source", "-strength"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="uniq_tag_relation"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="relation_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source.slug} -> {self.target.slug} ({self.polarity}, {self.grade})"


class ProductTag(models.Model):
    """A product's relevance to a tag; only approved rows score."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        FACTS = "supplement-facts", "Supplement facts"
        NAME = "name", "Product name or brand"
        TEXT = "text", "Product text"
        IMPORT = "import", "Import"

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    product = models.ForeignKey(product_model_label(), on_delete=models.CASCADE, related_name="recommender_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="product_tags")
    relevance = models.FloatField(default=1.0, validators=UNIT_RANGE)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "-relevance"]
        constraints = [models.UniqueConstraint(fields=["product", "tag", "source"], name="uniq_product_tag_source")]
        indexes = [models.Index(fields=["status", "tag"])]

    def __str__(self) -> str:
        return f"{self.product} ~ {self.tag.slug} ({self.relevance:.2f}, {self.status})"


class ContentPage(models.Model):
    """A page shoppers read: the store's own article or an external URL."""

    class Source(models.TextChoices):
        LOCAL = "local", "Local article"
        EXTERNAL = "external", "External URL"

    slug = models.SlugField(max_length=200, unique=True)
    url = models.CharField(
        max_length=500,
        unique=True,
        validators=[validate_page_url],
        help_text="Canonical http(s) URL, or a path on this site starting with '/'.",
    )
    title = models.CharField(max_length=300)
    text = models.TextField(blank=True, help_text="Plain text, sanitised.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LOCAL)
    published = models.BooleanField(default=True)
    content_hash = models.CharField(max_length=64, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class PageTag(models.Model):
    """A tag found on (or set by hand for) a page; a manual row is never overwritten by extraction."""

    class Source(models.TextChoices):
        EXTRACTED = "extracted", "Extracted"
        MANUAL = "manual", "Manual"

    page = models.ForeignKey(ContentPage, on_delete=models.CASCADE, related_name="page_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="page_tags")
    weight = models.FloatField(help_text="Negative when the page speaks against the tag.")
    mentions = models.PositiveIntegerField(default=0)
    advised_against = models.BooleanField(
        default=False, help_text='The page advises against taking it ("iron-free", "avoid iron supplements").'
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.EXTRACTED)

    class Meta:
        ordering = ["page", "-weight"]
        constraints = [models.UniqueConstraint(fields=["page", "tag"], name="uniq_page_tag")]

    def __str__(self) -> str:
        return f"{self.page.slug} ~ {self.tag.slug} ({self.weight:.2f})"


class Placement(models.Model):
    """A marketing rule: pin, boost, bury or exclude a product on one page or on every page with a tag."""

    class Action(models.TextChoices):
        PIN = "pin", "Pin at position"
        BOOST = "boost", "Boost by factor"
        BURY = "bury", "Bury"
        EXCLUDE = "exclude", "Exclude"

    page = models.ForeignKey(ContentPage, null=True, blank=True, on_delete=models.CASCADE, related_name="placements")
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.CASCADE, related_name="placements")
    product = models.ForeignKey(product_model_label(), on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    position = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-based, for pins.")
    factor = models.FloatField(default=1.0, help_text="Score multiplier, for boosts.")
    campaign = models.CharField(max_length=100, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "position"]

    def __str__(self) -> str:
        return f"{self.action} {self.product} on {self.page or self.tag}"

    def clean(self) -> None:
        """Exactly one scope; a pin needs its position, a boost a positive factor; the window runs forward."""
        errors: dict[str, str] = {}
        if (self.page_id is None) == (self.tag_id is None):
            errors["page"] = "Choose either one page or one tag, not both and not neither."
        if self.action == self.Action.PIN and not self.position:
            errors["position"] = "A pin needs a position (1 is the top of the list)."
        if self.factor is None or not math.isfinite(self.factor) or not 0 <= self.factor <= MAX_BOOST:
            errors["factor"] = f"The factor must be a number from 0 to {MAX_BOOST:g}."
        elif self.action == self.Action.BOOST and not self.factor > 0:
            errors["factor"] = "A boost needs a factor above 0 (1.5 scores the product half again as high)."
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must come after the start."
        if errors:
            raise ValidationError(errors)


class Recommendation(models.Model):
    """One row of a page's precomputed list; a page's rows are replaced in one transaction."""

    # List rows are computed, and a full refresh writes every one of them, so they carry no database
    # check of their own: Django's cascade removes them with their page or product, a refresh writes only
    # ids from its snapshot, and a row left by a delete racing a refresh is skipped when served and
    # replaced by the refresh the delete asks for. Checking each row's keys at commit cost a full refresh
    # a fifth of its time. Nor does `page` need its own index: the unique (page, rank) index serves it.
    page = models.ForeignKey(
        ContentPage, on_delete=models.CASCADE, related_name="recommendations", db_index=False, db_constraint=False
    )
    product = models.ForeignKey(product_model_label(), on_delete=models.CASCADE, related_name="+", db_constraint=False)
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    # Read and written whole, never queried inside: JSON text, which PostgreSQL stores without parsing it
    # (a full refresh COPYs 100,000 rows: about 0.4 s of the server's time as `jsonb`).
    reasons = JSONTextField(default=list)
    cautions = JSONTextField(default=list)
    link_params = JSONTextField(default=dict, help_text="UTM parameters for the link.")
    generation = models.PositiveIntegerField(default=1)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["page", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["page", "rank"], name="uniq_recommendation_rank"),
            models.UniqueConstraint(fields=["page", "product"], name="uniq_recommendation_product"),
        ]

    def __str__(self) -> str:
        return f"{self.page.slug} #{self.rank}: {self.product}"


class PageState(models.Model):
    """Per-page bookkeeping for the list: its generation and when it was computed (even when empty)."""

    page = models.OneToOneField(ContentPage, on_delete=models.CASCADE, related_name="state")
    generation = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    list_hash = models.CharField(max_length=32, blank=True, help_text="Fingerprint of the stored list.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last refresh, changed or not.")

    def __str__(self) -> str:
        return f"{self.page.slug} gen {self.generation}"


class RelatedState(models.Model):
    """A product page's two stored lists, related products and related articles, in one row per product.

    One row per list, not per item: a full refresh of 20,000 products writes 20,000 rows instead of
    800,000, and PostgreSQL spends its time on rows (index entries, tuple headers), not on bytes. An item
    is `{"id", "score", "reasons", ...}` and its rank is its position. `related_ids` and `page_ids` repeat
    the items' ids so that "which lists hold this product" reads small columns, never the items.
    """

    product = models.OneToOneField(product_model_label(), on_delete=models.CASCADE, related_name="+")
    list_hash = models.CharField(max_length=32, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    related_ids = models.JSONField(default=list, blank=True, help_text="The related products' ids, in rank order.")
    page_ids = models.JSONField(default=list, blank=True, help_text="The related articles' page ids, in rank order.")
    last_score = models.FloatField(
        null=True, blank=True, help_text="The last related product's score when the list is full."
    )
    products = JSONTextField(
        default=list, blank=True, help_text='Related products: [{"id", "score", "reasons", "cautions"}].'
    )
    articles = JSONTextField(
        default=list, blank=True, help_text='Related articles: [{"id", "score", "reasons", "link_params"}].'
    )

    def __str__(self) -> str:
        return f"{self.product_id}: {self.list_hash}"


class ArticleLink(models.Model):
    """Marketing's manual link: pins the product on the page's list and the page on the product's list."""

    page = models.ForeignKey(ContentPage, on_delete=models.CASCADE, related_name="article_links")
    product = models.ForeignKey(product_model_label(), on_delete=models.CASCADE, related_name="article_links")
    position = models.PositiveSmallIntegerField(default=1, help_text="1-based position in both lists.")
    campaign = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["page", "position"]
        constraints = [models.UniqueConstraint(fields=["page", "product"], name="uniq_article_link")]

    def __str__(self) -> str:
        return f"{self.page.slug} <-> {self.product}"


class DailyStat(models.Model):
    """Impressions and clicks per page, product and day; counters only, nothing about the shopper."""

    page = models.ForeignKey(ContentPage, on_delete=models.CASCADE, related_name="daily_stats")
    product = models.ForeignKey(product_model_label(), on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    impressions = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "page", "product"]
        constraints = [models.UniqueConstraint(fields=["page", "product", "day"], name="uniq_daily_stat")]

    def __str__(self) -> str:
        return f"{self.day} {self.page.slug} {self.product}: {self.impressions}/{self.clicks}"


class DirtyMark(models.Model):
    """A change that could not be announced (broker away); the periodic task drains these."""

    kind = models.CharField(max_length=10)  # products, pages, all
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
