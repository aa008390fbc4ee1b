"""/api/v1/me/: who am I and which tenants may I enter."""

from __future__ import annotations

from django.urls import reverse

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory


def test_me_lists_only_my_memberships(world, foreign, login):
    user = world.user(Role.AGENT)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.REQUESTER, is_active=False)
    response = login(user).get(reverse("api_me"))
    assert response.status_code == 200
    assert response.json() == {
        "email": user.email,
        "full_name": user.full_name,
        "memberships": [
            {
                "tenant": {"slug": "ours", "name": "Ours Org", "timezone": "Europe/Berlin"},
                "role": "agent",
            }
        ],
    }


def test_me_needs_authentication(client):
    response = client.get(reverse("api_me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


def test_me_query_count(world, login, django_assert_num_queries):
    client = login(world.user(Role.ADMIN))
    with django_assert_num_queries(3):  # session, user, memberships with tenants
        client.get(reverse("api_me"))


def test_me_is_read_only(world, login):
    assert login(world.user(Role.AGENT)).post(reverse("api_me"), {}).status_code == 405
