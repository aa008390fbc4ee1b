"""A person in several tenants sees them all and moves between them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory, UserFactory


@pytest.fixture
def multi(world, foreign):
    user = UserFactory(email="multi@both.test")
    MembershipFactory(tenant=world.tenant, user=user, role=Role.AGENT)
    MembershipFactory(tenant=foreign.tenant, user=user, role=Role.REQUESTER)
    return user


def test_switcher_lists_every_tenant_with_its_role(multi, world, foreign, login):
    response = login(multi).get(reverse("tenant_switcher"))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.tenant.name in body
    assert foreign.tenant.name in body
    assert reverse("tenant_home", args=[foreign.tenant.slug]) in body


def test_switcher_hides_tenants_the_user_left(multi, world, foreign, login):
    foreign_membership = multi.memberships.get(tenant=foreign.tenant)
    foreign_membership.is_active = False
    foreign_membership.save()
    body = login(multi).get(reverse("tenant_switcher")).content.decode()
    assert world.tenant.name in body
    assert foreign.tenant.name not in body


def test_single_tenant_user_sees_no_other_tenant(world, foreign, login):
    body = login(world.user(Role.AGENT)).get(reverse("desk", args=[world.tenant.slug]))
    assert foreign.tenant.name.encode() not in body.content


def test_switching_moves_the_home_page(multi, world, foreign, login):
    client = login(multi)
    assert client.get(reverse("home"))["Location"] == reverse("desk", args=[world.tenant.slug])
    client.get(reverse("portal", args=[foreign.tenant.slug]))
    assert client.get(reverse("home"))["Location"] == reverse("portal", args=[foreign.tenant.slug])
    # The role is per tenant: an agent in one is a requester in the other.
    assert client.get(reverse("desk", args=[foreign.tenant.slug])).status_code == 403


def test_user_without_tenant_gets_an_explanation(db, login):
    response = login(UserFactory(email="lonely@example.org")).get(reverse("home"))
    assert response.status_code == 200
    assert b"not in an organisation yet" in response.content


def test_switcher_needs_login(client):
    response = client.get(reverse("tenant_switcher"))
    assert response.status_code == 302
