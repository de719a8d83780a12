"""Signals the plugin sends, for hosts and contrib apps (a front-end cache purge, say)."""

from __future__ import annotations

from collections.abc import Iterable

from django.dispatch import Signal

# Sent after commit, once per page whose stored list changed, with `page` (a ContentPage).
recommendations_changed = Signal()


def lists_changed(pages: Iterable[object]) -> None:
    """Announce the pages whose stored lists changed (called after commit)."""
    from recommender.models import ContentPage

    for page in pages:
        recommendations_changed.send(sender=ContentPage, page=page)
