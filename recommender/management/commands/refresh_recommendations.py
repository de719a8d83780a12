"""refresh_recommendations [--page SLUG] [--async]: recompute stored lists, with a progress bar."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recommender.models import ContentPage
from recommender.services.refresh import recommendations_refresh
from recommender.tasks import refresh_all_pages, refresh_pages


class Command(BaseCommand):
    help = "Recompute the recommendation lists of every page (or one) in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--page", help="Slug of one page to refresh.")
        parser.add_argument("--async", dest="run_async", action="store_true", help="Enqueue instead of running here.")

    def handle(self, *args: Any, page: str | None, run_async: bool, **options: Any) -> None:
        ids = None
        if page:
            ids = list(ContentPage.objects.filter(slug=page).values_list("pk", flat=True))
            if not ids:
                raise CommandError(f"no page with slug {page!r}")
        if run_async:
            (refresh_pages.delay(ids) if ids else refresh_all_pages.delay())
            self.stdout.write(f"enqueued a refresh of {len(ids) if ids else 'every'} page(s).")
            return
        total = len(ids) if ids else ContentPage.objects.count()
        with tqdm(total=total, unit="page", disable=options["verbosity"] == 0, file=self.stderr) as bar:
            summary = recommendations_refresh(page_ids=ids, expand=False, progress=bar.update)
        self.stdout.write(
            self.style.SUCCESS(
                f"refreshed {summary.pages} page(s): {summary.items} item(s), {summary.empty} page(s) with no list, "
                f"{summary.written} list(s) changed; related lists of {summary.products} product(s)."
            )
        )
