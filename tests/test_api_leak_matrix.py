"""The cross-tenant leak matrix of the REST API.

The API names no tenant in its URLs: a token carries its tenant, a browser
session the tenant it opened. So every API route is called by each of our
roles -- with a token holding every scope and with a browser session -- and
anonymously, with the foreign tenant's keys in the URL and in the body:

* a route with object keys answers 401/403/404/405, never a success;
* a route without keys may succeed, but shows no foreign data;
* nothing of the foreign tenant changes, whatever was asked.
"""

from __future__ import annotations

import json

import pytest
from django.urls import resolve

from servicedesk.models import API_SCOPES, Role
from tests.conftest import ROLES, client_for
from tests.leak_registry import FOREIGN_VALUES, foreign_fingerprint, foreign_markers
from tests.servicedesk.factories import ApiTokenFactory
from tests.test_leak_matrix import ALL_ROUTES, excluded

API_ROUTES = [r for r in ALL_ROUTES if r.route.startswith("api/v") and not excluded(r)]
KEYED = [r for r in API_ROUTES if r.kwargs]
FLAT = [r for r in API_ROUTES if not r.kwargs]
SLA_KEYED = [r for r in KEYED if r.name.startswith("sla-")]


def foreign_payload(theirs) -> dict[str, object]:
    """A body that names the foreign tenant's people, team and ticket in
    every field an endpoint might resolve."""
    return {
        "title": "probe",
        "body": "probe",
        "status": "closed",
        "resolution_code": "solved",
        "requester": theirs.user("requester").email,
        "assignee": theirs.user("agent").email,
        "team": theirs.team.slug,
        "target": theirs.tickets.ticket.key,
        "other": theirs.tickets.ticket.key,
    }


def callers(ours):
    yield "anonymous", client_for(None)
    for role in ROLES:
        token = ApiTokenFactory(tenant=ours.tenant, user=ours.user(role), scopes=list(API_SCOPES))
        yield f"{role} token", client_for(None), token.secret
        yield f"{role} session", client_for(ours.user(role))


def call(caller, method: str, url: str, body: dict[str, object]):
    _name, client, *secret = caller
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret[0]}"} if secret else {}
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(
        url, json.dumps(body), content_type="application/json", **headers
    )


def test_the_api_has_routes_to_walk():
    assert KEYED
    assert FLAT


@pytest.mark.parametrize("route", KEYED, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post", "patch"])
def test_foreign_keys_are_not_found(world, foreign, route, method):
    url = route.url({k: FOREIGN_VALUES[k](foreign) for k in route.kwargs})
    before = foreign_fingerprint(foreign)
    for caller in callers(world):
        response = call(caller, method, url, foreign_payload(foreign))
        what = f"{method.upper()} {url} as {caller[0]}"
        assert response.status_code in (401, 403, 404, 405), f"{what}: {response.status_code}"
        body = response.content.decode(errors="replace")
        for marker in foreign_markers(foreign):
            assert marker not in body, f"{what}: foreign data {marker!r}"
    assert foreign_fingerprint(foreign) == before


@pytest.mark.parametrize("route", FLAT, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_lists_and_creation_show_and_touch_nothing_foreign(world, foreign, route, method):
    url = route.url({})
    before = foreign_fingerprint(foreign)
    for caller in callers(world):
        response = call(caller, method, url, foreign_payload(foreign))
        what = f"{method.upper()} {url} as {caller[0]}"
        assert response.status_code < 500, what
        assert response.status_code != 201, f"{what}: created from foreign references"
        body = response.content.decode(errors="replace")
        for marker in foreign_markers(foreign):
            assert marker not in body, f"{what}: foreign data {marker!r}"
    assert foreign_fingerprint(foreign) == before


# --- SLA settings: the callers who pass the permission map ------------------------------
#
# Every SLA route is the tenant admin's (scope sla:admin), so the walk above
# meets mostly 403s there. Here the admin's token and session, the only
# callers the map lets through, call each route with every method it serves,
# naming the foreign tenant's objects in the URL and in the body.


def sla_payload(theirs) -> dict[str, object]:
    """A body valid but for the foreign objects it names."""
    sla = theirs.tickets.sla
    return {
        **foreign_payload(theirs),
        "name": "probe",
        "timezone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "17:00"]]},
        "holidays": [],
        "calendar": sla.calendar.pk,
        "policy": sla.policy.pk,
        "team": theirs.team.pk,
        "category": theirs.tickets.category.pk,
        "resolution_minutes": 60,
        "trigger": "breach",
        "action": "notify_team_lead",
        "start": "2026-03-06T16:30:00+01:00",
        "minutes": 60,
        "offset": 1,
    }


def sla_admins(ours):
    token = ApiTokenFactory(tenant=ours.tenant, user=ours.user(Role.ADMIN), scopes=["sla:admin"])
    yield "admin token", client_for(None), token.secret
    yield "admin session", client_for(ours.user(Role.ADMIN))


def test_the_sla_object_routes_are_walked():
    names = {r.name for r in SLA_KEYED}
    assert {
        "sla-calendar-detail",
        "sla-calendar-due",
        "sla-policy-detail",
        "sla-policy-move",
        "sla-escalation-detail",
    } <= names


@pytest.mark.parametrize("route", SLA_KEYED, ids=lambda r: r.name)
def test_foreign_sla_ids_are_not_found_by_every_method(world, foreign, route):
    url = route.url({k: FOREIGN_VALUES[k](foreign) for k in route.kwargs})
    served = set(resolve(url).func.actions)  # type: ignore[attr-defined]
    before = foreign_fingerprint(foreign)
    for caller in sla_admins(world):
        for method in ("get", "put", "patch", "post", "delete"):
            response = call(caller, method, url, sla_payload(foreign))
            what = f"{method.upper()} {url} as {caller[0]}"
            expected = 404 if method in served else 405
            assert response.status_code == expected, f"{what}: {response.status_code}"
            body = response.content.decode(errors="replace")
            for marker in foreign_markers(foreign):
                assert marker not in body, f"{what}: foreign data {marker!r}"
    assert foreign_fingerprint(foreign) == before


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/v1/sla/policies/", {"calendar", "team", "category"}),
        ("/api/v1/sla/escalations/", {"policy", "team"}),
    ],
)
def test_foreign_references_in_sla_bodies_are_not_found(world, foreign, path, fields):
    before = foreign_fingerprint(foreign)
    valid = {"name", "resolution_minutes", "trigger", "action"}
    payload = {k: v for k, v in sla_payload(foreign).items() if k in fields | valid}
    for caller in sla_admins(world):
        response = call(caller, "post", path, payload)
        what = f"POST {path} as {caller[0]}"
        assert response.status_code == 400, f"{what}: {response.status_code}"
        assert response.json() == {field: ["Not found."] for field in fields}, what
    assert foreign_fingerprint(foreign) == before
