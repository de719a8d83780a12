"""A blog page type as a Wagtail site would have it, with the recommendations block and panel added."""

from wagtail import blocks
from wagtail.admin.panels import FieldPanel, ObjectList, TabbedInterface
from wagtail.fields import StreamField
from wagtail.models import Page

from recommender.contrib.wagtail.blocks import RecommendedProductsBlock
from recommender.contrib.wagtail.panels import RecommendationsPanel


class BlogPage(Page):
    body = StreamField(
        [
            ("heading", blocks.CharBlock()),
            ("paragraph", blocks.RichTextBlock()),
            ("recommended_products", RecommendedProductsBlock()),
        ],
        blank=True,
    )

    content_panels = [*Page.content_panels, FieldPanel("body")]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading="Content"),
            ObjectList(Page.promote_panels, heading="Promote"),
            ObjectList([RecommendationsPanel()], heading="Recommendations"),
        ]
    )
