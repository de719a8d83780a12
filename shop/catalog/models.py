"""Products, brands and supplement facts of the demo store."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse


class Brand(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    in_stock = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    url = models.URLField(blank=True, help_text="External product URL; the store's own page when empty.")
    image_url = models.CharField(max_length=500, blank=True)
    serving_size = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product-detail", kwargs={"slug": self.slug})

    @property
    def image(self) -> str:
        """The product's image url, or its drawn label (shop/static/shop/products/<slug>.svg)."""
        from shop.catalog.presentation import product_image

        return product_image(self.image_url, self.slug)

    @property
    def form(self) -> str:
        """How it is taken: liquid, tablets, capsules, powder... (from the serving size and name)."""
        from shop.catalog.presentation import dosage_form

        return dosage_form(self.name, self.serving_size)


class NutrientAmount(models.Model):
    """One line of a product's supplement facts, per serving, as the label prints it.

    `code` is the taxonomy slug when the printed name maps to a tag (then the amount is in the tag's unit),
    otherwise a slug of the printed name: such lines are kept as facts and never scored.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="nutrients")
    code = models.SlugField(max_length=60, help_text="Taxonomy slug (magnesium, vitamin-d) or a slug of the name.")
    label = models.CharField(max_length=200, blank=True, help_text="The line as the label prints it.")
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Empty when the label prints no amount (NP).",
    )
    unit = models.CharField(max_length=16, blank=True, help_text="mg, mcg, g, IU, kcal, mcg DFE, mcg RAE, ...")
    form = models.CharField(max_length=120, blank=True)
    daily_value = models.DecimalField(
        "% DV", max_digits=12, decimal_places=4, null=True, blank=True, help_text="Percent Daily Value as printed."
    )

    class Meta:
        ordering = ["product", "id"]
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="uniq_nutrient_per_product")]

    def __str__(self) -> str:
        form = f" {self.form}" if self.form else ""
        amount = "NP" if self.amount is None else f"{self.amount.normalize():f} {self.unit}"
        return f"{self.code} {amount}{form}"
