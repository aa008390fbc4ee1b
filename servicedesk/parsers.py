"""The API's JSON parser: DRF's, with a bound on nesting.

``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]`` names it, and a viewset that
lists its parsers names this class instead of ``rest_framework.parsers.JSONParser``
(a test walks the URL patterns for the plain one). A body nested deeper
than :data:`servicedesk.nesting.MAX_NESTING_DEPTH` is a 400
``{"detail": …, "code": "nesting_too_deep"}``, refused before the recursive
parser sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from servicedesk.nesting import MAX_NESTING_DEPTH, NestingTooDeep, check_json_text_depth


class JSONParser(parsers.JSONParser):
    """``application/json`` bodies, at most ``max_depth`` arrays/objects deep."""

    max_depth = MAX_NESTING_DEPTH

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        # Refuses non-text charsets (a bz2_codec body would inflate past the
        # size limit Django checked).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            text = stream.read().decode(encoding)
            check_json_text_depth(text, self.max_depth)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except NestingTooDeep as exc:
            raise ParseError(
                f"JSON parse error - the body is nested deeper than {exc.limit} levels.",
                code="nesting_too_deep",
            ) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
