"""Fixtures shared by the whole suite.

Every test world has two tenants: ``tenant`` (ours) and ``other_tenant``
(foreign), each with one member per role, so a leak has somewhere to come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from servicedesk.models import ApiToken, Invitation, Membership, Role, Team, Tenant, User
from slo import services as sla
from slo.models import Calendar, Clock, Escalation, Policy
from tests.servicedesk.factories import (
    ApiTokenFactory,
    MembershipFactory,
    TeamFactory,
    TenantFactory,
    UserFactory,
)
from tickets.models import Attachment, Category, Comment, SavedView, Ticket, TicketCounter
from tickets.services import (
    Actor,
    comment_add,
    notifications_muted,
    ticket_create,
    watcher_add,
)

ROLES = [Role.REQUESTER, Role.AGENT, Role.LEAD, Role.ADMIN]


@dataclass
class SlaWorld:
    """A tenant's business calendar, a policy with an escalation, and the
    clocks it put on the tenant's ticket."""

    calendar: Calendar
    policy: Policy
    escalation: Escalation
    clocks: list[Clock]


@dataclass
class TicketWorld:
    """A tenant's ticket with a public reply, an internal note, a file, its
    events, a watcher and a saved view: something for every ticket route to
    reach for."""

    ticket: Ticket
    comment: Comment
    note: Comment
    attachment: Attachment
    saved_view: SavedView
    category: Category
    sla: SlaWorld


def build_ticket_world(
    tenant: Tenant, members: dict[str, Membership], team: Team, *, first_number: int
) -> TicketWorld:
    # Numbers start where the other world's never reach, so a foreign key
    # names nothing in our tenant.
    TicketCounter.objects.create(tenant=tenant, kind="incident", last_number=first_number - 1)
    agent = Actor.of(members[Role.AGENT])
    requester = members[Role.REQUESTER].user
    label = tenant.slug.title()
    category = Category.objects.create(tenant=tenant, name=f"{label} Plumbing")
    admin = members[Role.ADMIN]
    calendar = sla.calendar_create(
        actor=admin,
        name=f"{label} office hours",
        timezone_name="Europe/Berlin",
        hours={day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        holidays=[{"date": "2026-12-25", "recurring": True, "name": f"{label} holiday"}],
    )
    policy = sla.policy_create(
        actor=admin,
        name=f"{label} standard SLA",
        calendar=calendar,
        first_response_minutes=240,
        next_response_minutes=240,
        resolution_minutes=2400,
    )
    escalation = sla.escalation_create(
        actor=admin, policy=policy, trigger="breach", action="notify_team_lead", team=team
    )
    with notifications_muted():
        ticket = ticket_create(
            actor=agent,
            kind="incident",
            title=f"{label} printer on fire",
            description=f"{label} smoke everywhere",
            requester=requester,
            team=team,
            category=category,
            tags=[f"{tenant.slug}-tag"],
        )
        comment = comment_add(actor=agent, ticket=ticket, body=f"{label} public reply")
        note = comment_add(
            actor=agent,
            ticket=ticket,
            body=f"{label} internal note",
            is_internal=True,
            files=[ContentFile(b"log line", f"{tenant.slug}-server.log")],
        )
        watcher_add(actor=agent, ticket=ticket, user=members[Role.LEAD].user)
    saved_view = SavedView.objects.create(
        tenant=tenant, owner=agent.user, team=team, name=f"{label} hot queue", query="status=new"
    )
    attachment = Attachment.objects.for_tenant(tenant).get(ticket=ticket)
    clocks = list(Clock.objects.for_tenant(tenant).filter(ticket=ticket).order_by("pk"))
    return TicketWorld(
        ticket,
        comment,
        note,
        attachment,
        saved_view,
        category,
        SlaWorld(calendar, policy, escalation, clocks),
    )


@dataclass
class World:
    """One tenant with a member of every role, a team, a pending invitation
    and an API token of its agent (``api_token.secret`` is the secret)."""

    tenant: Tenant
    members: dict[str, Membership]
    team: Team
    invitation: Invitation
    api_token: ApiToken
    # Built for the foreign world only: our tenant starts without tickets.
    tickets: TicketWorld | None = None

    def user(self, role: str) -> User:
        return self.members[role].user


def build_world(slug: str, *, with_tickets: bool = False) -> World:
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
    api_token = ApiTokenFactory(
        tenant=tenant,
        user=members[Role.AGENT].user,
        name=f"{slug.title()} Monitoring",
        scopes=["tickets:read", "tickets:write"],
        created_by=members[Role.ADMIN].user,
    )
    return World(
        tenant=tenant,
        members=members,
        team=team,
        invitation=invitation,
        api_token=api_token,
        tickets=build_ticket_world(tenant, members, team, first_number=7001)
        if with_tickets
        else None,
    )


@pytest.fixture
def world(db) -> World:
    return build_world("ours")


@pytest.fixture
def foreign(db) -> World:
    return build_world("theirs", with_tickets=True)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def login():
    return client_for
