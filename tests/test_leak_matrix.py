"""The cross-tenant leak matrix.

Walks every URL pattern of the project, straight from the resolver, and for
every role (and an anonymous visitor) requests it with GET and POST:

* with the foreign tenant's slug and the foreign tenant's object keys -> 404;
* with our tenant's slug but the foreign tenant's object keys -> 404 (or the
  area's 403 for a role that may not enter it, which says nothing about the
  object either);
* routes with no object keys, in our tenant or global -> whatever they
  answer, it holds no foreign data.

Every response is searched for the foreign tenant's names and e-mails, and
the foreign tenant's state must be unchanged after each request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from servicedesk.access import AREA_ROLES
from servicedesk.models import Role
from tests.conftest import ROLES, client_for
from tests.leak_registry import EXCLUDED, FOREIGN_VALUES, foreign_fingerprint, foreign_markers

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    kwargs: tuple[str, ...]
    area: str | None  # set by access.tenant_area on the view
    named: bool = True

    def url(self, values: dict[str, object]) -> str:
        # Routers write regular expressions (``(?P<number>…)``), not path
        # converters: let Django build the URL, so every route gets a real one.
        if self.named:
            return reverse(self.name, kwargs={k: values[k] for k in self.kwargs})
        return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), self.route)


def walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner_ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}{entry.name or route}"
            keys = tuple(m.group("name") for m in PARAM.finditer(route))
            yield Route(
                name, route, keys, getattr(entry.callback, "tenant_area", None), bool(entry.name)
            )


def excluded(route: Route) -> bool:
    return any(
        route.name == key or (key.endswith(":") and route.name.startswith(key)) for key in EXCLUDED
    )


ALL_ROUTES = list(walk(get_resolver().url_patterns))
ROUTES = [r for r in ALL_ROUTES if not excluded(r)]
TENANT_ROUTES = [r for r in ROUTES if "tenant_slug" in r.kwargs]
OBJECT_ROUTES = [r for r in TENANT_ROUTES if set(r.kwargs) - {"tenant_slug"}]
FLAT_ROUTES = [r for r in ROUTES if not set(r.kwargs) - {"tenant_slug"}]
VISITORS = [None, *ROLES]


def test_every_tenant_route_is_behind_a_role_gate():
    ungated = [r.name for r in TENANT_ROUTES if r.area not in AREA_ROLES]
    assert not ungated, f"tenant routes without access.tenant_area: {ungated}"


def test_every_route_is_walked_or_excluded_with_a_reason():
    assert ROUTES, "the resolver yielded no routes"
    for reason in EXCLUDED.values():
        assert len(reason) > 20, "an exclusion needs a written reason"
    unknown = {(r.name, k) for r in ROUTES for k in r.kwargs if k not in FOREIGN_VALUES}
    assert not unknown, (
        f"routes with URL keywords the leak matrix cannot fill: {sorted(unknown)}; "
        "register the foreign object in tests/leak_registry.py"
    )


def test_every_walked_url_reaches_its_view(foreign):
    """A matrix that builds URLs no view answers would pass by testing 404s
    of nothing: every URL it requests must resolve to its own route."""
    for route in ROUTES:
        url = route.url({k: FOREIGN_VALUES[k](foreign) for k in route.kwargs})
        match = resolve(url)
        assert (match.view_name if route.named else match.route) in (route.name, route.route), url


@pytest.fixture
def worlds(world, foreign):
    return world, foreign


def assert_no_leak(response, theirs, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    body = response.content.decode(errors="replace")
    for marker in foreign_markers(theirs):
        assert marker not in body, f"{what}: foreign data {marker!r} in the response"


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_foreign_tenant_slug_is_not_found(worlds, route, method):
    ours, theirs = worlds
    url = route.url({k: FOREIGN_VALUES[k](theirs) for k in route.kwargs})
    before = foreign_fingerprint(theirs)
    for role in VISITORS:
        client = client_for(ours.user(role) if role else None)
        response = getattr(client, method)(url)
        what = f"{method.upper()} {url} as {role or 'anonymous'}"
        if role is None:
            assert response.status_code in (302, 404, 405), what
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), what
        else:
            assert response.status_code in (404, 405), f"{what}: {response.status_code}"
        assert_no_leak(response, theirs, what)
    assert foreign_fingerprint(theirs) == before, (
        f"{method.upper()} {url} changed the foreign tenant"
    )


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_foreign_object_in_our_tenant_is_not_found(worlds, route, method):
    ours, theirs = worlds
    values = {k: FOREIGN_VALUES[k](theirs) for k in route.kwargs}
    values["tenant_slug"] = ours.tenant.slug
    url = route.url(values)
    before = foreign_fingerprint(theirs)
    minimum = AREA_ROLES[route.area]
    for role in ROLES:
        response = getattr(client_for(ours.user(role)), method)(url)
        what = f"{method.upper()} {url} as {role}"
        allowed = Role.rank(role) >= Role.rank(minimum)
        expected = {404, 405} if allowed else {403, 404, 405}
        assert response.status_code in expected, f"{what}: {response.status_code}"
        assert_no_leak(response, theirs, what)
    assert foreign_fingerprint(theirs) == before, (
        f"{method.upper()} {url} changed the foreign tenant"
    )


@pytest.mark.parametrize("route", FLAT_ROUTES, ids=lambda r: r.name)
def test_pages_without_object_keys_show_no_foreign_data(worlds, route):
    ours, theirs = worlds
    url = route.url({"tenant_slug": ours.tenant.slug})
    before = foreign_fingerprint(theirs)
    for role in VISITORS:
        for method in ("get", "post"):
            response = getattr(client_for(ours.user(role) if role else None), method)(url)
            assert_no_leak(response, theirs, f"{method.upper()} {url} as {role or 'anonymous'}")
    assert foreign_fingerprint(theirs) == before
