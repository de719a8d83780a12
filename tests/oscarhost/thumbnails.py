"""A thumbnailer for a host without sorl-thumbnail or easy-thumbnails: every thumbnail is the source itself."""

from typing import Any

from oscar.core.thumbnails import AbstractThumbnailer


class Placeholder:
    def __init__(self, source: Any) -> None:
        self.url = getattr(source, "url", "") or "/static/placeholder.png"
        self.width = self.height = 100


class PlaceholderThumbnailer(AbstractThumbnailer):
    def generate_thumbnail(self, source: Any, **opts: Any) -> Placeholder:
        return Placeholder(source)

    def delete_thumbnails(self, source: Any) -> None:
        pass
