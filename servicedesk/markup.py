"""Markdown that people type, rendered to HTML that cannot run.

Markdown is converted by markdown-it-py (CommonMark with tables and
strikethrough, raw HTML shown as text, a line break where the writer broke
the line) and the result is then cleaned by nh3 (an allow-list sanitiser):
only the tags and attributes below survive, links may point only to http(s)
and mailto, whatever the spelling (``JaVaScRiPt:``, entities, control
characters), and every link gets ``rel="noopener noreferrer nofollow"``. The
Content-Security-Policy is the second wall should anything slip through.

markdown-it-py is linear in the length of the text, where Python-Markdown
took from seconds to over a minute for 64 KB of rules, setext headings,
fences, autolinks or tables (``bench/markup.py`` prints both). A few shapes
still cost much per byte: thousands of list items or of ``[``, a deep quote
continued over thousands of lines, tables whose short rows are filled up
with cells. Past the bounds below such text is shown as escaped plain text,
line breaks kept (tables: as the text they were typed as), and no 64 KB text
we know of takes more than about 0.7 s. The parser also stops descending at a
nesting limit and drops what lies below it, so text that nests lists and
quotes deeper than :data:`~servicedesk.nesting.MAX_NESTING_DEPTH` is shown
as plain text too: nothing anyone wrote goes missing.

The same text renders to the same HTML, so the HTML is kept in the cache
under a hash of the text: a page showing fifty comments renders none of them
again on the next view.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from importlib.metadata import version

import nh3
from django.core.cache import cache
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.table import table as table_rule
from markdown_it.rules_core import StateCore

from servicedesk.nesting import MAX_NESTING_DEPTH

logger = logging.getLogger(__name__)

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tr", "th", "td", "del", "s", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_SOURCE = 200_000

#: Part of every cache key: an upgrade of either library, or a raised rules
#: number (bump it whenever the options, the allow-list, the bounds or the
#: fallback change what a text renders to), leaves every cached rendering
#: behind, to expire, at once.
RENDERER_VERSION = f"markdown-it-py {version('markdown-it-py')}, nh3 {version('nh3')}, rules 1"
#: How long a rendering stays cached after it was made; a text not viewed
#: for that long costs one rendering more.
CACHE_SECONDS = 7 * 24 * 3600

# Past these the text is shown as escaped plain text (or, for tables, as the
# text they were typed as). Each costs about half a second at most on a
# 64 KB comment and is far beyond what a person writes; ``bench/markup.py``
# prints the worst shapes we know against them.
#: ``[`` in running text (not code): the link rule looks for a label's end
#: from each of them, some 40 µs apiece.
MAX_LINK_BRACKETS = 5_000
#: List items and quotes the text opens, some 40 µs apiece.
MAX_CONTAINERS = 5_000
#: Lines times the deepest nesting: every line of a quote or list is
#: scanned again at each level it sits in (a 32-deep quote followed by
#: 32,000 lazily continued lines took eight seconds).
MAX_LINE_LEVELS = 100_000
#: Cells of all tables together: rows shorter than the header are filled up,
#: so 2 bytes of ``|`` can make a hundred cells.
MAX_TABLE_CELLS = 10_000

# What opens a container at the start of a line: indentation, a quote, a
# bullet or an ordered-list number (each followed by a blank or the end).
_CONTAINER_TOKEN = re.compile(r"[ \t]+|>|(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)")
_CONTAINER_OPENS = {"bullet_list_open", "ordered_list_open", "blockquote_open"}
_CONTAINER_CLOSES = {"bullet_list_close", "ordered_list_close", "blockquote_close"}


def _block_work_exceeds(source: str) -> bool:
    """Whether the lists and quotes of ``source`` would cost more than the
    bounds above to parse.

    Counts, line by line, the markers that may open a list, an item or a
    quote, and the depth a line may reach: one level per marker, and per two
    columns of indentation (the least a list item's content is indented by).
    Both over-estimate, never under-estimate.
    """
    lines = source.split("\n")
    containers = deepest = 0
    for line in lines:
        markers = columns = position = 0
        while match := _CONTAINER_TOKEN.match(line, position):
            token = match.group()
            if token[0] in " \t":
                columns += len(token.expandtabs(4))
            else:
                markers += 1
            position = match.end()
        containers += markers
        if markers:
            deepest = max(deepest, markers + columns // 2)
    depth = min(deepest, MAX_NESTING_DEPTH + 1)
    return containers > MAX_CONTAINERS or len(lines) * depth > MAX_LINE_LEVELS


def _bounded_table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """The table rule, refusing a table once the text's tables would hold more
    than :data:`MAX_TABLE_CELLS` cells; a refused table stays a paragraph."""
    used = state.env.get("table_cells", 0)
    if used >= MAX_TABLE_CELLS or not table_rule(state, start_line, end_line, True):
        return False
    # The delimiter row (the line after the header) gives the column count.
    delimiter_line = start_line + 1
    delimiter = state.src[state.bMarks[delimiter_line] : state.eMarks[delimiter_line]]
    columns = delimiter.strip().strip("|").count("|") + 1
    # Rows run to a blank line at the latest; scan no further than the budget.
    rows_allowed = (MAX_TABLE_CELLS - used) // columns
    line, rows = start_line, 0
    while line < end_line and rows <= rows_allowed and not state.isEmpty(line):
        if state.sCount[line] < state.blkIndent:
            break
        line, rows = line + 1, rows + 1
    if rows > rows_allowed:
        # No more tables in this text: the lines left are not scanned again.
        state.env["table_cells"] = MAX_TABLE_CELLS
        return False
    if not silent:
        state.env["table_cells"] = used + rows * columns
        return table_rule(state, start_line, end_line, False)
    return True


def _bound_inline_work(state: StateCore) -> None:
    """Between the block and the inline pass: give up on text nested deeper
    than the parser's limit (it drops what lies below) or holding more link
    brackets than :data:`MAX_LINK_BRACKETS` outside code."""
    depth = brackets = 0
    for token in state.tokens:
        if token.type in _CONTAINER_OPENS:
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                break
        elif token.type in _CONTAINER_CLOSES:
            depth -= 1
        elif token.type == "inline":
            brackets += token.content.count("[")
    if depth > MAX_NESTING_DEPTH or brackets > MAX_LINK_BRACKETS:
        state.env["plain_text"] = True
        state.tokens.clear()


# A list takes two of the parser's levels (the list and its item) and the
# paragraph in the deepest item one more: text within MAX_NESTING_DEPTH lists
# and quotes never reaches the parser's limit, and text the parser cut short
# nests deeper than that, which _bound_inline_work then sees.
_parser = MarkdownIt(
    "commonmark",
    {"html": False, "breaks": True, "maxNesting": 2 * MAX_NESTING_DEPTH + 2},
).enable(["table", "strikethrough"])
_parser.block.ruler.at("table", _bounded_table, {"alt": ["paragraph", "reference"]})
_parser.core.ruler.after("block", "bound_inline_work", _bound_inline_work)


def _render(source: str) -> str:
    """Sanitised HTML for ``source``, or the text escaped, line breaks kept."""
    env: dict[str, object] = {}
    tokens = [] if _block_work_exceeds(source) else _parser.parse(source, env)
    if not tokens or env.get("plain_text"):
        # Escaped by linebreaks; nothing to clean.
        return linebreaks(source, autoescape=True)
    html = _parser.renderer.render(tokens, _parser.options, env)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def cache_key(source: str) -> str:
    """Where the rendering of ``source`` is cached: a hash of the renderer's
    version and the text."""
    digest = hashlib.sha256(RENDERER_VERSION.encode())
    digest.update(b"\0")
    digest.update(source.encode("utf-8", "surrogatepass"))
    return f"markup:{digest.hexdigest()}"


# The last renderings this process made or fetched, in front of the shared
# cache: a page of fifty comments costs no round trip to Redis when it is
# shown again. The key holds the text's hash and the renderer's version, so
# an entry is never stale; only its size needs a bound.
RECENT_ENTRIES = 2048
_recent: OrderedDict[str, str] = OrderedDict()
_recent_lock = threading.Lock()


def _remember(key: str, html: str) -> None:
    with _recent_lock:
        _recent[key] = html
        _recent.move_to_end(key)
        while len(_recent) > RECENT_ENTRIES:
            _recent.popitem(last=False)


def forget_recent() -> None:
    """Empty this process's renderings (tests that count renders use it)."""
    with _recent_lock:
        _recent.clear()


def render_markdown(source: str) -> SafeString:
    """HTML for ``source`` (markdown), safe to put on any page."""
    source = (source or "")[:MAX_SOURCE]
    if not source:
        return SafeString()
    key = cache_key(source)
    with _recent_lock:
        recent = _recent.get(key)
    if recent is not None:
        return mark_safe(recent)  # noqa: S308  # cleaned by the allow-list, or escaped
    try:
        html = cache.get(key)
    except Exception:  # the cache (Redis) is down: render, as if never cached
        logger.warning("markup cache unavailable; rendering uncached", exc_info=True)
        return mark_safe(_render(source))  # noqa: S308  # cleaned by the allow-list, or escaped
    if html is None:
        html = _render(source)
        try:
            cache.set(key, html, timeout=CACHE_SECONDS)
        except Exception:
            logger.warning("markup cache unavailable; not storing", exc_info=True)
    _remember(key, html)
    return mark_safe(html)  # noqa: S308  # cleaned by the allow-list, or escaped
