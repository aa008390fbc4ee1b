"""The agents' desk: queues, filters, saved views, bulk actions, the ticket
page's in-place edits, the conversation, links, watchers and new tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory, TeamFactory, UserFactory
from tests.tickets.factories import CommentFactory, TicketEventFactory, TicketFactory, events
from tickets import selectors, services
from tickets.desk import ago, describe_event
from tickets.models import (
    Attachment,
    Category,
    ChangeLink,
    Comment,
    SavedView,
    Status,
    Ticket,
    TicketEvent,
    Watcher,
)
from tickets.services import Actor

pytestmark = pytest.mark.django_db


# --- Helpers -------------------------------------------------------------------------------


def desk(world, **params) -> str:
    url = reverse("desk", args=[world.tenant.slug])
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def route(world, name: str, *args) -> str:
    return reverse(f"tickets:{name}", args=[world.tenant.slug, *args])


def keys(response) -> list[str]:
    return [t.key for t in response.context["rows"]]


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.for_tenant(ticket.tenant_id).get(pk=ticket.pk)


def new_ticket(actor: Actor, title: str = "VPN is down", **fields) -> Ticket:
    fields.setdefault("kind", "incident")
    return services.ticket_create(actor=actor, title=title, **fields)


@pytest.fixture
def agent_client(world, login):
    return login(world.user(Role.AGENT))


@pytest.fixture
def lead(actors) -> Actor:
    return actors[Role.LEAD]


# --- Who may enter -------------------------------------------------------------------------


def test_requesters_are_kept_out_of_every_desk_page(world, login, requester):
    ticket = new_ticket(requester)
    client = login(world.user(Role.REQUESTER))
    gets = [
        desk(world),
        route(world, "desk_ticket_create"),
        route(world, "desk_ticket", ticket.key),
    ]
    posts = [
        route(world, "desk_bulk"),
        route(world, "desk_view_create"),
        *(
            route(world, name, ticket.key)
            for name in (
                "desk_ticket_fields",
                "desk_ticket_transition",
                "desk_ticket_reply",
                "desk_ticket_attachments",
                "desk_ticket_merge",
                "desk_ticket_links",
                "desk_ticket_watchers",
            )
        ),
    ]
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {"field": "title", "title": "mine now"}).status_code == 403, url
    assert fresh(ticket).title == "VPN is down"


def test_changes_are_post_only(world, agent_client, agent):
    ticket = new_ticket(agent)
    for name in ("desk_ticket_fields", "desk_ticket_reply", "desk_ticket_merge"):
        assert agent_client.get(route(world, name, ticket.key)).status_code == 405
    assert agent_client.get(route(world, "desk_bulk")).status_code == 405


def test_another_tenants_ticket_and_an_ungranted_confidential_one_are_404(
    world, foreign, agent_client, agent, login
):
    theirs = new_ticket(Actor.of(foreign.members[Role.AGENT]), title="Their secret")
    secret = new_ticket(
        Actor.of(world.members[Role.ADMIN]), title="Payroll leak", is_confidential=True
    )
    for ticket in (theirs, secret):
        assert agent_client.get(route(world, "desk_ticket", ticket.key)).status_code == 404
        response = agent_client.post(
            route(world, "desk_ticket_fields", ticket.key), {"field": "title", "title": "x"}
        )
        assert response.status_code == 404
    assert fresh(theirs).title == "Their secret"
    assert b"Payroll leak" not in agent_client.get(desk(world, queue="recent")).content
    # Admins see every ticket of their tenant.
    admin = login(world.user(Role.ADMIN))
    assert admin.get(route(world, "desk_ticket", secret.key)).status_code == 200


def test_a_ticket_key_is_found_whatever_its_case(world, agent_client, agent):
    ticket = new_ticket(agent)
    response = agent_client.get(route(world, "desk_ticket", ticket.key.lower()))
    assert response.status_code == 302
    assert response["Location"] == route(world, "desk_ticket", ticket.key)


# --- Queues ---------------------------------------------------------------------------------


@pytest.fixture
def spread(world, agent, lead, actors):
    """One ticket for each queue the agent has."""
    other_team = TeamFactory(tenant=world.tenant, name="Facilities", slug="facilities")
    admin = world.user(Role.ADMIN)
    tickets = {
        "mine": new_ticket(agent, "Mine", assignee=agent.user),
        "team": new_ticket(agent, "Team's", team=world.team, assignee=lead.user),
        "unassigned": new_ticket(agent, "Nobody's"),
        "elsewhere": new_ticket(agent, "Facilities'", team=other_team, assignee=admin),
        "done": new_ticket(agent, "Done", assignee=agent.user, team=world.team),
    }
    services.ticket_transition(actor=agent, ticket=tickets["done"], status="in_progress")
    services.ticket_transition(
        actor=agent, ticket=tickets["done"], status="resolved", resolution_code="solved"
    )
    return tickets


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("mine", {"mine"}),
        ("teams", {"team"}),
        ("unassigned", {"unassigned"}),
        ("open", {"mine", "team", "unassigned", "elsewhere"}),
        ("recent", {"mine", "team", "unassigned", "elsewhere", "done"}),
    ],
)
def test_each_queue_holds_its_tickets(world, agent_client, spread, queue, expected):
    response = agent_client.get(desk(world, queue=queue))
    assert response.status_code == 200
    assert set(keys(response)) == {spread[name].key for name in expected}
    assert response.context["counts"] == {
        "mine": 1,
        "breaching": 0,
        "teams": 1,
        "unassigned": 1,
        "open": 4,
    }


def test_the_counts_are_shown_beside_the_queues(world, agent_client, spread):
    body = agent_client.get(desk(world)).content.decode()
    assert 'aria-label="4 tickets">4</span>' in body  # all open
    assert 'aria-label="1 ticket">1</span>' in body


def test_the_desk_opens_on_my_work_or_else_all_open(world, agent_client, agent):
    new_ticket(agent, "Nobody's")
    assert agent_client.get(desk(world)).context["query"].queue == "open"
    new_ticket(agent, "Mine", assignee=agent.user)
    assert agent_client.get(desk(world)).context["query"].queue == "mine"


def test_the_desk_still_shows_the_teams(world, agent_client):
    body = agent_client.get(desk(world)).content.decode()
    assert "<h1>Desk</h1>" in body
    assert world.team.name in body
    assert "your team" in body


# --- Filters and sort -------------------------------------------------------------------


@pytest.fixture
def varied(world, agent, lead):
    vpn = new_ticket(agent, "VPN drops", impact=1, urgency=1, tags=["vpn"], team=world.team)
    printer = new_ticket(agent, "Printer jams", description="Tray 2 on floor 3", kind="request")
    laptop = new_ticket(agent, "Laptop for Ulf", kind="request", assignee=lead.user)
    problem = new_ticket(agent, "Recurring VPN drops", kind="problem", impact=2, urgency=2)
    services.ticket_transition(actor=agent, ticket=printer, status="in_progress")
    return {"vpn": vpn, "printer": printer, "laptop": laptop, "problem": problem}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": ["in_progress"]}, {"printer"}),
        ({"status": ["new", "in_progress"]}, {"vpn", "printer", "laptop", "problem"}),
        ({"priority": ["1"]}, {"vpn"}),
        ({"priority": ["1", "3"]}, {"vpn", "problem"}),
        ({"kind": ["request"]}, {"printer", "laptop"}),
        ({"team": "ours-squad"}, {"vpn"}),
        ({"assignee": "none"}, {"vpn", "printer", "problem"}),
        ({"tag": "VPN"}, {"vpn"}),
        ({"q": "floor 3"}, {"printer"}),
        ({"q": "vpn"}, {"vpn", "problem"}),
        ({"q": "vpn", "kind": ["problem"]}, {"problem"}),
    ],
)
def test_filters(world, agent_client, varied, params, expected):
    response = agent_client.get(desk(world, queue="open", **params))
    assert response.status_code == 200
    assert set(keys(response)) == {varied[name].key for name in expected}
    assert response.context["notices"] == []


def test_the_assignee_filter_takes_me_and_a_colleague(world, agent_client, varied, agent, lead):
    assert keys(agent_client.get(desk(world, queue="open", assignee=str(lead.user.pk)))) == [
        varied["laptop"].key
    ]
    services.ticket_assign(actor=agent, ticket=varied["vpn"], assignee=agent.user)
    assert keys(agent_client.get(desk(world, queue="open", assignee="me"))) == [varied["vpn"].key]


def test_a_ticket_key_in_the_search_opens_the_ticket(world, agent_client, varied):
    response = agent_client.get(desk(world, q=f" {varied['laptop'].key.lower()} "))
    assert response.status_code == 302
    assert response["Location"] == route(world, "desk_ticket", varied["laptop"].key)
    missing = agent_client.get(desk(world, q="INC-999"))
    assert missing.status_code == 200
    assert "No ticket INC-999 that you can see." in missing.content.decode()


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        # Equal priorities fall back to the newest change.
        ("priority", ["vpn", "problem", "laptop", "printer"]),
        ("-priority", ["laptop", "printer", "problem", "vpn"]),
        ("created", ["problem", "laptop", "printer", "vpn"]),
        ("-created", ["vpn", "printer", "laptop", "problem"]),
        ("updated", ["problem", "laptop", "printer", "vpn"]),
        ("-updated", ["vpn", "printer", "laptop", "problem"]),
    ],
)
def test_sorting(world, agent_client, varied, sort, order):
    # The printer moved after it was filed; put its last change back at its filing.
    Ticket.objects.for_tenant(world.tenant).filter(pk=varied["printer"].pk).update(
        updated_at=varied["printer"].created_at
    )
    response = agent_client.get(desk(world, queue="open", sort=sort))
    assert keys(response) == [varied[name].key for name in order]


HOSTILE = [
    ({"status": "bogus"}, "Ignored unknown status “bogus”."),
    ({"status": ["new", "<script>alert(1)</script>"]}, "Ignored unknown status"),
    ({"sort": "password"}, "Ignored unknown sort “password”."),
    ({"priority": "abc"}, "Ignored unknown priority “abc”."),
    ({"kind": "\x00"}, "Ignored unknown kind"),
    ({"queue": "../../etc/passwd"}, "Ignored unknown queue"),
    ({"team": "<b>x</b>"}, "Ignored unknown team"),
    ({"assignee": "99999999999999999999999"}, "Ignored unknown assignee"),
    ({"q": "' OR 1=1; DROP TABLE tickets_ticket; --"}, None),
    ({"q": "%' AND pg_sleep(5) --"}, None),
    ({"q": "x" * 10_240}, "Ignored the search: it was longer than 200 characters."),
    ({"q": "vpn\x00drop"}, "Ignored the search: it contained a NUL character."),
    ({"tag": "\x00"}, "Ignored the tag: it contained a NUL character."),
    ({"page": "-1"}, None),
    ({"page": "999999999999999999999"}, None),
    ({"page": "abc"}, None),
    ({"status": ["new"] * 500}, None),
]


@pytest.mark.parametrize(("params", "notice"), HOSTILE)
@pytest.mark.parametrize("partial", [False, True])
def test_hostile_query_strings_answer_200_with_a_message(
    world, agent_client, varied, params, notice, partial
):
    headers = {"HX-Request": "true", "HX-Target": "queue-rows"} if partial else {}
    response = agent_client.get(desk(world, **params), headers=headers)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)" not in body
    if notice and not partial:
        assert notice in body
        assert "message--warning" in body


def test_ignored_values_keep_the_valid_ones(world, agent_client, varied):
    response = agent_client.get(desk(world, queue="open", status=["in_progress", "bogus"]))
    assert keys(response) == [varied["printer"].key]
    assert response.context["query"].query == "queue=open&status=in_progress"


def test_pages_of_fifty(world, agent_client, agent):
    TicketFactory.create_batch(55, tenant=world.tenant, requester=agent.user)
    first = agent_client.get(desk(world, queue="open"))
    second = agent_client.get(desk(world, queue="open", page=2))
    assert len(keys(first)) == 50
    assert len(keys(second)) == 5
    assert not set(keys(first)) & set(keys(second))
    assert "page=2" in first.content.decode()


@pytest.mark.parametrize("count", [5, 50])
def test_queue_page_query_count_is_constant(
    world, agent_client, agent, django_assert_num_queries, count
):
    tickets = TicketFactory.create_batch(
        count, tenant=world.tenant, requester=agent.user, assignee=agent.user, team=world.team
    )
    for ticket in tickets[:3]:
        services.ticket_update(actor=agent, ticket=ticket, tags=["vpn", "mail"])
    SavedView.objects.create(tenant=world.tenant, owner=agent.user, name="Mine", query="queue=mine")
    agent_client.get(desk(world))  # stores the tenant in the session
    # session, user, memberships, set row-level tenant, staff, teams, my team ids,
    # queue counts (breaching soon is a subquery of that one), saved views, page
    # rows, their tags, their SLA clocks (one query for the page's badges),
    # reset (an unfiltered queue's size is its count in the side list: no count
    # of its own)
    with django_assert_num_queries(13):
        response = agent_client.get(desk(world, queue="mine"))
    assert len(keys(response)) == count


@pytest.mark.parametrize("count", [5, 50])
def test_polled_rows_query_count_is_constant(
    world, agent_client, agent, django_assert_num_queries, count
):
    TicketFactory.create_batch(count, tenant=world.tenant, requester=agent.user)
    agent_client.get(desk(world))
    # as the page, without the saved views
    with django_assert_num_queries(12):
        response = agent_client.get(
            desk(world, queue="open"), headers={"HX-Request": "true", "HX-Target": "queue-rows"}
        )
    assert len(keys(response)) == count


def test_polling_renders_only_the_rows_and_keeps_the_ticks(world, agent_client, varied):
    ticked = varied["vpn"]
    response = agent_client.get(
        desk(world, queue="open", tickets=[str(ticked.pk), "junk", "9" * 40]),
        headers={"HX-Request": "true", "HX-Target": "queue-rows"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="queue-rows"')
    assert "<html" not in body
    assert 'hx-trigger="every 30s"' in body
    assert f'value="{ticked.pk}" form="bulk" aria-label="Select {ticked.key}" checked' in body
    assert body.count(" checked>") == 1
    assert 'id="queue-nav"' in body
    assert 'hx-swap-oob="true"' in body


# --- Saved views --------------------------------------------------------------------------


def test_save_the_current_filters_as_a_view(world, agent_client, agent):
    response = agent_client.post(
        route(world, "desk_view_create"),
        {"name": "  Hot   VPN ", "query": "queue=open&priority=1&status=bogus&sort=password"},
    )
    view = SavedView.objects.for_tenant(world.tenant).get(owner=agent.user)
    assert (view.name, view.query, view.team) == ("Hot VPN", "queue=open&priority=1", None)
    assert response["Location"] == desk(world) + "?queue=open&priority=1"
    page = agent_client.get(response["Location"])
    assert page.context["active_view"] == view
    assert "Hot VPN" in page.content.decode()


def test_a_view_shared_with_a_team_is_listed_for_its_members_only(world, login, agent):
    login(world.user(Role.AGENT)).post(
        route(world, "desk_view_create"),
        {"name": "Squad triage", "query": "queue=teams", "team": str(world.team.pk)},
    )
    view = SavedView.objects.for_tenant(world.tenant).get(name="Squad triage")
    assert view.team == world.team
    lead_page = login(world.user(Role.LEAD)).get(desk(world))  # in the squad
    admin_page = login(world.user(Role.ADMIN)).get(desk(world))  # not in it
    assert view in lead_page.context["saved_views"]
    assert view not in admin_page.context["saved_views"]
    # The lead sees it but cannot delete it.
    assert 'aria-label="Delete the view Squad triage"' not in lead_page.content.decode()
    refused = login(world.user(Role.LEAD)).post(route(world, "desk_view_delete", view.pk))
    assert refused.status_code == 404
    assert SavedView.objects.for_tenant(world.tenant).filter(pk=view.pk).exists()


def test_sharing_with_a_team_one_is_not_in_is_refused(world, agent_client, agent):
    other = TeamFactory(tenant=world.tenant, name="Facilities", slug="facilities")
    response = agent_client.post(
        route(world, "desk_view_create"),
        {"name": "Theirs", "query": "queue=open", "team": str(other.pk)},
    )
    # Not one of the agent's teams: not even a choice.
    assert response.status_code == 400
    assert not SavedView.objects.for_tenant(world.tenant).exists()


def test_a_second_view_of_the_same_name_is_refused(world, agent_client, agent):
    for _ in range(2):
        response = agent_client.post(
            route(world, "desk_view_create"), {"name": "Mine", "query": "queue=mine"}
        )
    assert response.status_code == 400
    assert "You already have a view with this name." in response.content.decode()
    assert SavedView.objects.for_tenant(world.tenant).count() == 1


def test_delete_own_view(world, agent_client, agent):
    view = SavedView.objects.create(tenant=world.tenant, owner=agent.user, name="x", query="")
    response = agent_client.post(route(world, "desk_view_delete", view.pk), {"next": "queue=open"})
    assert response["Location"] == desk(world) + "?queue=open"
    assert not SavedView.objects.for_tenant(world.tenant).exists()


def test_another_tenants_view_cannot_be_deleted(world, foreign, agent_client):
    theirs = SavedView.objects.create(
        tenant=foreign.tenant, owner=foreign.user(Role.AGENT), name="x", query=""
    )
    assert agent_client.post(route(world, "desk_view_delete", theirs.pk)).status_code == 404
    assert SavedView.objects.for_tenant(foreign.tenant).exists()


# --- Bulk actions ------------------------------------------------------------------------


def bulk(client, world, tickets, **data):
    return client.post(
        route(world, "desk_bulk"),
        {"tickets": [str(t.pk) for t in tickets], "next": "queue=open&sort=created", **data},
    )


def test_bulk_assign_to_me(world, agent_client, agent, varied):
    picked = [varied["vpn"], varied["printer"]]
    response = bulk(agent_client, world, picked, action="assign", assignee="me")
    assert response.status_code == 302
    assert response["Location"] == desk(world) + "?queue=open&sort=created"
    assert {fresh(t).assignee for t in picked} == {agent.user}
    assert ("changed", "assignee", "", agent.user.email) in events(varied["vpn"])
    followed = agent_client.get(response["Location"])
    assert "Assigned 2 tickets to you." in followed.content.decode()


def test_bulk_assign_to_a_colleague_and_unassign(world, agent_client, lead, varied):
    picked = [varied["vpn"], varied["laptop"]]
    bulk(agent_client, world, picked, action="assign", assignee=str(lead.user.pk))
    assert {fresh(t).assignee for t in picked} == {lead.user}
    bulk(agent_client, world, picked, action="assign", assignee="none")
    assert {fresh(t).assignee for t in picked} == {None}


def test_bulk_resolve_needs_a_resolution_code(world, agent_client, varied):
    picked = [varied["printer"]]
    refused = bulk(agent_client, world, picked, action="status", status="resolved")
    assert refused.status_code == 302
    assert fresh(varied["printer"]).status == Status.IN_PROGRESS
    assert "Resolving needs a resolution code." in agent_client.get(desk(world)).content.decode()
    bulk(agent_client, world, picked, action="status", status="resolved", resolution_code="solved")
    assert (fresh(varied["printer"]).status, fresh(varied["printer"]).resolution_code) == (
        "resolved",
        "solved",
    )


def test_bulk_priority_with_a_reason_and_tag(world, agent_client, varied):
    picked = [varied["printer"], varied["laptop"]]
    refused = bulk(agent_client, world, picked, action="priority", priority="2")
    assert refused.status_code == 302
    assert {fresh(t).priority for t in picked} == {5}
    bulk(agent_client, world, picked, action="priority", priority="2", priority_reason="CEO")
    assert {(fresh(t).priority, fresh(t).priority_override_reason) for t in picked} == {(2, "CEO")}
    bulk(agent_client, world, picked, action="tag", tag="Hardware")
    assert ("changed", "tags", "", "hardware") in events(varied["laptop"])


def test_bulk_merge_into_a_key(world, agent_client, varied):
    target = varied["vpn"]
    bulk(agent_client, world, [varied["problem"]], action="merge", target="inc-999")
    assert fresh(varied["problem"]).status == Status.NEW  # no such target
    bulk(agent_client, world, [varied["problem"], target], action="merge", target=target.key)
    merged = fresh(varied["problem"])
    assert (merged.status, merged.duplicate_of_id) == (Status.CLOSED, target.pk)
    assert fresh(target).status == Status.NEW  # the target itself is skipped


def test_bulk_is_all_or_nothing(world, agent_client, agent, varied):
    closed = new_ticket(agent, "Gone")
    services.ticket_transition(actor=agent, ticket=closed, status="cancelled")
    before = events(varied["vpn"])
    # A step the open ticket can take and the cancelled one cannot.
    response = bulk(
        agent_client, world, [varied["vpn"], closed], action="status", status="in_progress"
    )
    assert response.status_code == 302
    assert fresh(varied["vpn"]).status == Status.NEW  # rolled back with the refusal
    assert events(varied["vpn"]) == before
    message = agent_client.get(desk(world)).content.decode()
    assert f"{closed.key}: Incident tickets cannot move from cancelled to in_progress" in message


def test_bulk_refuses_tickets_one_cannot_see(world, foreign, agent_client, varied):
    theirs = new_ticket(Actor.of(foreign.members[Role.AGENT]), "Theirs")
    secret = new_ticket(Actor.of(world.members[Role.ADMIN]), "Breach", is_confidential=True)
    for hidden in (theirs, secret):
        response = bulk(
            agent_client, world, [varied["vpn"], hidden], action="assign", assignee="me"
        )
        assert response.status_code == 302
        assert fresh(varied["vpn"]).assignee is None
        assert fresh(hidden).assignee is None


@pytest.mark.parametrize(
    "data",
    [
        {"action": "explode"},
        {"action": "assign", "assignee": "99999"},
        {"action": "status", "status": "<script>"},
        {"action": "priority", "priority": "9", "priority_reason": "x"},
        {"action": "merge", "target": "'; DROP TABLE --"},
        {"action": "tag", "tag": "x" * 500},
    ],
)
def test_bulk_with_bad_input_changes_nothing(world, agent_client, varied, data):
    response = bulk(agent_client, world, [varied["vpn"]], **data)
    assert response.status_code == 302
    ticket = fresh(varied["vpn"])
    assert (ticket.assignee, ticket.status, ticket.priority) == (None, Status.NEW, 1)


def test_bulk_without_a_selection_says_so(world, agent_client):
    response = agent_client.post(route(world, "desk_bulk"), {"action": "assign", "assignee": "me"})
    assert response.status_code == 302
    assert "Select at least one ticket." in agent_client.get(desk(world)).content.decode()


def test_quick_assign_from_the_keyboard_answers_with_the_rows(world, agent_client, agent, varied):
    response = agent_client.post(
        route(world, "desk_bulk"),
        {"tickets": [str(varied["vpn"].pk)], "action": "assign", "assignee": "me",
         "next": "queue=unassigned"},
        headers={"HX-Request": "true", "HX-Target": "queue-rows"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="queue-rows"')
    assert varied["vpn"].key not in keys(response)  # no longer unassigned
    assert f"Assigned {varied['vpn'].key} to you." in body
    assert fresh(varied["vpn"]).assignee == agent.user


# --- The ticket page ----------------------------------------------------------------------


def test_the_ticket_page_interleaves_comments_and_events(world, agent_client, agent, requester):
    ticket = new_ticket(requester, "Mail bounces", description="Since **Monday**")
    services.comment_add(actor=requester, ticket=ticket, body="Any news?")
    services.ticket_transition(actor=agent, ticket=ticket, status="in_progress")
    services.comment_add(actor=agent, ticket=ticket, body="Looking at the relay", is_internal=True)
    response = agent_client.get(route(world, "desk_ticket", ticket.key))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>Monday</strong>" in body
    created = body.index("created the ticket")
    news = body.index("Any news?")
    moved = body.index("changed status from new to in progress")
    note = body.index("Looking at the relay")
    assert created < news < moved < note
    assert 'class="desk-comment desk-comment--internal"' in body
    assert body.count("desk-comment--internal") == 1
    # Only the statuses the workflow allows next are offered.
    options = response.context["transition_form"].fields["status"].choices
    assert [value for value, _ in options] == ["in_progress", "pending", "resolved", "cancelled"]


@pytest.mark.parametrize("count", [5, 50])
def test_ticket_page_query_count_is_constant(
    world, agent_client, agent, requester, django_assert_num_queries, count
):
    ticket = new_ticket(requester, "Busy", tags=[])
    services.ticket_update(actor=agent, ticket=ticket, tags=["vpn"])
    services.watcher_add(actor=agent, ticket=ticket, user=agent.user)
    CommentFactory.create_batch(count, ticket=ticket, tenant=world.tenant, author=requester.user)
    TicketEventFactory.create_batch(
        count, ticket=ticket, tenant=world.tenant, actor=agent.user, new_value="x"
    )
    url = route(world, "desk_ticket", ticket.key)
    agent_client.get(url)
    # session, user, memberships, set row-level tenant, the ticket, staff, teams,
    # categories, tags, watchers, files (the comments' among them), links
    # (2: the change links, then every linked ticket), comments, events, SLA clocks
    # (as stored: the explanation that replays the log loads only when
    # opened), ticket settings, reset
    with django_assert_num_queries(18):
        response = agent_client.get(url)
    assert len(response.context["timeline"]) == 2 * count + 3


def field(client, world, ticket, name, **data):
    return client.post(route(world, "desk_ticket_fields", ticket.key), {"field": name, **data})


@pytest.mark.parametrize(
    ("name", "value", "event"),
    [
        ("assignee", "lead", ("changed", "assignee", "", "lead@ours.test")),
        ("team", "team", ("changed", "team", "", "ours-squad")),
        ("impact", "1", ("changed", "impact", "3", "1")),
        ("urgency", "2", ("changed", "urgency", "3", "2")),
        ("category", "category", ("changed", "category", "", "Network")),
        ("tags", "vpn, Mail", ("changed", "tags", "", "vpn mail")),
        ("is_confidential", "on", ("changed", "is_confidential", "no", "yes")),
        (
            "title",
            "VPN is down for everyone",
            ("changed", "title", "VPN is down", "VPN is down for everyone"),
        ),
    ],
)
def test_in_place_edits_record_their_event(world, agent_client, agent, name, value, event):
    ticket = new_ticket(agent)
    category = Category.objects.create(tenant=world.tenant, name="Network")
    value = {
        "lead": str(world.user(Role.LEAD).pk),
        "team": str(world.team.pk),
        "category": str(category.pk),
    }.get(value, value)
    response = field(agent_client, world, ticket, name, **{name: value})
    assert response.status_code == 302
    assert response["Location"] == route(world, "desk_ticket", ticket.key)
    assert event in events(ticket)


def test_priority_override_needs_a_reason(world, agent_client, agent):
    ticket = new_ticket(agent)
    refused = field(agent_client, world, ticket, "priority", priority="1")
    assert refused.status_code == 400
    assert "Say why the priority differs from impact × urgency." in refused.content.decode()
    assert fresh(ticket).priority == 5
    field(agent_client, world, ticket, "priority", priority="1", priority_reason="Board meeting")
    assert ("changed", "priority", "5", "1") in events(ticket)
    assert fresh(ticket).priority_override_reason == "Board meeting"


def test_an_in_place_edit_with_htmx_answers_with_the_regions(world, agent_client, agent):
    ticket = new_ticket(agent)
    response = agent_client.post(
        route(world, "desk_ticket_fields", ticket.key),
        {"field": "impact", "impact": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    for region in (
        "ticket-header",
        "ticket-sla",
        "ticket-details",
        "ticket-timeline",
        "desk-flash",
    ):
        assert f'id="{region}"' in body
    assert "<html" not in body
    assert body.count('hx-swap-oob="true"') == 9  # with the SLA and knowledge-base panels
    assert 'id="ticket-reply"' not in body  # a half-written reply survives
    assert "P3 Moderate" in body  # impact 1 x urgency 3
    bad = agent_client.post(
        route(world, "desk_ticket_fields", ticket.key),
        {"field": "impact", "impact": "7"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 400
    assert "Select a valid choice." in bad.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"field": "kind", "kind": "problem"},
        {"field": "requester", "requester": "1"},
        {"field": "title", "title": "a\x00b"},
        {"field": "title", "title": "x" * 500},
        {"field": "assignee", "assignee": "99999"},
        {"field": "team", "team": "abc"},
        {},
    ],
)
def test_bad_in_place_edits_change_nothing(world, agent_client, agent, data):
    ticket = new_ticket(agent)
    before = events(ticket)
    response = agent_client.post(route(world, "desk_ticket_fields", ticket.key), data)
    assert response.status_code == 400
    assert events(ticket) == before


def test_status_moves_only_where_the_workflow_allows(world, agent_client, agent):
    ticket = new_ticket(agent)
    url = route(world, "desk_ticket_transition", ticket.key)
    refused = agent_client.post(url, {"status": "resolved", "resolution_code": "solved"})
    assert refused.status_code == 400
    assert fresh(ticket).status == Status.NEW
    assert agent_client.post(url, {"status": "in_progress"}).status_code == 302
    assert ("changed", "status", "new", "in_progress") in events(ticket)
    no_code = agent_client.post(url, {"status": "resolved"})
    assert no_code.status_code == 400
    assert "Resolving needs a resolution code." in no_code.content.decode()
    agent_client.post(
        url, {"form": "resolve", "status": "resolved", "resolution_code": "workaround"}
    )
    assert (fresh(ticket).status, fresh(ticket).resolution_code) == ("resolved", "workaround")


def test_reply_public_and_internal(world, agent_client, agent, requester):
    ticket = new_ticket(requester)
    url = route(world, "desk_ticket_reply", ticket.key)
    assert agent_client.post(url, {"body": "On it", "visibility": "public"}).status_code == 302
    agent_client.post(url, {"body": "Relay is fine", "visibility": "internal"})
    comments = Comment.objects.for_tenant(world.tenant).filter(ticket=ticket).order_by("pk")
    assert [(c.body, c.is_internal) for c in comments] == [
        ("On it", False),
        ("Relay is fine", True),
    ]
    assert fresh(ticket).status == Status.IN_PROGRESS  # the first reply started the work
    empty = agent_client.post(url, {"body": "  ", "visibility": "public"})
    assert empty.status_code == 400
    assert "Write a message or attach a file." in empty.content.decode()


def test_reply_with_files_and_htmx(world, agent_client, agent):
    ticket = new_ticket(agent)
    files = [
        SimpleUploadedFile("log.txt", b"line 1\nline 2\n"),
        SimpleUploadedFile("../../etc/passwd", b"root:x:0:0"),
    ]
    response = agent_client.post(
        route(world, "desk_ticket_reply", ticket.key),
        {"body": "", "visibility": "internal", "attachments": files},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    stored = Attachment.objects.for_tenant(world.tenant).filter(ticket=ticket).order_by("pk")
    assert [(a.filename, a.is_internal) for a in stored] == [("log.txt", True), ("passwd", True)]
    body = response.content.decode()
    assert 'id="ticket-reply"' in body  # cleared for the next one
    download = route(world, "attachment", ticket.key, stored[0].pk)
    assert f'href="{download}"' in body


def test_attachments_upload_and_refusals(world, agent_client, agent, settings):
    ticket = new_ticket(agent)
    url = route(world, "desk_ticket_attachments", ticket.key)
    response = agent_client.post(
        url, {"attachments": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")], "is_internal": "on"}
    )
    assert response.status_code == 302
    assert Attachment.objects.for_tenant(world.tenant).get(ticket=ticket).is_internal
    settings.TICKET_ATTACHMENT_MAX_BYTES = 10
    too_big = agent_client.post(url, {"attachments": [SimpleUploadedFile("b.bin", b"x" * 11)]})
    empty = agent_client.post(url, {"attachments": [SimpleUploadedFile("c.txt", b"")]})
    none = agent_client.post(url, {})
    assert [too_big.status_code, empty.status_code, none.status_code] == [400, 400, 400]
    assert "the limit is" in too_big.content.decode()
    assert Attachment.objects.for_tenant(world.tenant).count() == 1


def test_links_add_and_remove(world, agent_client, agent):
    incident = new_ticket(agent, "Slow payroll")
    child = new_ticket(agent, "Slow payroll, 2nd floor")
    problem = new_ticket(agent, "Payroll DB", kind="problem")
    change = new_ticket(agent, "Add index", kind="change")
    url = route(world, "desk_ticket_links", incident.key)
    for relation, other in (("child", child), ("problem", problem), ("change", change)):
        response = agent_client.post(
            url, {"action": "add", "relation": relation, "other": other.key}
        )
        assert response.status_code == 302, relation
    assert fresh(child).parent_id == incident.pk
    assert fresh(incident).problem_id == problem.pk
    assert ChangeLink.objects.for_tenant(world.tenant).filter(from_ticket=change).exists()
    page = agent_client.get(route(world, "desk_ticket", incident.key)).context["links"]
    assert (page["children"], page["problem"], page["changes"]) == ([child], problem, [change])
    for relation, other in (("child", child), ("problem", problem), ("change", change)):
        agent_client.post(url, {"action": "remove", "relation": relation, "other": other.key})
    assert fresh(child).parent_id is None
    assert fresh(incident).problem_id is None
    assert not ChangeLink.objects.for_tenant(world.tenant).exists()


@pytest.mark.parametrize(
    ("relation", "other", "message"),
    [
        ("parent", "INC-999", "No ticket INC-999 that you can see."),
        ("parent", "self", "A ticket cannot be linked to itself."),
        ("problem", "incident", "Link an incident or request to a problem."),
        ("sideways", "incident", "Select a valid choice."),
        ("parent", "not a key", "Write a ticket key such as INC-42."),
    ],
)
def test_bad_links_are_refused(world, agent_client, agent, relation, other, message):
    ticket = new_ticket(agent)
    incident = new_ticket(agent, "Other")
    other_key = {"self": ticket.key, "incident": incident.key}.get(other, other)
    response = agent_client.post(
        route(world, "desk_ticket_links", ticket.key),
        {"action": "add", "relation": relation, "other": other_key},
    )
    assert response.status_code == 400
    assert message in response.content.decode()


def test_watchers_add_and_remove(world, agent_client, agent, requester):
    ticket = new_ticket(agent)
    url = route(world, "desk_ticket_watchers", ticket.key)
    email = requester.user.email.upper()
    assert agent_client.post(url, {"action": "add", "email": email}).status_code == 302
    assert agent_client.post(url, {"action": "add", "email": agent.user.email}).status_code == 302
    watching = Watcher.objects.for_tenant(world.tenant).filter(ticket=ticket)
    assert set(watching.values_list("user_id", flat=True)) == {requester.user.pk, agent.user.pk}
    agent_client.post(url, {"action": "remove", "email": requester.user.email})
    assert list(watching.values_list("user_id", flat=True)) == [agent.user.pk]
    assert ("changed", "watchers", requester.user.email, "") in events(ticket)


def test_watchers_must_be_members(world, foreign, agent_client, agent):
    ticket = new_ticket(agent)
    url = route(world, "desk_ticket_watchers", ticket.key)
    stranger = foreign.user(Role.AGENT).email
    response = agent_client.post(url, {"action": "add", "email": stranger})
    assert response.status_code == 400
    assert "is not an active member of this organisation" in response.content.decode()
    bad = agent_client.post(url, {"action": "add", "email": "not an e-mail"})
    assert bad.status_code == 400
    assert not Watcher.objects.for_tenant(world.tenant).exists()


def test_merge_into_another_ticket(world, agent_client, agent, requester):
    duplicate = new_ticket(requester, "VPN again")
    target = new_ticket(requester, "VPN is down")
    services.comment_add(actor=requester, ticket=duplicate, body="Still down")
    response = agent_client.post(
        route(world, "desk_ticket_merge", duplicate.key), {"target": target.key.lower()}
    )
    assert response["Location"] == route(world, "desk_ticket", target.key)
    assert fresh(duplicate).duplicate_of_id == target.pk
    assert Comment.objects.for_tenant(world.tenant).get(body="Still down").ticket_id == target.pk
    htmx = agent_client.post(
        route(world, "desk_ticket_merge", target.key),
        {"target": duplicate.key},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 400  # a closed duplicate takes nothing in
    assert "merge into an open ticket" in htmx.content.decode()


def test_quick_actions_assign_to_me_and_resolve(world, agent_client, agent):
    ticket = new_ticket(agent)
    field(agent_client, world, ticket, "assignee", assignee=str(agent.user.pk))
    assert fresh(ticket).assignee == agent.user
    body = agent_client.get(route(world, "desk_ticket", ticket.key)).content.decode()
    assert "Assign to me" not in body
    assert "Resolve…" not in body  # new -> resolved is not a step
    agent_client.post(route(world, "desk_ticket_transition", ticket.key), {"status": "in_progress"})
    assert "Resolve…" in agent_client.get(route(world, "desk_ticket", ticket.key)).content.decode()


# --- A new ticket -----------------------------------------------------------------------------


def test_agent_files_a_ticket_for_a_member(world, agent_client, agent, requester):
    response = agent_client.post(
        route(world, "desk_ticket_create"),
        {
            "kind": "problem",
            "title": "Payroll slows down at month end",
            "description": "See INC-1 … INC-4",
            "requester": requester.user.email.upper(),
            "impact": "2",
            "urgency": "1",
            "team": str(world.team.pk),
            "assignee": str(agent.user.pk),
            "tags": "payroll, db",
            "attachments": [SimpleUploadedFile("plan.txt", b"analyse the locks")],
        },
    )
    ticket = Ticket.objects.for_tenant(world.tenant).get(title="Payroll slows down at month end")
    assert response["Location"] == route(world, "desk_ticket", ticket.key)
    assert ticket.key == "PRB-1"
    assert (ticket.requester, ticket.assignee, ticket.team, ticket.priority) == (
        requester.user,
        agent.user,
        world.team,
        2,
    )
    assert ticket.source == "desk"
    assert Attachment.objects.for_tenant(world.tenant).get(ticket=ticket).filename == "plan.txt"
    assert ("changed", "tags", "", "payroll db") not in events(ticket)  # tags set at creation
    assert selectors.ticket_tags(ticket=ticket) == ["db", "payroll"]


def test_a_ticket_without_a_requester_is_the_agents_own(world, agent_client, agent):
    agent_client.post(
        route(world, "desk_ticket_create"),
        {"kind": "request", "title": "Toner", "impact": "3", "urgency": "3"},
    )
    assert Ticket.objects.for_tenant(world.tenant).get(title="Toner").requester == agent.user


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"requester": "nobody@ours.test"}, "nobody@ours.test is not an active member"),
        ({"requester": "requester@theirs.test"}, "is not an active member"),
        ({"title": ""}, "This field is required."),
        ({"title": "a\x00b"}, "Null characters are not allowed."),
        ({"kind": "meeting"}, "Select a valid choice."),
        ({"impact": "0"}, "Select a valid choice."),
        ({"tags": "!!!"}, "is not a usable tag"),
    ],
)
def test_bad_new_tickets_are_refused(world, foreign, agent_client, data, message):
    response = agent_client.post(
        route(world, "desk_ticket_create"),
        {"kind": "incident", "title": "x", "impact": "3", "urgency": "3", **data},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.for_tenant(world.tenant).exists()


def test_the_new_ticket_form_renders(world, agent_client):
    response = agent_client.get(route(world, "desk_ticket_create"))
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


# --- Hostile markup --------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
HOSTILE_MARKDOWN = (
    f"{SCRIPT} <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
    '<a href="jAvAsCrIpT:alert(4)" onclick="alert(5)">x</a> '
    "[data](data:text/html;base64,PHNjcmlwdD4=) <svg onload=alert(6)>"
)


class MarkupAudit(HTMLParser):
    """Everything in a page that could run: scripts, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    self.problems.append(f"<{tag} {name}={value}>")
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/static/"):
            self.problems.append("<script> without a static src")
        if tag in ("svg", "img", "iframe", "object", "embed"):
            self.problems.append(f"<{tag}>")


def audit(html: str) -> list[str]:
    parser = MarkupAudit()
    parser.feed(html)
    return parser.problems


def test_hostile_markdown_is_rendered_inert(world, agent_client, agent, requester):
    ticket = new_ticket(
        requester, title=f"{SCRIPT} <img src=x onerror=alert(1)>", description=HOSTILE_MARKDOWN
    )
    services.comment_add(actor=requester, ticket=ticket, body=HOSTILE_MARKDOWN)
    services.comment_add(actor=agent, ticket=ticket, body=HOSTILE_MARKDOWN, is_internal=True)
    services.ticket_update(
        actor=agent, ticket=ticket, priority=1, priority_reason='"><script>alert(7)</script>'
    )
    services.ticket_update(actor=agent, ticket=ticket, tags=["<b>bold</b>"])
    SavedView.objects.create(
        tenant=world.tenant, owner=agent.user, name=SCRIPT, query='q="><script>'
    )
    agent.user.full_name = '<img src=x onerror="alert(8)">'
    agent.user.save()
    pages = {
        "ticket": agent_client.get(route(world, "desk_ticket", ticket.key)),
        "queue": agent_client.get(desk(world, queue="recent")),
        "rows": agent_client.get(
            desk(world, queue="recent"), headers={"HX-Request": "true", "HX-Target": "queue-rows"}
        ),
    }
    for name, response in pages.items():
        body = response.content.decode()
        assert response.status_code == 200, name
        assert audit(body) == [], name
        assert "<script>alert" not in body, name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["ticket"].content.decode()


# --- Event lines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "text", "ref"),
    [
        ({"action": "created", "field": ""}, "created the ticket", ""),
        (
            {
                "action": "changed",
                "field": "status",
                "old_value": "new",
                "new_value": "in_progress",
            },
            "changed status from new to in progress",
            "",
        ),
        (
            {"action": "changed", "field": "priority", "old_value": "5", "new_value": "1"},
            "changed priority from P5 Planning to P1 Critical",
            "",
        ),
        (
            {"action": "changed", "field": "assignee", "new_value": "lead@ours.test"},
            "assigned the ticket to Lena",
            "",
        ),
        (
            {"action": "changed", "field": "tags", "old_value": "a", "new_value": "b c"},
            "added tags b, c and removed tag a",
            "",
        ),
        ({"action": "linked", "field": "problem", "new_value": "PRB-2"}, "linked problem", "PRB-2"),
        (
            {"action": "merged", "field": "duplicate_of", "new_value": "INC-9"},
            "merged this ticket into",
            "INC-9",
        ),
        (
            {"action": "linked", "field": "parent", "new_value": "not/a key"},
            "linked the parent not/a key",
            "",
        ),
        (
            {"action": "changed", "field": "resolution_code", "new_value": "workaround"},
            "set resolution to Solved with a workaround",
            "",
        ),
        (
            {"action": "responded", "field": "first_response_at", "note": "first response"},
            "gave the first response",
            "",
        ),
    ],
)
def test_events_read_as_sentences(event, text, ref):
    line = describe_event(TicketEvent(**event), {"lead@ours.test": "Lena"})
    assert (line.text, line.ref) == (text, ref)


def test_relative_times():
    now = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(seconds=30), now) == "just now"
    assert ago(now - timedelta(minutes=3, seconds=59), now) == "3 min ago"
    assert ago(now - timedelta(hours=5), now) == "5 h ago"
    assert ago(now - timedelta(days=9), now) == "1 wk ago"
    assert ago(now - timedelta(days=400), now) == "1 yr ago"
    assert ago(None, now) == ""


def test_deactivated_agent_is_still_shown_as_assignee(world, agent_client, agent):
    former = MembershipFactory(
        tenant=world.tenant, role=Role.AGENT, user=UserFactory(email="former@ours.test")
    )
    ticket = new_ticket(agent, assignee=former.user)
    former.is_active = False
    former.save()
    forms = agent_client.get(route(world, "desk_ticket", ticket.key)).context["field_forms"]
    choices = forms["assignee"].fields["assignee"].choices
    assert (str(former.user.pk), former.user.display_name) in choices
