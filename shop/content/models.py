"""Articles: the store's own content pages, rendered at /learn/<slug>/."""

from django.db import models
from django.urls import reverse


class Article(models.Model):
    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    body = models.TextField(help_text="Markdown or plain text.")
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("content:article-detail", kwargs={"slug": self.slug})
