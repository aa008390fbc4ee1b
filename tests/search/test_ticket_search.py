"""Tickets through the search layer: what the desk, the portal and the
search interface find, and what they never find for whom."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.models import Role
from servicedesk.search import engine
from tests.conftest import client_for
from tickets import services
from tickets.models import Status
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def desk_keys(world, role, **params):
    client = client_for(world.user(role))
    response = client.get(reverse("desk", args=[world.tenant.slug]), {"queue": "recent", **params})
    assert response.status_code == 200
    return [t.key for t in response.context["page"].object_list]


def portal_keys(world, role, q, **params):
    client = client_for(world.user(role))
    response = client.get(reverse("portal", args=[world.tenant.slug]), {"q": q, **params})
    assert response.status_code == 200
    return [row.ticket.key for row in response.context["rows"]]


@pytest.fixture
def tickets(world):
    agent = Actor.of(world.members[Role.AGENT])
    admin = Actor.of(world.members[Role.ADMIN])
    requester = world.user(Role.REQUESTER)
    requester.full_name = "Rita Quartermaine"
    requester.save()
    vpn = services.ticket_create(
        actor=agent,
        kind="incident",
        title="VPN drops every few minutes",
        description="Since Monday the tunnel resets.",
        requester=requester,
        tags=["network"],
    )
    services.comment_add(actor=agent, ticket=vpn, body="Swapped the dongle, zephyrine inside.")
    services.comment_add(
        actor=agent, ticket=vpn, body="Internal: firmware bug ocelotte", is_internal=True
    )
    laptop = services.ticket_create(
        actor=agent, kind="request", title="New laptop", requester=requester
    )
    secret = services.ticket_create(
        actor=admin,
        kind="incident",
        title="Payroll export leaked",
        description="Exfiltration via quokkaware.",
        is_confidential=True,
    )
    return {"vpn": vpn, "laptop": laptop, "secret": secret}


def test_desk_text_search_reaches_title_comments_requester_tags_and_key(world, tickets):
    vpn = tickets["vpn"].key
    assert desk_keys(world, Role.AGENT, q="vpn") == [vpn]
    assert desk_keys(world, Role.AGENT, q="zephyrine") == [vpn]  # a public reply
    assert desk_keys(world, Role.AGENT, q="ocelotte") == [vpn]  # an internal note, for staff
    assert set(desk_keys(world, Role.AGENT, q="Quartermaine")) == {tickets["laptop"].key, vpn}
    assert desk_keys(world, Role.AGENT, q="requester@ours.test") != []
    assert desk_keys(world, Role.AGENT, q="network") == [vpn]  # a tag
    assert desk_keys(world, Role.AGENT, q="tunnel resets") == [vpn]
    assert desk_keys(world, Role.AGENT, q="vpn -tunnel") == []


def test_desk_text_search_combines_with_the_other_filters(world, tickets):
    assert desk_keys(world, Role.AGENT, q="vpn", kind="request") == []
    assert desk_keys(world, Role.AGENT, q="laptop", kind="request") == [tickets["laptop"].key]
    services.ticket_transition(
        actor=Actor.of(world.members[Role.AGENT]),
        ticket=tickets["vpn"],
        status=Status.PENDING,
    )
    assert desk_keys(world, Role.AGENT, q="vpn", status="pending") == [tickets["vpn"].key]
    assert desk_keys(world, Role.AGENT, q="laptop", status="pending") == []


def test_a_confidential_ticket_never_reaches_another_agents_search(world, tickets):
    agent = world.members[Role.AGENT]
    assert desk_keys(world, Role.AGENT, q="quokkaware") == []
    assert desk_keys(world, Role.AGENT, q="payroll") == []
    assert engine.search(world.tenant, agent, "quokkaware").hits == []
    assert engine.search(world.tenant, agent, "payrol").hits == []  # nor its typo
    # The admin sees every ticket; a granted agent sees it from then on.
    assert desk_keys(world, Role.ADMIN, q="quokkaware") == [tickets["secret"].key]
    services.confidential_grant(
        actor=Actor.of(world.members[Role.ADMIN]), ticket=tickets["secret"], user=agent.user
    )
    assert desk_keys(world, Role.AGENT, q="quokkaware") == [tickets["secret"].key]
    assert engine.search(world.tenant, agent, "quokkaware").ids == [tickets["secret"].pk]


def test_a_requesters_search_never_matches_internal_notes(world, tickets):
    requester = world.members[Role.REQUESTER]
    assert portal_keys(world, Role.REQUESTER, "zephyrine") == [tickets["vpn"].key]
    assert portal_keys(world, Role.REQUESTER, "ocelotte") == []
    assert portal_keys(world, Role.REQUESTER, "firmware") == []
    # Nor in the interface, its snippets, or as a typo.
    assert engine.search(world.tenant, requester, "ocelotte").hits == []
    hits = engine.search(world.tenant, requester, "vpn").hits
    assert [h.object_id for h in hits] == [tickets["vpn"].pk]
    assert all("ocelotte" not in h.snippet and "firmware" not in h.snippet for h in hits)
    # An agent in the portal reads as a requester: their own requests, no notes.
    assert portal_keys(world, Role.AGENT, "ocelotte") == []


def test_a_requester_finds_only_their_own_requests(world, tickets):
    other = world.members[Role.LEAD]
    services.ticket_create(
        actor=Actor.of(other), kind="incident", title="VPN on my phone", requester=other.user
    )
    assert portal_keys(world, Role.REQUESTER, "vpn") == [tickets["vpn"].key]
    assert engine.search(world.tenant, world.members[Role.REQUESTER], "vpn").ids == [
        tickets["vpn"].pk
    ]


def test_the_portal_search_box_says_when_nothing_matches(world, tickets):
    client = client_for(world.user(Role.REQUESTER))
    response = client.get(reverse("portal", args=[world.tenant.slug]), {"q": "&|!():*"})
    assert response.status_code == 200
    assert "No open request matches" in response.content.decode()


def test_another_tenants_tickets_are_never_found(world, foreign, tickets):
    assert desk_keys(world, Role.ADMIN, q="printer") == []  # the foreign world's ticket
    assert engine.search(world.tenant, world.members[Role.ADMIN], "printer fire").hits == []


def test_the_document_follows_each_change_in_its_transaction(world, tickets):
    agent = Actor.of(world.members[Role.AGENT])
    services.ticket_update(actor=agent, ticket=tickets["laptop"], title="Docking station wobbles")
    assert desk_keys(world, Role.AGENT, q="docking") == [tickets["laptop"].key]
    assert desk_keys(world, Role.AGENT, q="laptop") == []
