"""Markdown that people type, rendered to HTML that cannot run.

Markdown is converted first and the result is then cleaned by nh3 (an
allow-list sanitiser): only the tags and attributes below survive, links may
point only to http(s) and mailto, whatever the spelling (``JaVaScRiPt:``,
entities, control characters), and every link gets
``rel="noopener noreferrer nofollow"``. The Content-Security-Policy is the
second wall should anything slip through.
"""

from __future__ import annotations

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tr", "th", "td", "del", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE = 200_000


def render_markdown(source: str) -> SafeString:
    """HTML for ``source`` (markdown), safe to put on any page."""
    html = markdown.markdown(
        (source or "")[:MAX_SOURCE],
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
