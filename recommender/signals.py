"""Signals the recommender sends, so a host can react to its work (purge a front-end cache, mirror a list).

Both are sent after the transaction that stored the list commits, and only when the list changed
(other products, or the same products in another order); a refresh that stores the same list again
announces nothing.
"""

from django.dispatch import Signal

# A page's stored list changed. Sent with `page` (the ContentPage) and `product_ids` (the new list, in rank
# order; empty when the page was withdrawn or nothing fits it). `wagtail.contrib.frontend_cache` or any other
# cache keyed by `page.url` can purge on it.
recommendations_changed = Signal()

# A product's stored related-products list changed. Sent with `product_id` and `related_ids` (rank order).
related_products_changed = Signal()
