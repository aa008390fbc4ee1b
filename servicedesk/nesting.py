"""One bound on how deeply nested anything a client sends may be.

Python's JSON parser and every walker over a parsed tree recurse once per
level of nesting; a few kilobytes of ``[[[[…`` reach the interpreter's
recursion limit and the request dies with a ``RecursionError`` (a 500, and a
traceback per request); the markdown parser stops at a nesting limit and
drops what lies deeper. Every parser of client input checks the depth
against :data:`MAX_NESTING_DEPTH` and refuses deeper input as the client's
error: the API's JSON parser (:mod:`servicedesk.parsers`), JSON typed into
forms (:class:`servicedesk.forms.BoundedJSONField`) and markdown
(:mod:`servicedesk.markup`, which shows deeper text as plain text). Parsers
added later (form schemas, condition trees) use the same helpers.

The checks are iterative and linear, and cost next to nothing for input that
is far from the bound: JSON with fewer brackets than the bound cannot be
nested deeper, which two ``str.count`` calls tell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import accumulate
from typing import Any

#: The deepest nesting accepted anywhere: JSON arrays and objects, markdown
#: lists and quotes. Far beyond anything a person or an integration writes
#: (an SLA calendar is 4 levels deep), far below the recursion limit.
MAX_NESTING_DEPTH = 32


class NestingTooDeep(ValueError):
    """Input nested deeper than the bound; the client's error, never a 500."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Nested deeper than {limit} levels.")
        self.limit = limit


# Every byte but brackets and quotes, for bytes.translate to drop.
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'[]{}"'))
_BRACKET_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def check_json_text_depth(text: str | bytes, limit: int = MAX_NESTING_DEPTH) -> None:
    """Raise :class:`NestingTooDeep` when the JSON document ``text`` nests
    arrays and objects deeper than ``limit``; run it *before* parsing.
    Bytes must be UTF-8 (or another ASCII-compatible encoding).

    Malformed text is left to the parser; whatever the check counts for it,
    the parser refuses it no deeper than the check let it go.
    """
    if isinstance(text, str):
        if text.count("[") + text.count("{") <= limit:
            return
        raw = text.encode("utf-8", "surrogatepass")
    else:
        if text.count(b"[") + text.count(b"{") <= limit:
            return
        raw = bytes(text)
    # Only \\ and \" can hide a string's end; once both are gone, the
    # quotes pair up and every second stretch between them is inside a
    # string. In UTF-8 no byte of a multi-byte character is ASCII, so
    # working on bytes is exact. All in C: no Python loop per character.
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = raw.translate(None, _NOT_STRUCTURE)
    # Two quotes with nothing between them (a string without brackets, or
    # the end of one and the start of the next) drop out together, keeping
    # the pairing; few strings are left to split apart.
    structure = structure.replace(b'""', b"")
    outside_strings = b"".join(structure.split(b'"')[::2])
    steps = map(_BRACKET_STEP.__getitem__, outside_strings)
    if max(accumulate(steps), default=0) > limit:
        raise NestingTooDeep(limit)


def check_json_depth(value: Any, limit: int = MAX_NESTING_DEPTH) -> None:
    """Raise :class:`NestingTooDeep` when the parsed JSON ``value`` (lists and
    dicts) nests deeper than ``limit``. For values from elsewhere than a
    bounded parser, before a recursive walk over them."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        if depth + 1 > limit:
            raise NestingTooDeep(limit)
        pending.extend((child, depth + 1) for child in children)


def loads_json(
    text: str | bytes,
    *,
    limit: int = MAX_NESTING_DEPTH,
    parse_constant: Callable[[str], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """``json.loads`` for client input: :class:`NestingTooDeep` (a
    ``ValueError``, like the parser's own errors) instead of a
    ``RecursionError``."""
    if isinstance(text, bytes | bytearray):
        # As json.loads does: UTF-8, -16 or -32, told by the first bytes.
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    check_json_text_depth(text, limit)
    return json.loads(text, parse_constant=parse_constant, **kwargs)
