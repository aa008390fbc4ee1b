"""What other apps add to the ticket pages, the queue and the ticket's JSON
(``tickets.extensions``, ``tickets.api.ticket_api_fields``), shown with
contributions of the test's own beside the SLA's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.models import Q
from django.urls import reverse

from servicedesk import registry
from servicedesk.models import Role
from tickets import api, extensions, services
from tickets.extensions import EventLine, PanelRequest
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def contributed() -> Iterator[list[str]]:
    """A test app's panel, column, queue, sort, timeline entry and API field,
    each saying who it was built for; removed again afterwards."""
    calls: list[str] = []

    def panel(request: PanelRequest) -> dict | None:
        calls.append("panel")
        if "secret" in request.ticket.title:
            return None  # nothing to show on this ticket
        return {"note": f"probe for {request.membership.user.email} on {request.ticket.key}"}

    def values(membership, tickets, now) -> dict:
        calls.append("column")
        return {t.pk: f"probe-{t.number}" for t in tickets}

    entries = [
        (extensions.desk_panels, extensions.TicketPanel("probe", 1, "probe/panel.html", panel)),
        (extensions.portal_panels, extensions.TicketPanel("probe", 1, "probe/panel.html", panel)),
        (
            extensions.queue_columns,
            extensions.QueueColumn("probe", 1, "Probe", "probe/cell.html", values),
        ),
        (
            extensions.queues,
            extensions.Queue(
                "probed",
                order=55,
                label="Probed",
                condition=lambda viewer, team_ids, now: Q(title__startswith="Probe"),
                empty="No probed ticket.",
            ),
        ),
        (
            extensions.sorts,
            extensions.Sort(
                "title",
                order=90,
                label="Title, A to Z",
                reversed_label="Title, Z to A",
                order_by=lambda flipped: ("-title" if flipped else "title", "pk"),
            ),
        ),
        (
            extensions.event_renderers,
            extensions.EventRenderer(
                "probed", 1, lambda event: EventLine(f"probed the ticket ({event.note})")
            ),
        ),
        (
            api.ticket_api_fields,
            api.TicketApiField(
                "probe",
                order=90,
                field=lambda: api.serializers.CharField(allow_null=True),
                load=lambda membership, tickets, now: (
                    calls.append("api") or {t.pk: f"api-{t.number}" for t in tickets}
                    if membership.is_agent
                    else None
                ),
            ),
        ),
        (
            api.ticket_api_fields,
            api.TicketApiField(
                "shared_probe",
                order=91,
                field=lambda: api.serializers.CharField(allow_null=True),
                load=lambda membership, tickets, now: (
                    calls.append(f"shared_api:{membership.role}")
                    or {t.pk: f"shared-{t.number}" for t in tickets}
                ),
                for_requesters=True,
            ),
        ),
    ]
    for where, entry in entries:
        where.register(entry)
    yield calls
    for where, entry in entries:
        where.unregister(entry.name)


@pytest.fixture(autouse=True)
def probe_templates(settings, tmp_path):
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "panel.html").write_text(
        '<section id="ticket-probe"{% if oob %} hx-swap-oob="true"{% endif %}>'
        "{{ panel.note }}</section>"
    )
    (tmp_path / "probe" / "cell.html").write_text("<span class=probe>{{ value }}</span>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]


def new_ticket(actor, title="Probe: VPN is down", **fields) -> Ticket:
    return services.ticket_create(actor=actor, kind="incident", title=title, **fields)


def test_the_desk_ticket_page_shows_contributed_panels_and_swaps_them_after_a_change(
    world, login, agent, requester, contributed
):
    ticket = new_ticket(requester)
    client = login(world.user(Role.AGENT))
    url = reverse("tickets:desk_ticket", args=[world.tenant.slug, ticket.key])
    page = client.get(url).content.decode()
    assert f"probe for {agent.user.email} on {ticket.key}" in page
    assert 'id="ticket-sla"' in page  # the SLA's panel beside it

    answer = client.post(
        reverse("tickets:desk_ticket_reply", args=[world.tenant.slug, ticket.key]),
        {"body": "On it"},
        headers={"HX-Request": "true"},
    )
    assert '<section id="ticket-probe" hx-swap-oob="true">' in answer.content.decode()


def test_a_panel_with_nothing_to_show_is_left_out(world, login, requester, contributed):
    ticket = new_ticket(requester, title="Probe: a secret thing")
    client = login(world.user(Role.AGENT))
    page = client.get(reverse("tickets:desk_ticket", args=[world.tenant.slug, ticket.key]))
    assert 'id="ticket-probe"' not in page.content.decode()
    assert "panel" in contributed


def test_the_portal_request_page_shows_contributed_panels(world, login, requester, contributed):
    ticket = new_ticket(requester)
    client = login(world.user(Role.REQUESTER))
    page = client.get(reverse("tickets:portal_ticket", args=[world.tenant.slug, ticket.key]))
    assert f"probe for {requester.user.email} on {ticket.key}" in page.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_a_contributed_column_is_read_once_per_page(
    world, login, requester, contributed, django_assert_num_queries, count
):
    for index in range(count):
        new_ticket(requester, title=f"Probe {index}")
    client = login(world.user(Role.AGENT))
    desk = reverse("desk", args=[world.tenant.slug])
    client.get(desk, {"queue": "open"})
    contributed.clear()
    # As tests/slo/test_desk_sla.py pins the queue without this column (13):
    # the column's values are read once for the page, not per row.
    with django_assert_num_queries(13):
        response = client.get(desk, {"queue": "open"})
    assert contributed.count("column") == 1
    body = response.content.decode()
    assert body.count("<span class=probe>probe-") == count
    assert '<th scope="col">Probe</th>' in body


def test_a_contributed_queue_is_listed_counted_and_filtered(world, login, requester, contributed):
    probed = new_ticket(requester)
    new_ticket(requester, title="Printer jam")
    client = login(world.user(Role.AGENT))
    response = client.get(reverse("desk", args=[world.tenant.slug]), {"queue": "probed"})
    assert [t.key for t in response.context["rows"]] == [probed.key]
    assert response.context["counts"]["probed"] == 1
    body = response.content.decode()
    assert '<h2 id="queue-h" class="desk-queuebar__title">Probed <span' in body
    assert "<title>Probed · Desk" in body
    assert [q["key"] for q in response.context["queues"]] == [
        "mine",
        "breaching",
        "teams",
        "unassigned",
        "open",
        "probed",
        "recent",
    ]


def test_a_contributed_queue_says_its_own_words_when_empty(world, login, contributed):
    client = login(world.user(Role.AGENT))
    response = client.get(reverse("desk", args=[world.tenant.slug]), {"queue": "probed"})
    assert "No probed ticket." in response.content.decode()


def test_a_contributed_sort_orders_the_queue_both_ways(world, login, requester, contributed):
    for title in ("Probe b", "Probe a", "Probe c"):
        new_ticket(requester, title=title)
    client = login(world.user(Role.AGENT))
    desk = reverse("desk", args=[world.tenant.slug])
    forward = client.get(desk, {"queue": "open", "sort": "title"})
    backward = client.get(desk, {"queue": "open", "sort": "-title"})
    assert [t.title for t in forward.context["rows"]] == ["Probe a", "Probe b", "Probe c"]
    assert [t.title for t in backward.context["rows"]] == ["Probe c", "Probe b", "Probe a"]
    assert 'value="-title"' in forward.content.decode()  # offered in the sort menu


def test_a_contributed_timeline_entry_reads_in_its_own_words(
    world, login, agent, requester, contributed
):
    ticket = new_ticket(requester)
    TicketEvent.objects.create(
        tenant=world.tenant, ticket=ticket, actor_name="probe", action="probed", note="all good"
    )
    client = login(world.user(Role.AGENT))
    page = client.get(reverse("tickets:desk_ticket", args=[world.tenant.slug, ticket.key]))
    assert "probed the ticket (all good)" in page.content.decode()


def test_a_contributed_api_field_is_loaded_once_per_page_and_shown_to_whom_it_says(
    world, login, agent, requester, contributed
):
    tickets = [new_ticket(requester, title=f"Probe {i}") for i in range(3)]
    agent_api = login(world.user(Role.AGENT))
    listed = agent_api.get("/api/v1/tickets/").json()["results"]
    assert {row["number"]: row["probe"] for row in listed} == {
        t.key: f"api-{t.number}" for t in tickets
    }
    assert contributed.count("api") == 1
    one = agent_api.get(f"/api/v1/tickets/{tickets[0].key}/").json()
    assert one["probe"] == f"api-{tickets[0].number}"

    # A requester's ticket has the fields for requesters only (not the
    # desk's, nor the SLA), and the desk's ones are not even loaded.
    contributed.clear()
    requester_api = login(world.user(Role.REQUESTER))
    own = requester_api.get(f"/api/v1/tickets/{tickets[0].key}/").json()
    assert own["shared_probe"] == f"shared-{tickets[0].number}"
    assert "probe" not in own
    assert "sla" not in own
    assert contributed == ["shared_api:requester"]


def test_the_schema_describes_contributed_fields(world, login, contributed):
    schema = login(world.user(Role.AGENT)).get("/api/schema/?format=json").json()
    ticket = schema["components"]["schemas"]["Ticket"]["properties"]
    assert ticket["probe"] == {"type": "string", "readOnly": True, "nullable": True}
    assert ticket["sla"]["nullable"] is True
    for_requesters = schema["components"]["schemas"]["RequesterTicket"]["properties"]
    assert for_requesters["shared_probe"]["type"] == "string"
    assert "probe" not in for_requesters
    assert "sla" not in for_requesters


def test_the_apps_sections_and_member_panels_are_registered():
    assert registry.admin_sections.names() == [
        "overview",
        "members",
        "teams",
        "api_tokens",
        "tickets",
        "sla",
        "settings",
    ]
    assert registry.member_panels.names() == ["sla_profile"]
    seeders = list(registry.demo_seeders)
    assert {"tickets", "sla"} <= {s.name for s in seeders}
    assert [s.order for s in seeders] == sorted(s.order for s in seeders)


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="registered already"):
        extensions.queues.register(
            extensions.Queue("open", 1, "Another open", lambda viewer, team_ids, now: Q())
        )
