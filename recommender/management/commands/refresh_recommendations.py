"""refresh_recommendations [--page SLUG] [--async]: recompute stored lists, with a progress bar."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recommender.models import ContentPage
from recommender.services.refresh import pages_refresh
from recommender.services.related import related_refresh
from recommender.tasks import refresh_all_pages, refresh_pages


class Command(BaseCommand):
    help = "Recompute the recommendation lists of every page (or one) in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--page", help="Slug of one page to refresh.")
        parser.add_argument("--async", dest="run_async", action="store_true", help="Enqueue instead of running here.")

    def handle(self, *args: Any, page: str | None, run_async: bool, **options: Any) -> None:
        pages = ContentPage.objects.all()
        if page:
            pages = pages.filter(slug=page)
            if not pages.exists():
                raise CommandError(f"no page with slug {page!r}")
        ids = list(pages.values_list("pk", flat=True))
        if run_async:
            (refresh_pages.delay(ids) if page else refresh_all_pages.delay())
            self.stdout.write(f"enqueued a refresh of {len(ids)} page(s).")
            return
        with tqdm(total=len(ids), unit="page", disable=options["verbosity"] == 0, file=self.stderr) as bar:
            summary = pages_refresh(page_ids=ids, progress=lambda p, n: bar.update(1))
        products = related_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"refreshed {summary.pages} page(s): {summary.items} item(s), {summary.empty} page(s) with no list; "
                f"related lists of {products} product(s)."
            )
        )
