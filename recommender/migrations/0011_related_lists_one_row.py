"""A product page's related lists move from one row per item (RelatedProduct, RelatedArticle) into one
row per product (RelatedState). The stored lists are carried over as they are, both ways."""

from django.db import migrations, models

import recommender.fields

from recommender.conf import recommender_settings
from recommender.fingerprint import fingerprint


def pack(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Each product's item rows become its RelatedState's lists, in rank order."""
    state_model = apps.get_model("recommender", "RelatedState")
    lists: dict[int, dict] = {}

    def entry(row) -> dict:  # type: ignore[no-untyped-def]
        found = lists.get(row.product_id)
        if found is None:
            found = lists[row.product_id] = {"computed_at": row.computed_at, "products": [], "articles": []}
        return found

    for row in apps.get_model("recommender", "RelatedProduct").objects.order_by("product_id", "rank").iterator():
        item = {"id": row.related_id, "score": row.score, "reasons": row.reasons, "cautions": row.cautions}
        entry(row)["products"].append(item)
    for row in apps.get_model("recommender", "RelatedArticle").objects.order_by("product_id", "rank").iterator():
        item = {"id": row.page_id, "score": row.score, "reasons": row.reasons}
        if row.link_params:
            item["link_params"] = row.link_params
        entry(row)["articles"].append(item)
    states = {s.product_id: s for s in state_model.objects.filter(product_id__in=list(lists))}
    for product_id, found in lists.items():
        products, articles = found["products"], found["articles"]
        full = len(products) >= recommender_settings.STORED_LIMIT
        state = states.setdefault(product_id, state_model(product_id=product_id))
        state.list_hash = fingerprint([products, articles])  # as the refresh computes it: nothing is rewritten
        state.computed_at = found["computed_at"]
        state.related_ids = [item["id"] for item in products]
        state.page_ids = [item["id"] for item in articles]
        state.last_score = products[-1]["score"] if full else None
        state.products, state.articles = products, articles
    fields = ["list_hash", "computed_at", "related_ids", "page_ids", "last_score", "products", "articles"]
    state_model.objects.bulk_update([s for s in states.values() if s.pk], fields, batch_size=500)
    state_model.objects.bulk_create([s for s in states.values() if not s.pk], batch_size=500)


def unpack(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Each RelatedState's lists become item rows again."""
    product_rows, article_rows = [], []
    related_product = apps.get_model("recommender", "RelatedProduct")
    related_article = apps.get_model("recommender", "RelatedArticle")
    for state in apps.get_model("recommender", "RelatedState").objects.exclude(computed_at=None).iterator():
        for rank, item in enumerate(state.products, 1):
            product_rows.append(
                related_product(
                    product_id=state.product_id,
                    related_id=item["id"],
                    rank=rank,
                    score=item["score"],
                    reasons=item["reasons"],
                    cautions=item.get("cautions", []),
                    computed_at=state.computed_at,
                )
            )
        for rank, item in enumerate(state.articles, 1):
            article_rows.append(
                related_article(
                    product_id=state.product_id,
                    page_id=item["id"],
                    rank=rank,
                    score=item["score"],
                    reasons=item["reasons"],
                    link_params=item.get("link_params", {}),
                    computed_at=state.computed_at,
                )
            )
    related_product.objects.bulk_create(product_rows, batch_size=2000)
    related_article.objects.bulk_create(article_rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0010_list_rows_computed"),
    ]

    operations = [
        migrations.AddField(
            model_name="relatedstate",
            name="related_ids",
            field=models.JSONField(blank=True, default=list, help_text="The related products' ids, in rank order."),
        ),
        migrations.AddField(
            model_name="relatedstate",
            name="page_ids",
            field=models.JSONField(
                blank=True, default=list, help_text="The related articles' page ids, in rank order."
            ),
        ),
        migrations.AddField(
            model_name="relatedstate",
            name="last_score",
            field=models.FloatField(
                blank=True, help_text="The last related product's score when the list is full.", null=True
            ),
        ),
        migrations.AddField(
            model_name="relatedstate",
            name="products",
            field=recommender.fields.JSONTextField(
                blank=True, default=list, help_text='Related products: [{"id", "score", "reasons", "cautions"}].'
            ),
        ),
        migrations.AddField(
            model_name="relatedstate",
            name="articles",
            field=recommender.fields.JSONTextField(
                blank=True, default=list, help_text='Related articles: [{"id", "score", "reasons", "link_params"}].'
            ),
        ),
        migrations.RunPython(pack, unpack),
        migrations.DeleteModel(name="RelatedArticle"),
        migrations.DeleteModel(name="RelatedProduct"),
    ]
