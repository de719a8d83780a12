"""django-oscar integration: an adapter for Oscar's catalogue, and related products written into Oscar.

Set RECOMMENDER["PRODUCT_MODEL"] = "catalogue.Product" and
RECOMMENDER["PRODUCT_ADAPTER"] = "recommender.contrib.oscar.adapters.OscarProductAdapter", and add
"recommender.contrib.oscar" to INSTALLED_APPS after "recommender" (docs/oscar.md).
"""
