"""Wagtail integration: published pages become content pages, with a StreamField block and an editor panel.

Add "recommender.contrib.wagtail" to INSTALLED_APPS after "recommender" (docs/wagtail.md).
"""
