"""A Django app that turns health articles into relevant, honest product recommendations."""

__version__ = "0.2.0"
