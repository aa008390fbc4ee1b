"""Hostile input at every route, straight from the resolver.

Every URL and API route the leak matrix walks is sent each of the bad bodies
of ``HOSTILE_BODIES`` (as a POST) and each of the bad query strings of
``HOSTILE_QUERIES`` (as a GET), by the tenant's admin, who gets past every
role gate, against the tenant's own objects. Whatever the route does with
it: never a 5xx, and a request it refuses (4xx) changes nothing.

The lists are the one place to extend: a new kind of bad input goes here
and reaches every route, and a new route is walked without a line here.
"""

from __future__ import annotations

import json
from functools import cache as once

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection

from servicedesk.models import Role, Team
from servicedesk.tenancy import TenantOwned
from tests.conftest import client_for
from tests.leak_registry import FOREIGN_VALUES
from tests.test_leak_matrix import ROUTES

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# Field names the app's forms and serializers read, so a bad value reaches
# the code that parses it instead of stopping at "this field is required".
FIELDS = (
    "title",
    "description",
    "body",
    "kind",
    "status",
    "impact",
    "urgency",
    "priority",
    "tags",
    "field",
    "name",
    "email",
    "role",
    "timezone",
    "minutes",
    "start",
    "offset",
    "query",
    "relation",
    "other",
    "user",
    "action",
    "tickets",
)


def _json_of_all(value: object) -> bytes:
    return json.dumps(dict.fromkeys(FIELDS, value)).encode()


def _form_of_all(value: str) -> bytes:
    return "&".join(f"{field}={value}" for field in FIELDS).encode()


TEXT_FIELDS = ("title", "description", "body", "name", "query")


# name -> (content type, body)
HOSTILE_BODIES: dict[str, tuple[str, bytes]] = {
    "json nested deep (array)": (JSON, b"[" * 1100 + b"]" * 1100),
    "json nested deep (object)": (JSON, b'{"a":' * 1100 + b"1" + b"}" * 1100),
    "json nested deep in a field": (
        JSON,
        b'{"title": "x", "hours": ' + b"[" * 1100 + b"]" * 1100 + b"}",
    ),
    "json invalid utf-8": (JSON, b'{"title": "\xff\xfe\xc0\xaf", "body": "\xed\xa0\x80"}'),
    "json with nul": (JSON, _json_of_all("a\x00b")),
    "json duplicate keys": (JSON, b'{"kind": "incident", "kind": "problem", "title": "a"}'),
    "json wrong types": (
        JSON,
        json.dumps(
            {
                "title": 1,
                "kind": [],
                "impact": {"a": 1},
                "body": None,
                "tags": "x",
                "status": 5,
                "hours": "mon",
                "holidays": {"date": 1},
                "users": [1, None, {}],
                "offset": "up",
            }
        ).encode(),
    ),
    "json numbers out of range": (
        JSON,
        b'{"impact": 1e309, "urgency": -99999999999999999999999, "priority": '
        b'9223372036854775808, "minutes": 1e400, "offset": -1e400, "policy": 1e30}',
    ),
    "json huge strings": (JSON, json.dumps(dict.fromkeys(TEXT_FIELDS, "x" * 70_000)).encode()),
    "json top level not an object": (JSON, b'"just a string"'),
    "not json at all": (JSON, b"{{{"),
    "form with nul": (FORM, _form_of_all("a%00b")),
    "form invalid utf-8": (FORM, _form_of_all("%FF%FE%C0%AF")),
    "form huge strings": (FORM, "&".join(f"{f}={'y' * 70_000}" for f in TEXT_FIELDS).encode()),
    "form huge numbers": (FORM, _form_of_all("9" * 400)),
    "form repeated fields": (FORM, b"status=a&status=b&field=title&field=tags&tickets=1&tickets=x"),
    "multipart without a boundary": ("multipart/form-data", b"--x\r\n\r\n"),
}

HOSTILE_QUERIES: dict[str, str] = {
    "page far away": "page=99999999999999999999",
    "nul in search": "q=a%00b",
    "search huge": "q=" + "x" * 5000,
    "invalid utf-8": "q=%FF%FE&sort=%C0%AF",
    "numbers out of range": "page_size=1e9&priority=99999999999999999999&offset=-1e400",
    "repeated and odd": "status=a&status=&queue=../../etc&target=<script>&tickets=x",
    "junk cursor": "cursor=%00%FF",
}

# Routes whose purpose is to end the session: walked, but by a fresh client each time.
SESSION_ENDING = {"logout"}


@once
def _fingerprint_sql() -> str:
    # Table names come from the models, not from input: S608 does not apply.
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.proxy
    )
    parts = [
        f"SELECT '{table}' AS t, md5(coalesce(string_agg(r::text, ',' ORDER BY r.id), '')) AS h"  # noqa: S608
        f" FROM {table} r WHERE r.tenant_id = %(tenant)s"
        for table in tables
    ]
    members = Team.members.through._meta.db_table
    parts.append(
        f"SELECT '{members}', md5(coalesce(string_agg(m::text, ',' ORDER BY m.id), ''))"  # noqa: S608
        f" FROM {members} m JOIN servicedesk_team team ON team.id = m.team_id"
        " WHERE team.tenant_id = %(tenant)s"
    )
    return (
        "SELECT md5(string_agg(t || '=' || h, ';' ORDER BY t)) FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + ") tables"
    )


def fingerprint(tenant) -> str:
    """Every row the tenant owns, in one query: a refused request must leave it as it was."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql(), {"tenant": tenant.tenant.pk})
        return cursor.fetchone()[0]


def admin_client(world):
    return client_for(world.user(Role.ADMIN))


@pytest.fixture
def tenant(foreign):
    """A tenant with an object of every kind (its tickets, SLA, views, files)."""
    return foreign


def hostile_routes():
    return [r for r in ROUTES if r.name not in SESSION_ENDING]


def url_of(route, tenant) -> str:
    return route.url({k: FOREIGN_VALUES[k](tenant) for k in route.kwargs})


@pytest.mark.parametrize("route", hostile_routes(), ids=lambda r: r.name)
def test_bad_bodies_never_break_a_route_nor_half_write(tenant, route):
    url = url_of(route, tenant)
    client = admin_client(tenant)
    before = fingerprint(tenant)
    for name, (content_type, body) in HOSTILE_BODIES.items():
        cache.clear()  # the token and sign-in throttles count per address
        response = client.generic("POST", url, body, content_type=content_type)
        what = f"POST {url} with {name}"
        assert response.status_code < 500, f"{what}: {response.status_code}"
        after = fingerprint(tenant)
        if 400 <= response.status_code < 500:
            assert after == before, f"{what}: refused but wrote"
        before = after


@pytest.mark.parametrize("route", hostile_routes(), ids=lambda r: r.name)
def test_bad_query_strings_never_break_a_route(tenant, route):
    url = url_of(route, tenant)
    client = admin_client(tenant)
    for name, query in HOSTILE_QUERIES.items():
        cache.clear()
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, f"GET {url} with {name}: {response.status_code}"


def test_every_route_is_walked():
    walked = {r.name for r in hostile_routes()}
    assert {"tickets:desk_ticket_fields", "ticket-list", "sla-calendar-list"} <= walked
