"""sync_oscar_recommendations: write every stored related-products list into Oscar's ProductRecommendation.

Lists are written as they change once WRITE_PRODUCT_RECOMMENDATIONS is on; this fills Oscar's rows for the
lists stored before it was.
"""

from typing import Any

from django.core.management.base import BaseCommand

from recommender.contrib.oscar.services import product_recommendations_sync


class Command(BaseCommand):
    help = "Write the stored related-products lists into Oscar's ProductRecommendation rows."

    def handle(self, *args: Any, **options: Any) -> None:
        count = product_recommendations_sync()
        self.stdout.write(self.style.SUCCESS(f"{count} products' recommendations written"))
