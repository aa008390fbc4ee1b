"""A requester's token sees what the portal shows the requester: no more,
no less.

The same ticket is rendered twice for the same person -- the portal's
request page and ``GET /api/v1/tickets/{number}/`` with their token -- and
the two are compared field by field: every field of the API's answer is a
fact the page shows, with the value the page shows, and every fact of the
page is in the API's answer.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from servicedesk.models import API_SCOPES, Role
from tests.servicedesk.factories import ApiTokenFactory, MembershipFactory, UserFactory
from tickets import services
from tickets.models import Status, Ticket
from tickets.portal import plain_status
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def portal_time(value: str, tenant) -> str:
    """An API instant as the portal prints it, in the tenant's zone."""
    moment = datetime.fromisoformat(value)
    return dateformat.format(
        timezone.localtime(moment, zoneinfo.ZoneInfo(tenant.timezone)), "j M Y, H:i"
    )


def facts(page: str) -> dict[str, str]:
    """The page's "Details" list: label -> text."""
    block = re.search(r'<dl class="facts">(.*?)</dl>', page, re.S)
    assert block, "the request page lists no details"
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block[1], re.S)
    return {unescape(dt).strip(): unescape(re.sub(r"<[^>]+>", "", dd)).strip() for dt, dd in pairs}


KIND_WORDS = {"incident": "Something isn't working", "request": "Request for something"}

# API field -> (where the page shows it, the text it shows there). ``None``
# as the place: somewhere in the page's text (the conversation, the banner).
Shown = Callable[[Any, dict[str, Any]], str]
PORTAL_FACTS: dict[str, tuple[str | None, Shown]] = {
    "number": ("Reference", lambda v, ctx: v),
    "kind": ("Type", lambda v, ctx: KIND_WORDS[v]),
    "requester_name": (
        "Reported by",
        lambda v, ctx: "You" if v == ctx["viewer"].display_name else v,
    ),
    "created_at": ("Opened", lambda v, ctx: portal_time(v, ctx["tenant"])),
    "updated_at": ("Last update", lambda v, ctx: portal_time(v, ctx["tenant"])),
    "handled_by": (
        "Handled by",
        lambda v, ctx: v if v is not None else ctx["nobody_handles"],
    ),
    "title": (None, lambda v, ctx: v),
    "description": (None, lambda v, ctx: v),
    "status": (None, lambda v, ctx: plain_status(v).label),
    "resolution_notes": (None, lambda v, ctx: v),
    # A catalog order's answers: the portal's panel names the item ordered.
    "catalog_order": (None, lambda v, ctx: v and v["item_name"]),
}


@pytest.fixture
def people(world):
    agent = world.members[Role.AGENT]
    agent.user.full_name = "Ada Agent"
    agent.user.save()
    colleague = MembershipFactory(
        tenant=world.tenant,
        role=Role.REQUESTER,
        user=UserFactory(email="colleague@ours.test", full_name="Cleo Colleague"),
    )
    return agent, colleague


def both_views(world, ticket: Ticket, viewer) -> tuple[dict[str, Any], str]:
    token = ApiTokenFactory(tenant=world.tenant, user=viewer, scopes=list(API_SCOPES))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    answer = api.get(f"/api/v1/tickets/{ticket.key}/")
    assert answer.status_code == 200, answer.content
    browser = Client()
    browser.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")
    page = browser.get(
        reverse(
            "tickets:portal_ticket", kwargs={"tenant_slug": world.tenant.slug, "key": ticket.key}
        )
    )
    assert page.status_code == 200
    return answer.json(), page.content.decode()


def assert_same(world, body: dict[str, Any], page: str, viewer, nobody_handles: str = "") -> None:
    ctx = {"viewer": viewer, "tenant": world.tenant, "nobody_handles": nobody_handles}
    # Every field the API gives is a fact of the page, and every fact is given.
    assert set(body) == set(PORTAL_FACTS)
    shown = facts(page)
    text = unescape(page)
    for field, (label, render) in PORTAL_FACTS.items():
        expected = render(body[field], ctx)
        if label is not None:
            assert shown[label] == expected, field
        elif expected:
            assert expected in text, field
    # And the page has no fact the API leaves out.
    assert set(shown) == {label for label, _ in PORTAL_FACTS.values() if label}


def test_a_resolved_ticket_reads_the_same_in_the_portal_and_the_api(world, people):
    agent, _ = people
    requester = world.user(Role.REQUESTER)
    actor = Actor.of(agent)
    ticket = services.ticket_create(
        actor=actor,
        kind="incident",
        title="VPN drops every hour",
        description="Since Monday, at ten past.",
        requester=requester,
        team=world.team,
        assignee=agent.user,
        tags=["vpn"],
    )
    services.ticket_update(actor=actor, ticket=ticket, priority=1, priority_reason="CEO's laptop")
    services.comment_add(actor=actor, ticket=ticket, body="A new certificate is on its way.")
    services.comment_add(actor=actor, ticket=ticket, body="Internal: rotate it", is_internal=True)
    services.ticket_transition(
        actor=actor,
        ticket=ticket,
        status=Status.RESOLVED,
        resolution_code="solved",
        resolution_notes="Renewed the certificate.",
    )
    body, page = both_views(world, ticket, requester)
    assert body["handled_by"] == "Ada Agent"
    assert body["resolution_notes"] == "Renewed the certificate."
    assert_same(world, body, page, requester)
    # What the desk steers by stays on the desk, in both.
    for internal in ("CEO's laptop", "vpn", "Internal: rotate it", agent.user.email):
        assert internal not in body.values()
        assert internal not in unescape(page)


def test_a_new_ticket_of_a_team_read_by_a_watching_colleague(world, people):
    _, colleague = people
    requester = world.user(Role.REQUESTER)
    ticket = services.ticket_create(
        actor=Actor.of(world.members[Role.REQUESTER]),
        kind="request",
        title="A second screen",
        description="",
    )
    services.ticket_update(
        actor=Actor.of(world.members[Role.AGENT]), ticket=ticket, team=world.team
    )
    services.watcher_add(
        actor=Actor.of(world.members[Role.AGENT]), ticket=ticket, user=colleague.user
    )
    body, page = both_views(world, ticket, colleague.user)
    assert (body["requester_name"], body["handled_by"]) == (requester.display_name, world.team.name)
    # Not resolved: the notes are not shown, in either.
    assert body["resolution_notes"] == ""
    assert_same(world, body, page, colleague.user)


def test_nobody_handles_it_yet(world):
    requester = world.user(Role.REQUESTER)
    ticket = services.ticket_create(
        actor=Actor.of(world.members[Role.REQUESTER]), kind="incident", title="Printer jam"
    )
    body, page = both_views(world, ticket, requester)
    assert body["handled_by"] is None
    assert_same(world, body, page, requester, nobody_handles="Not picked up yet")


def test_the_conversation_is_the_public_one_in_both(world, people):
    agent, _ = people
    requester = world.user(Role.REQUESTER)
    actor = Actor.of(agent)
    ticket = services.ticket_create(
        actor=actor, kind="incident", title="Slow wifi", requester=requester
    )
    services.comment_add(actor=actor, ticket=ticket, body="Which floor?")
    services.comment_add(actor=actor, ticket=ticket, body="Probably the AP", is_internal=True)
    services.comment_add(
        actor=Actor.of(world.members[Role.REQUESTER]), ticket=ticket, body="Third floor."
    )
    token = ApiTokenFactory(tenant=world.tenant, user=requester, scopes=list(API_SCOPES))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    comments = api.get(f"/api/v1/tickets/{ticket.key}/comments/").json()
    assert [c["body"] for c in comments] == ["Which floor?", "Third floor."]
    # As the portal names and badges them: people by name, never an e-mail address.
    assert [(c["author_name"], c["from_support"]) for c in comments] == [
        (agent.user.display_name, True),
        (requester.display_name, False),
    ]
    assert all(
        set(c) == {"id", "body", "author_name", "from_support", "created_at"} for c in comments
    )
    _, page = both_views(world, ticket, requester)
    for comment in comments:
        assert comment["body"] in unescape(page)
    assert agent.user.display_name in page
    assert (
        agent.user.email not in api.get(f"/api/v1/tickets/{ticket.key}/comments/").content.decode()
    )
    assert "Probably the AP" not in page


def test_a_requesters_list_has_the_same_shape(world):
    requester = world.user(Role.REQUESTER)
    services.ticket_create(
        actor=Actor.of(world.members[Role.REQUESTER]), kind="incident", title="Mine"
    )
    token = ApiTokenFactory(tenant=world.tenant, user=requester, scopes=list(API_SCOPES))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    [row] = api.get("/api/v1/tickets/").json()["results"]
    assert set(row) == set(PORTAL_FACTS)


def test_the_history_is_the_portals_status_moves_by_name(world, people):
    agent, _ = people
    requester = world.user(Role.REQUESTER)
    actor = Actor.of(agent)
    ticket = services.ticket_create(
        actor=actor, kind="incident", title="Slow wifi", requester=requester
    )
    services.ticket_update(actor=actor, ticket=ticket, assignee=agent.user)
    services.ticket_transition(
        actor=actor, ticket=ticket, status="in_progress", note="Desk-only words"
    )
    token = ApiTokenFactory(tenant=world.tenant, user=requester, scopes=list(API_SCOPES))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    response = api.get(f"/api/v1/tickets/{ticket.key}/events/")
    events = response.json()
    assert [(e["action"], e["field"], e["new"]) for e in events] == [
        ("created", "", ticket.key),
        ("changed", "status", "in_progress"),
    ]
    assert all(
        set(e) == {"id", "action", "field", "old", "new", "actor_name", "created_at"}
        for e in events
    )
    assert {e["actor_name"] for e in events} == {agent.user.display_name}
    assert agent.user.email not in response.content.decode()
    assert "Desk-only words" not in response.content.decode()
    _, page = both_views(world, ticket, requester)
    assert agent.user.display_name in page
