"""Markdown as people type it: what it renders to, that it renders once per
text, and that no text of a comment's size stalls the page."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.template import Context, Template

from servicedesk import markup
from servicedesk.markup import (
    MAX_LINK_BRACKETS,
    MAX_TABLE_CELLS,
    cache_key,
    render_markdown,
)
from servicedesk.nesting import MAX_NESTING_DEPTH
from tickets.services.common import BODY_MAX


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    markup.forget_recent()
    yield
    cache.clear()


# --- what it renders to -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("**bold** and *em*", "<p><strong>bold</strong> and <em>em</em></p>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("```python\nprint(1)\n```", "<pre><code>print(1)\n</code></pre>"),
        ("~~~\n<b>\n~~~", "<pre><code>&lt;b&gt;\n</code></pre>"),
        ("`a < b`", "<p><code>a &lt; b</code></p>"),
        ("# Title", "<h1>Title</h1>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("1. one\n2. two", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"),
        ("---", "<hr>"),
        ("<b>raw</b> html", "<p>&lt;b&gt;raw&lt;/b&gt; html</p>"),
        (
            "<https://example.test/a>",
            '<p><a href="https://example.test/a" rel="noopener noreferrer nofollow">'
            "https://example.test/a</a></p>",
        ),
        (
            '[docs](https://example.test "Docs")',
            '<p><a href="https://example.test" title="Docs" rel="noopener noreferrer nofollow">'
            "docs</a></p>",
        ),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("![logo](https://example.test/logo.png)", "<p></p>"),
    ],
)
def test_markdown_renders_to(source, html):
    assert render_markdown(source).strip() == html


def test_tables_render():
    html = render_markdown("| Host | State |\n|:-----|------:|\n| db1 | up |\n| db2 | *down* |")
    assert "<table>" in html
    assert "<th>Host</th>" in html
    assert "<td><em>down</em></td>" in html
    assert "style=" not in html


def test_the_filter_renders_and_empty_text_is_empty():
    template = Template("{% load markup %}{{ body|markdown }}")
    assert template.render(Context({"body": "**x**"})).strip() == "<p><strong>x</strong></p>"
    assert template.render(Context({"body": ""})) == ""
    assert render_markdown(None) == ""  # type: ignore[arg-type]


# --- rendered once per text ---------------------------------------------------------------


def test_a_text_is_rendered_once(monkeypatch):
    calls: list[str] = []
    real_render = markup._render

    def counting_render(source: str) -> str:
        calls.append(source)
        return real_render(source)

    monkeypatch.setattr(markup, "_render", counting_render)
    first = render_markdown("Printer **jammed**")
    again = render_markdown("Printer **jammed**")
    other = render_markdown("Printer **fixed**")
    assert first == again
    assert first.strip() == "<p>Printer <strong>jammed</strong></p>"
    assert "fixed" in other
    assert calls == ["Printer **jammed**", "Printer **fixed**"]
    assert cache.get(cache_key("Printer **jammed**")) == first


def test_another_renderer_version_renders_again(monkeypatch):
    before = cache_key("Printer")
    monkeypatch.setattr(markup, "RENDERER_VERSION", markup.RENDERER_VERSION + "+1")
    assert cache_key("Printer") != before
    assert cache_key("Printer") != cache_key("Printer ")


# --- no text of a comment's size stalls the page ------------------------------------------


def fill(unit: str, prefix: str = "") -> str:
    """``prefix`` and then ``unit`` over and over, to BODY_MAX characters."""
    return prefix + unit * ((BODY_MAX - len(prefix)) // len(unit))


# The slowest shapes found, each of which took seconds to a minute before it
# was bounded (Python-Markdown or markdown-it-py unbounded); bench/markup.py
# prints them all. Measured after: well under a second each.
WORST_CASES = {
    "rules": fill("---\n"),
    "setext headings": fill("a\n=\n"),
    "fences": fill("~~~x\n"),
    "open autolinks": fill("<http://x"),
    "html-ish": fill("<a "),
    "empty list items": fill("-\n"),
    "brackets": fill("["),
    "image brackets": fill("![]("),
    "list items": fill("- a\n"),
    "list markers 32 a line": fill("- " * 32 + "a\n"),
    "deep quote, lazy lines": fill("a\n", ">" * 32 + " a\n"),
    "wide header, empty rows": fill("|\n", "|" + "a|" * 100 + "\n|" + "-|" * 100 + "\n"),
    "many tables": fill("|" + "a|" * 181 + "\n|" + "-|" * 181 + "\n" + "|\n" * 362 + "\n"),
    "emphasis": fill("*a"),
    "lines": fill("a\n"),
}


@pytest.mark.parametrize("source", WORST_CASES.values(), ids=WORST_CASES.keys())
def test_the_worst_texts_render_in_bounded_time(source):
    start = time.perf_counter()
    html = render_markdown(source)
    # Under a second on an idle core; the margin is for a busy test machine.
    assert time.perf_counter() - start < 3
    assert html


def test_many_brackets_outside_code_are_shown_as_text():
    text = "[" * (MAX_LINK_BRACKETS + 1)
    assert render_markdown(text) == f"<p>{text}</p>"
    in_code = "```\n" + "[1, [2]]\n" * MAX_LINK_BRACKETS + "```\n\n**done**"
    assert "<strong>done</strong>" in render_markdown(in_code)


def test_too_many_list_items_are_shown_as_text():
    html = render_markdown("- item\n" * (markup.MAX_CONTAINERS + 1))
    assert "<li>" not in html
    assert "- item<br>" in html
    assert render_markdown("- item\n" * 100).count("<li>") == 100


def test_a_deep_quote_over_many_lines_is_shown_as_text():
    deep = "> " * MAX_NESTING_DEPTH + "start\n" + "more\n" * 4_000
    html = render_markdown(deep)
    assert "<blockquote>" not in html
    assert "more" in html
    shallow = "> > start\n" + "more\n" * 4_000
    assert render_markdown(shallow).count("<blockquote>") == 2


def test_tables_past_the_cell_budget_stay_text():
    columns = 10
    header = "|" + "h|" * columns + "\n|" + "-|" * columns + "\n"
    rows = MAX_TABLE_CELLS // columns
    within = render_markdown(header + "|c|\n" * (rows - 2))
    assert within.count("<table>") == 1
    assert within.count("<td>") == columns * (rows - 2)
    past = render_markdown(header + "|c|\n" * rows)
    assert "<table>" not in past
    assert "|c|" in past
    # The budget is for the text, not each table.
    two = render_markdown(header + "|c|\n" * (rows // 2) + "\n" + header + "|c|\n" * (rows // 2))
    assert two.count("<table>") == 1


def test_nesting_the_parser_would_cut_short_loses_no_text():
    too_deep = "\n".join("  " * depth + f"- level{depth}" for depth in range(MAX_NESTING_DEPTH + 1))
    html = render_markdown(too_deep)
    assert "<ul>" not in html
    assert f"level{MAX_NESTING_DEPTH}" in html
    at_the_bound = "\n".join("  " * depth + f"- level{depth}" for depth in range(MAX_NESTING_DEPTH))
    html = render_markdown(at_the_bound)
    assert html.count("<ul>") == MAX_NESTING_DEPTH
    assert f"level{MAX_NESTING_DEPTH - 1}" in html


def test_deeply_indented_code_is_not_nesting():
    code = "```\n" + "".join(" " * 120 + f"line {n}\n" for n in range(50)) + "```\n\n- item"
    html = render_markdown(code)
    assert "<pre><code>" in html
    assert "<li>item</li>" in html


def test_a_process_keeps_its_recent_renderings_without_asking_the_cache(monkeypatch):
    calls: list[str] = []
    real_render = markup._render

    def counting_render(source: str) -> str:
        calls.append(source)
        return real_render(source)

    monkeypatch.setattr(markup, "_render", counting_render)
    monkeypatch.setattr(markup, "RECENT_ENTRIES", 2)
    first = render_markdown("Printer **jammed**")
    cache.clear()  # another process's cache flush: this process still has it
    monkeypatch.setattr(markup.cache, "get", lambda *a, **k: pytest.fail("asked the cache"))
    assert render_markdown("Printer **jammed**") == first
    assert calls == ["Printer **jammed**"]
    monkeypatch.undo()
    monkeypatch.setattr(markup, "RECENT_ENTRIES", 2)
    render_markdown("one")
    render_markdown("two")
    assert len(markup._recent) == 2  # bounded: the oldest went
