"""Markdown that people type, rendered to HTML that cannot run.

Markdown is converted first and the result is then cleaned by nh3 (an
allow-list sanitiser): only the tags and attributes below survive, links may
point only to http(s) and mailto, whatever the spelling (``JaVaScRiPt:``,
entities, control characters), and every link gets
``rel="noopener noreferrer nofollow"``. The Content-Security-Policy is the
second wall should anything slip through.

Python-Markdown recurses once per level of list or quote (only its quotes
stop short of the recursion limit), and its link pattern rescans the rest
of a paragraph for every ``[``. Text nested deeper than
:data:`~servicedesk.nesting.MAX_NESTING_DEPTH` or holding more than
:data:`MAX_LINK_BRACKETS` brackets is therefore shown as plain text, line
breaks kept: legible, and rendered in linear time.
"""

from __future__ import annotations

import re

import markdown
import nh3
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe

from servicedesk.nesting import MAX_NESTING_DEPTH

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tr", "th", "td", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE = 200_000
# A thousand links render in a few tenths of a second; 16,000 ``[](`` in a
# 64 KB comment took half a minute, on every view of the ticket.
MAX_LINK_BRACKETS = 1_000

# What opens a container at the start of a line: indentation, a quote, a
# bullet or an ordered-list number (each followed by a blank or the end).
_CONTAINER_TOKEN = re.compile(r"[ \t]+|>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)")


def nesting_exceeds(source: str, limit: int = MAX_NESTING_DEPTH) -> bool:
    """Whether a line of ``source`` may open more than ``limit`` lists and
    quotes.

    Each level needs its marker on the line that opens it, or the marker plus
    four columns of indentation per enclosing list (a line that opens nothing
    only re-enters levels opened above it). Counting every marker and every
    four columns over-estimates, never under-estimates.
    """
    for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        markers = columns = position = 0
        while match := _CONTAINER_TOKEN.match(line, position):
            token = match.group()
            if token[0] in " \t":
                columns += len(token.expandtabs(4))
            else:
                markers += 1
            if markers and markers + columns // 4 > limit:
                return True
            position = match.end()
    return False


def render_markdown(source: str) -> SafeString:
    """HTML for ``source`` (markdown), safe to put on any page."""
    source = (source or "")[:MAX_SOURCE]
    if source.count("[") > MAX_LINK_BRACKETS or nesting_exceeds(source):
        # Escaped by linebreaks; nothing to clean.
        return mark_safe(linebreaks(source, autoescape=True))  # noqa: S308
    html = markdown.markdown(
        source,
        extensions=["fenced_code", "tables", "sane_lists", "nl2br"],
        output_format="html",
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308  # cleaned by the allow-list above
