"""Fixtures shared by the whole suite.

Every test world has two tenants: ``tenant`` (ours) and ``other_tenant``
(foreign), each with one member per role, so a leak has somewhere to come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from servicedesk.models import Invitation, Membership, Role, Team, Tenant, User
from tests.servicedesk.factories import (
    MembershipFactory,
    TeamFactory,
    TenantFactory,
    UserFactory,
)

ROLES = [Role.REQUESTER, Role.AGENT, Role.LEAD, Role.ADMIN]


@dataclass
class World:
    """One tenant with a member of every role, a team and a pending invitation."""

    tenant: Tenant
    members: dict[str, Membership]
    team: Team
    invitation: Invitation

    def user(self, role: str) -> User:
        return self.members[role].user


def build_world(slug: str) -> World:
    tenant = TenantFactory(slug=slug, name=f"{slug.title()} Org")
    members = {
        role: MembershipFactory(
            tenant=tenant, role=role, user=UserFactory(email=f"{role}@{slug}.test")
        )
        for role in ROLES
    }
    team = TeamFactory(tenant=tenant, name=f"{slug.title()} Squad", slug=f"{slug}-squad")
    team.members.add(members[Role.AGENT].user, members[Role.LEAD].user)
    team.lead = members[Role.LEAD].user
    team.save()
    invitation = Invitation.objects.create(
        tenant=tenant, email=f"invitee@{slug}.test", role=Role.AGENT, email_sent_at=timezone.now()
    )
    return World(tenant=tenant, members=members, team=team, invitation=invitation)


@pytest.fixture
def world(db) -> World:
    return build_world("ours")


@pytest.fixture
def foreign(db) -> World:
    return build_world("theirs")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def login():
    return client_for
