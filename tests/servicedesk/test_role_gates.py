"""Each area × each role, plus the ways of not being a member."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.models import Role

AREAS = {
    "portal": lambda slug: reverse("portal", args=[slug]),
    "desk": lambda slug: reverse("desk", args=[slug]),
    "admin": lambda slug: reverse("tenant_admin:overview", args=[slug]),
}

ALLOWED = {
    "portal": {Role.REQUESTER, Role.AGENT, Role.LEAD, Role.ADMIN},
    "desk": {Role.AGENT, Role.LEAD, Role.ADMIN},
    "admin": {Role.ADMIN},
}


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.LEAD, Role.ADMIN])
def test_area_by_role(world, login, area, role):
    response = login(world.user(role)).get(AREAS[area](world.tenant.slug))
    if role in ALLOWED[area]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert "not open to you" in body
        assert "Admin" in body or "Agent" in body  # names the role the area needs


@pytest.mark.parametrize("area", AREAS)
def test_anonymous_goes_to_login(world, client, area):
    url = AREAS[area](world.tenant.slug)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize("area", AREAS)
def test_non_member_and_unknown_tenant_look_the_same(world, foreign, login, area):
    client = login(world.user(Role.ADMIN))
    foreign_response = client.get(AREAS[area](foreign.tenant.slug))
    unknown_response = client.get(AREAS[area]("no-such-tenant"))
    assert foreign_response.status_code == unknown_response.status_code == 404
    assert foreign.tenant.name.encode() not in foreign_response.content


@pytest.mark.parametrize("area", AREAS)
def test_deactivated_member_is_shut_out(world, login, area):
    membership = world.members[Role.ADMIN]
    membership.is_active = False
    membership.save()
    assert login(membership.user).get(AREAS[area](world.tenant.slug)).status_code == 404


def test_inactive_tenant_is_not_found(world, login):
    world.tenant.is_active = False
    world.tenant.save()
    assert login(world.user(Role.ADMIN)).get(AREAS["portal"](world.tenant.slug)).status_code == 404


@pytest.mark.parametrize(
    ("role", "area"),
    [(Role.REQUESTER, "portal"), (Role.AGENT, "desk"), (Role.ADMIN, "desk")],
)
def test_tenant_root_sends_each_role_to_its_area(world, login, role, area):
    response = login(world.user(role)).get(reverse("tenant_home", args=[world.tenant.slug]))
    assert response.status_code == 302
    assert response["Location"] == AREAS[area](world.tenant.slug)


def test_navigation_follows_the_role(world, login):
    requester_page = login(world.user(Role.REQUESTER)).get(AREAS["portal"](world.tenant.slug))
    admin_page = login(world.user(Role.ADMIN)).get(AREAS["portal"](world.tenant.slug))
    desk_link = AREAS["desk"](world.tenant.slug).encode()
    admin_link = AREAS["admin"](world.tenant.slug).encode()
    assert desk_link not in requester_page.content
    assert admin_link not in requester_page.content
    assert desk_link in admin_page.content
    assert admin_link in admin_page.content
