"""Page-list rows keep their reasons, cautions and link parameters as JSON text (`JSONTextField`), as
product-page lists do: written whole by COPY, read whole, never queried inside. The values carry over both ways
(PostgreSQL casts `jsonb` to text and back)."""

import recommender.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("recommender", "0011_related_lists_one_row"),
    ]

    operations = [
        migrations.AlterField(
            model_name="recommendation",
            name="cautions",
            field=recommender.fields.JSONTextField(default=list),
        ),
        migrations.AlterField(
            model_name="recommendation",
            name="link_params",
            field=recommender.fields.JSONTextField(default=dict, help_text="UTM parameters for the link."),
        ),
        migrations.AlterField(
            model_name="recommendation",
            name="reasons",
            field=recommender.fields.JSONTextField(default=list),
        ),
    ]
