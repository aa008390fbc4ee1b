"""Deeply nested input is the client's error, never a ``RecursionError``: JSON
bodies of the API, JSON typed into forms, and markdown."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework import parsers as drf_parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings

from servicedesk.forms import BoundedJSONField
from servicedesk.markup import render_markdown
from servicedesk.models import AuditEvent, Role
from servicedesk.nesting import (
    MAX_NESTING_DEPTH,
    NestingTooDeep,
    check_json_depth,
    check_json_text_depth,
    loads_json,
)
from servicedesk.parsers import JSONParser
from slo.models import Calendar
from tests.servicedesk.factories import ApiTokenFactory
from tickets.models import Comment, Ticket
from tickets.services import Actor, comment_add, notifications_muted, ticket_create

# What the review sent: about 1,100 levels in about 2 KB.
DEEP_ARRAY = "[" * 1_100 + "]" * 1_100
DEEP_OBJECT = '{"a":' * 400 + "1" + "}" * 400


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- the helpers ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, MAX_NESTING_DEPTH])
def test_json_text_at_the_bound_passes(depth):
    check_json_text_depth(nested(depth))
    check_json_text_depth('{"a": ' * depth + "1" + "}" * depth)
    assert loads_json(nested(depth)) == json.loads(nested(depth))


@pytest.mark.parametrize(
    "text",
    [nested(MAX_NESTING_DEPTH + 1), DEEP_ARRAY, DEEP_OBJECT, "[" * 100_000, '[{"a": [' * 20],
)
def test_json_text_past_the_bound_is_refused(text):
    with pytest.raises(NestingTooDeep):
        check_json_text_depth(text)
    with pytest.raises(ValueError, match="Nested deeper than 32 levels"):
        loads_json(text.encode())


def test_brackets_inside_strings_nest_nothing():
    text = json.dumps({"note": "[[[[{{{{" * 500, "quote": 'say "[[[" \\ ' * 50, "list": [[1]]})
    check_json_text_depth(text)
    assert loads_json(text)["list"] == [[1]]


def test_brackets_side_by_side_are_not_nesting():
    check_json_text_depth(json.dumps([[i] for i in range(5_000)]))


def test_parsed_values_are_checked_without_recursing():
    deep: list = []
    for _ in range(5_000):
        deep = [deep]
    with pytest.raises(NestingTooDeep):
        check_json_depth(deep)
    with pytest.raises(NestingTooDeep):
        check_json_depth({"a": {"b": deep}})
    check_json_depth({"hours": {"mon": [["09:00", "17:00"]]}, "tags": ["a"] * 1000})
    check_json_depth(json.loads(nested(MAX_NESTING_DEPTH)))
    with pytest.raises(NestingTooDeep):
        check_json_depth(json.loads(nested(MAX_NESTING_DEPTH + 1)))


# --- the API's parser -----------------------------------------------------------------


def parse(body: str | bytes, **context):
    raw = body.encode() if isinstance(body, str) else body
    return JSONParser().parse(io.BytesIO(raw), "application/json", context)


def test_the_parser_reads_what_drfs_reads():
    body = json.dumps({"title": "Printer", "tags": ["a", "b"], "n": 1.5, "ok": None})
    assert parse(body) == drf_parsers.JSONParser().parse(io.BytesIO(body.encode()))
    assert parse(nested(MAX_NESTING_DEPTH)) == json.loads(nested(MAX_NESTING_DEPTH))
    assert parse('"é"'.encode("latin-1"), encoding="latin-1") == "é"


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, nested(MAX_NESTING_DEPTH + 1)])
def test_the_parser_refuses_deep_bodies(body):
    with pytest.raises(ParseError) as caught:
        parse(body)
    assert caught.value.get_codes() == "nesting_too_deep"


@pytest.mark.parametrize("body", ['{"a": ', "NaN", b"\xff\xfe{", "[1, 2"])
def test_the_parser_still_refuses_malformed_bodies(body):
    with pytest.raises(ParseError):
        parse(body)
    with pytest.raises(ParseError):
        parse("{}", encoding="bz2_codec")


def test_the_bounded_parser_is_the_default():
    assert api_settings.DEFAULT_PARSER_CLASSES[0] is JSONParser


def routed_views(patterns=None) -> Iterator[object]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routed_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry.callback


def test_no_api_view_parses_json_with_drfs_unbounded_parser():
    checked = 0
    for view in routed_views():
        view_class = getattr(view, "cls", None)
        if view_class is None or not hasattr(view_class, "parser_classes"):
            continue
        initkwargs = getattr(view, "initkwargs", {}) or {}
        classes = list(initkwargs.get("parser_classes") or view_class.parser_classes)
        json_parsers = [p for p in classes if issubclass(p, drf_parsers.JSONParser)]
        assert all(issubclass(p, JSONParser) for p in json_parsers), (view_class, classes)
        checked += 1
    assert checked > 10


# --- the endpoints the review named ---------------------------------------------------


@pytest.fixture
def ticket(world) -> Ticket:
    with notifications_muted():
        return ticket_create(
            actor=Actor.of(world.members[Role.AGENT]),
            kind="incident",
            title="Printer",
            requester=world.user(Role.REQUESTER),
        )


def bearer_client(world, scopes: list[str]) -> Client:
    token = ApiTokenFactory(tenant=world.tenant, user=world.user(Role.ADMIN), scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")


def written(world) -> tuple[int, int, int, int]:
    tenant = world.tenant
    return (
        Ticket.objects.for_tenant(tenant).count(),
        Comment.objects.for_tenant(tenant).count(),
        Calendar.objects.for_tenant(tenant).count(),
        AuditEvent.objects.for_tenant(tenant).count(),
    )


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, '{"title": ' + DEEP_ARRAY + "}"])
@pytest.mark.parametrize("endpoint", ["tickets/", "tickets/{key}/comments/", "sla/calendars/"])
def test_deep_bodies_to_the_api_are_400(world, ticket, endpoint, body, caplog):
    client = bearer_client(world, ["tickets:read", "tickets:write", "sla:admin"])
    before = written(world)
    response = client.post(
        "/api/v1/" + endpoint.format(key=ticket.key), body, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "nesting_too_deep"
    assert written(world) == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_normal_body_parses_as_fast_as_before():
    body = json.dumps(
        {
            "title": "VPN drops every hour",
            "description": "Since Monday [see log] {the client} says: " + "x" * 4_000,
            "tags": ["vpn", "network"],
            "hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        }
    ).encode()

    def cost(parser: drf_parsers.BaseParser) -> float:
        """Seconds per parse, the best of several rounds."""
        rounds = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(300):
                parser.parse(io.BytesIO(body), "application/json", {})
            rounds.append((time.perf_counter() - start) / 300)
        return min(rounds)

    # A body this far from the bound costs two str.count calls more: a few
    # microseconds (measured: 11 µs → 14 µs), against milliseconds per request.
    assert cost(JSONParser()) - cost(drf_parsers.JSONParser()) < 50e-6


# --- JSON typed into a form -----------------------------------------------------------


def test_json_typed_into_a_form_is_bounded():
    field = BoundedJSONField()
    assert field.clean('{"mon": [["09:00", "17:00"]]}') == {"mon": [["09:00", "17:00"]]}
    for text in (DEEP_ARRAY, DEEP_OBJECT, nested(MAX_NESTING_DEPTH + 1)):
        with pytest.raises(ValidationError) as caught:
            field.clean(text)
        assert caught.value.code == "nesting_too_deep"
    with pytest.raises(ValidationError) as caught:
        field.clean("{nope")
    assert caught.value.code == "invalid"


# --- markdown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "- " * 32_000 + "x",  # a list in a list in a list …, on one line
        "1. " * 21_000 + "x",
        "* + - " * 10_000 + "x",
        "> " * 32_000 + "x",
        "> - " * 16_000 + "x",
        "\n".join(">" * depth + " x" for depth in range(1, 350)),
        "\n".join("    " * depth + "- x" for depth in range(180)),
    ],
    ids=["dash", "ordered", "mixed", "quote", "quote-list", "quote-lines", "indented"],
)
def test_deeply_nested_markdown_renders_bounded(source):
    start = time.perf_counter()
    html = render_markdown(source)
    assert time.perf_counter() - start < 3
    for tag in ("<ul>", "<ol>", "<blockquote>", "<li>"):
        assert html.count(tag) <= MAX_NESTING_DEPTH + 1, tag
    assert "x" in html


def test_markdown_within_the_bound_is_formatted():
    source = "\n".join("    " * depth + "- level " + str(depth) for depth in range(4))
    html = render_markdown(source + "\n\n> > quoted **twice**\n\n1. one\n2. two")
    assert html.count("<ul>") == 4
    assert html.count("<blockquote>") == 2
    assert "<strong>twice</strong>" in html
    assert "<ol>" in html


@pytest.mark.parametrize(
    "source", ["[](" * 16_000, "![](" * 16_000, "[" * 64_000, "[x](y) " * 9_000]
)
def test_a_thicket_of_link_brackets_renders_in_bounded_time(source):
    start = time.perf_counter()
    html = render_markdown(source)
    assert time.perf_counter() - start < 3
    assert "[" in html


def test_the_desk_shows_a_deeply_nested_comment(world, ticket, login):
    with notifications_muted():
        comment_add(
            actor=Actor.of(world.members[Role.AGENT]), ticket=ticket, body="- " * 30_000 + "end"
        )
    response = login(world.user(Role.AGENT)).get(
        reverse("tickets:desk_ticket", args=[world.tenant.slug, ticket.key])
    )
    assert response.status_code == 200
    assert b"end" in response.content


def test_a_form_with_deep_json_shows_its_error():
    from django import forms

    class ScheduleForm(forms.Form):
        hours = BoundedJSONField()

    form = ScheduleForm(data={"hours": DEEP_ARRAY})
    assert not form.is_valid()
    assert "nested deeper than 32 levels" in str(form.errors["hours"])
    assert DEEP_ARRAY in str(form["hours"])  # shown again as typed
