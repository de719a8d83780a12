"""The plugin's admin: product tagging for the host, taxonomy, pages, placements, stats.

A host adds `ProductTaggingMixin` to its own ProductAdmin; everything else registers itself here.
"""

from recommender.admin.pages import ArticleLinkInline, ContentPageAdmin, PageTagInline
from recommender.admin.placements import ArticleLinkAdmin, PlacementAdmin, RecommendationAdmin
from recommender.admin.products import ProductArticleLinkInline, ProductTaggingMixin, ProductTagInline
from recommender.admin.producttags import ProductTagAdmin
from recommender.admin.stats import DailyStatAdmin
from recommender.admin.taxonomy import TagAdmin, TagRelationAdmin

__all__ = [
    "ArticleLinkAdmin",
    "ArticleLinkInline",
    "ContentPageAdmin",
    "DailyStatAdmin",
    "PageTagInline",
    "PlacementAdmin",
    "ProductArticleLinkInline",
    "ProductTagAdmin",
    "ProductTagInline",
    "ProductTaggingMixin",
    "RecommendationAdmin",
    "TagAdmin",
    "TagRelationAdmin",
]
