"""Request bodies the API refuses with a 400 in DRF's error format, where they would otherwise be a 500 or Django's
HTML error page.

- JSON nested deeper than the decoder can go (`[[[[...`): `json` raises RecursionError, which DRF's JSONParser
  does not catch.
- JSON whose strings hold a lone surrogate (`"\\ud800"`, an escape JSON allows but no Unicode text has): an error
  message that quotes the value (a choice, a slug) could not be encoded in the response, a 500.
- A body over `DATA_UPLOAD_MAX_MEMORY_SIZE` (or a form over `DATA_UPLOAD_MAX_NUMBER_FIELDS`): Django raises as DRF
  reads it, and answers with its plain HTML 400 page, naming no limit.
- Text that no query can take, in a value looked up rather than stored (a slug, a sku): NUL, which PostgreSQL
  cannot hold in text (psycopg raises DataError), and lone surrogates, which no encoding can send. CharField
  refuses both; a lookup field is refused the same way before its query.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.response import Response
from rest_framework.validators import ProhibitSurrogateCharactersValidator
from rest_framework.views import APIView

UNSTORABLE = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())
SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(data: Any) -> bool:
    """Whether any key or string in parsed JSON holds a lone surrogate (walked without recursion)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack += [*item, *item.values()]
        elif isinstance(item, list):
            stack += item
    return False


class BoundedJSONParser(JSONParser):
    """JSON nested too deeply for the decoder (`[[[[...`), or holding a lone surrogate, is a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        if lone_surrogate(data):
            raise ParseError("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff), not Unicode text.")
        return data


class BoundedBodyView(APIView):
    """Base of the API's writing views: a body too deep, too large or not Unicode is a 400 with a `detail` naming why.

    The host's parsers are kept; its plain JSONParser is swapped for `BoundedJSONParser`.
    """

    def get_parsers(self) -> list[BaseParser]:
        return [BoundedJSONParser() if type(parser) is JSONParser else parser for parser in super().get_parsers()]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            exc = ParseError(f"The request body is larger than {limit:,} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE).")
        elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            exc = ParseError(str(exc))
        return super().handle_exception(exc)


def refuse_unstorable(value: Any) -> None:
    """ValidationError for text no query can take (NUL, a lone surrogate), with CharField's messages."""
    if not isinstance(value, str):
        return
    for validator in UNSTORABLE:
        try:
            validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class SlugLookupField(serializers.SlugRelatedField):  # type: ignore[type-arg]
    """A related object by slug; text no query can take is refused before the lookup."""

    def to_internal_value(self, data: Any) -> Any:
        refuse_unstorable(data)
        return super().to_internal_value(data)


def query_text(request: Any, name: str) -> str:
    """A query parameter that reaches a query, stripped; NUL or a lone surrogate is a 400 naming the parameter."""
    value = str(request.query_params.get(name, "")).strip()
    try:
        refuse_unstorable(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None
    return value
