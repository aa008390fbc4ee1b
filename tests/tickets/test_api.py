"""REST API v1 of tickets, called the way integrations call it: with tokens."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from servicedesk.models import Role
from tests.servicedesk.factories import ApiTokenFactory
from tests.tickets.factories import TicketFactory
from tickets import services
from tickets.models import Attachment, Comment, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

READ_WRITE = ["tickets:read", "tickets:write"]


class Api:
    """A client that speaks for one member through a Bearer token."""

    def __init__(self, world, role: str, scopes=READ_WRITE):
        token = ApiTokenFactory(tenant=world.tenant, user=world.user(role), scopes=scopes)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1/{path}", params)

    def post(self, path: str, data=None, **kwargs):
        if "content_type" not in kwargs and not isinstance(data, dict | type(None)):
            return self.client.post(f"/api/v1/{path}", data, content_type="application/json")
        if kwargs.get("multipart"):
            return self.client.post(f"/api/v1/{path}", data)
        return self.client.post(
            f"/api/v1/{path}", json.dumps(data or {}), content_type="application/json"
        )

    def patch(self, path: str, data):
        return self.client.patch(
            f"/api/v1/{path}", json.dumps(data), content_type="application/json"
        )


@pytest.fixture
def api(world):
    return lambda role=Role.AGENT, scopes=READ_WRITE: Api(world, role, scopes)


class TestList:
    def test_fields_and_people_as_emails(self, world, api):
        ticket = TicketFactory(
            tenant=world.tenant, assignee=world.user(Role.AGENT), team=world.team
        )
        services.ticket_update(
            actor=services.Actor.of(world.members[Role.AGENT]), ticket=ticket, tags=["vpn"]
        )
        response = api().get("tickets/")
        assert response.status_code == 200
        (row,) = response.json()["results"]
        assert {
            k: row[k] for k in ("number", "kind", "status", "requester", "assignee", "team", "tags")
        } == {
            "number": ticket.key,
            "kind": "incident",
            "status": "new",
            "requester": ticket.requester.email,
            "assignee": world.user(Role.AGENT).email,
            "team": world.team.slug,
            "tags": ["vpn"],
        }
        for field in (
            "title",
            "description",
            "impact",
            "urgency",
            "priority",
            "confidential",
            "created_at",
            "updated_at",
            "resolved_at",
        ):
            assert field in row

    def test_a_requester_token_sees_own_tickets_only(self, world, api):
        own = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        TicketFactory(tenant=world.tenant)
        numbers = [r["number"] for r in api(Role.REQUESTER).get("tickets/").json()["results"]]
        assert numbers == [own.key]

    def test_foreign_tickets_never_show(self, world, foreign, api):
        TicketFactory(tenant=foreign.tenant, title="FOREIGN-TITLE")
        response = api().get("tickets/")
        assert response.json()["results"] == []
        assert "FOREIGN-TITLE" not in response.content.decode()

    @pytest.mark.parametrize("rows", [5, 50])
    def test_query_count_does_not_grow_with_the_page(
        self, world, api, rows, django_assert_num_queries
    ):
        for n in range(rows):
            ticket = TicketFactory(
                tenant=world.tenant, assignee=world.user(Role.AGENT), team=world.team
            )
            if n % 2:
                services.ticket_update(
                    actor=services.Actor.of(world.members[Role.AGENT]),
                    ticket=ticket,
                    tags=["a", "b"],
                )
        client = api()
        client.get("tickets/")  # the token's last_used_at is written once a minute
        # token, membership, raise the row-level wall, the page (with its
        # joins), the tags prefetch, the page's SLA clocks (staff see the
        # ticket's "sla" block; one query for the whole page), lower the wall
        with django_assert_num_queries(7):
            response = client.get("tickets/", page_size=50)
        assert len(response.json()["results"]) == rows

    def test_filters_and_ordering(self, world, api):
        a = TicketFactory(tenant=world.tenant, status=Status.PENDING, priority=1)
        b = TicketFactory(tenant=world.tenant, kind="request", title="New laptop", priority=3)
        TicketFactory(tenant=world.tenant, status=Status.CLOSED, priority=2)
        client = api()

        def numbers(**params):
            response = client.get("tickets/", **params)
            assert response.status_code == 200, response.content
            return [r["number"] for r in response.json()["results"]]

        assert numbers(status="pending") == [a.key]
        assert numbers(kind="request") == [b.key]
        assert numbers(q="laptop") == [b.key]
        assert numbers(q=b.key) == [b.key]
        assert numbers(status=["pending", "new"], ordering="priority") == [a.key, b.key]
        assert numbers(status=["pending", "new"], ordering="-priority,created_at") == [
            b.key,
            a.key,
        ]

    @pytest.mark.parametrize(
        ("params", "named"),
        [
            # Ordering only by the fields offered; a typo is not "no order".
            ({"ordering": "requester__password"}, "ordering"),
            ({"ordering": "priority,nonsense"}, "ordering"),
            ({"unassigned": "maybe"}, "unassigned"),
            ({"confidential": "yes please"}, "confidential"),
            ({"page_size": "abc"}, "page_size"),
            ({"page_size": "201"}, "page_size"),
            # Not a parameter of this operation at all: a typo of "status".
            ({"stauts": "new"}, "stauts"),
            ({"status": "new", "format": "json"}, "format"),
        ],
    )
    def test_unknown_and_invalid_parameters_are_400_naming_them(self, world, api, params, named):
        TicketFactory(tenant=world.tenant)
        response = api().get("tickets/", **params)
        assert response.status_code == 400, response.content
        assert list(response.json()) == [named]

    def test_strict_booleans_still_filter(self, world, api):
        mine = TicketFactory(tenant=world.tenant, assignee=world.user(Role.AGENT))
        loose = TicketFactory(tenant=world.tenant)
        client = api()
        for value, expected in (("true", [loose.key]), ("false", [mine.key]), ("1", [loose.key])):
            response = client.get("tickets/", unassigned=value)
            assert [r["number"] for r in response.json()["results"]] == expected

    def test_detail_routes_take_no_list_filters(self, world, api):
        ticket = TicketFactory(tenant=world.tenant)
        for path in ("", "comments/", "events/"):
            response = api().get(f"tickets/{ticket.key}/{path}", status="new")
            assert response.status_code == 400, path
            assert list(response.json()) == ["status"]

    @pytest.mark.parametrize(
        "params",
        [
            {"status": "open'; drop table tickets_ticket; --"},
            {"priority": "9"},
            {"created_after": "yesterday"},
            {"page_size": "-1"},
            {"cursor": "garbage\x00"},
            # A well-formed cursor this list never wrote: its position is no time.
            {"cursor": "bz0xJnI9MSZwPTIwMjYtMTMtNDU%3D"},  # o=1&r=1&p=2026-13-45
            {"q": "x" * 5000},
        ],
    )
    def test_bad_parameters_are_a_400_never_a_500(self, world, api, params):
        TicketFactory(tenant=world.tenant)
        response = api().get("tickets/", **params)
        assert response.status_code == 400, response.content
        assert list(response.json()) == list(params)


class TestCreate:
    def test_an_agent_opens_a_ticket_for_a_requester(self, world, api):
        response = api().post(
            "tickets/",
            {
                "kind": "incident",
                "title": "Payroll is slow",
                "impact": 1,
                "urgency": 2,
                "requester": world.user(Role.REQUESTER).email.upper(),
                "assignee": world.user(Role.AGENT).email,
                "team": world.team.slug,
                "tags": ["payroll"],
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["number"], body["priority"], body["requester"], body["tags"]) == (
            "INC-1",
            2,
            world.user(Role.REQUESTER).email,
            ["payroll"],
        )
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        assert ticket.source == "api"

    def test_a_requester_opens_their_own(self, world, api):
        response = api(Role.REQUESTER).post("tickets/", {"title": "Mouse broken"})
        assert response.status_code == 201
        assert response.json()["requester_name"] == world.user(Role.REQUESTER).display_name
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        assert ticket.requester == world.user(Role.REQUESTER)

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": "x", "kind": "outage"}, "kind"),
            ({"title": "x", "impact": 7}, "impact"),
            ({"title": "x", "assignee": "nobody@example.org"}, "assignee"),
            ({"title": "x", "assignee": "requester@ours.test"}, "assignee"),
            ({"title": "x", "team": "theirs-squad"}, "team"),
            ({"title": "x", "requester": "agent@theirs.test"}, "requester"),
            ({"title": "x", "tags": [f"t{n}" for n in range(21)]}, "tags"),
            ({"title": "x", "tags": ["!!!"]}, "tags"),
            ({"title": "x" * 201}, "title"),
        ],
    )
    def test_bad_fields_are_named_and_nothing_is_written(self, world, foreign, api, payload, field):
        response = api().post("tickets/", payload)
        assert response.status_code == 400, response.content
        assert field in response.json(), response.json()
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    @pytest.mark.parametrize(
        "raw", ['{"title": ', "[1, 2]", '"just a string"', "\x00\x01", '{"title": "x"' * 1000]
    )
    def test_malformed_json_is_a_400(self, world, api, raw):
        response = api().client.post("/api/v1/tickets/", raw, content_type="application/json")
        assert response.status_code == 400
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    def test_oversized_json_is_refused(self, world, api):
        body = json.dumps({"title": "x", "description": "y" * 3_000_000})
        response = api().client.post("/api/v1/tickets/", body, content_type="application/json")
        assert response.status_code in (400, 413)
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    def test_a_read_only_token_cannot_write(self, world, api):
        response = api(scopes=["tickets:read"]).post("tickets/", {"title": "x"})
        assert response.status_code == 403
        assert "tickets:write" in response.content.decode()

    def test_no_token_is_a_401(self, world):
        response = Client().get("/api/v1/tickets/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


class TestOneTicket:
    def test_retrieve_and_404s(self, world, foreign, api):
        ours = TicketFactory(tenant=world.tenant)
        client = api()
        assert client.get(f"tickets/{ours.key}/").json()["number"] == ours.key
        theirs = foreign.tickets.ticket.key  # INC-7001: no such ticket here
        for key in (theirs, "INC-2", "INC-0", "XYZ-1", "INC-99999999999", "inc-1x"):
            assert client.get(f"tickets/{key}/").status_code == 404

    def test_one_ticket_is_one_lookup(self, world, api, django_assert_num_queries):
        ticket = TicketFactory(tenant=world.tenant)
        client = api()
        client.get("tickets/")  # the token's last_used_at is written once a minute
        # token, membership, raise the wall, the ticket (with its joins), its
        # tags, its SLA clocks (the "sla" block staff see), lower the wall
        with django_assert_num_queries(7):
            assert client.get(f"tickets/{ticket.key}/").status_code == 200

    def test_patch_records_events(self, world, api):
        ticket = TicketFactory(tenant=world.tenant)
        response = api().patch(
            f"tickets/{ticket.key}/",
            {
                "title": "Renamed",
                "assignee": world.user(Role.LEAD).email,
                "priority": 1,
                "priority_reason": "Board meeting",
            },
        )
        assert response.status_code == 200, response.content
        assert (response.json()["priority"], response.json()["title"]) == (1, "Renamed")
        fields = set(TicketEvent.objects.for_tenant(world.tenant).values_list("field", flat=True))
        assert fields == {"title", "assignee", "priority"}
        events = api().get(f"tickets/{ticket.key}/events/").json()
        assert {e["field"] for e in events} == fields
        assert all(e["actor"] == world.user(Role.AGENT).email for e in events)

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"status": "closed"}, "status"),
            ({"number": "INC-9"}, "number"),
            ({}, "non_field_errors"),
            ({"priority": 1}, "priority_reason"),
            ({"assignee": "agent@theirs.test"}, "assignee"),
        ],
    )
    def test_patch_errors(self, world, foreign, api, payload, field):
        ticket = TicketFactory(tenant=world.tenant)
        response = api().patch(f"tickets/{ticket.key}/", payload)
        assert response.status_code == 400, response.content
        assert field in response.json()
        assert not TicketEvent.objects.for_tenant(world.tenant).exists()

    def test_requesters_cannot_patch(self, world, api):
        ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        response = api(Role.REQUESTER).patch(f"tickets/{ticket.key}/", {"title": "x"})
        assert response.status_code == 403


class TestConversation:
    def test_requester_tokens_never_see_internal_notes(self, world, api):
        ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        agent = api()
        assert agent.post(f"tickets/{ticket.key}/comments/", {"body": "Public"}).status_code == 201
        response = agent.post(
            f"tickets/{ticket.key}/comments/", {"body": "INTERNAL-ONLY", "internal": True}
        )
        assert response.status_code == 201
        assert response.json()["internal"] is True
        requester = api(Role.REQUESTER)
        seen = requester.get(f"tickets/{ticket.key}/comments/")
        assert [c["body"] for c in seen.json()] == ["Public"]
        for path in (f"tickets/{ticket.key}/", f"tickets/{ticket.key}/events/", "tickets/"):
            assert "INTERNAL-ONLY" not in requester.get(path).content.decode()
        assert len(agent.get(f"tickets/{ticket.key}/comments/").json()) == 2

    def test_a_requester_cannot_write_internal_notes(self, world, api):
        ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        response = api(Role.REQUESTER).post(
            f"tickets/{ticket.key}/comments/", {"body": "x", "internal": True}
        )
        assert response.status_code == 400
        assert "internal" in response.json()
        assert not Comment.objects.for_tenant(world.tenant).exists()

    def test_comment_shape(self, world, api):
        ticket = TicketFactory(tenant=world.tenant)
        body = api().post(f"tickets/{ticket.key}/comments/", {"body": "Hi"}).json()
        assert set(body) == {"id", "body", "internal", "author", "created_at"}
        assert (body["internal"], body["author"]) == (False, world.user(Role.AGENT).email)

    def test_attachments(self, world, api, settings):
        ticket = TicketFactory(tenant=world.tenant)
        upload = SimpleUploadedFile(
            "../shot.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, content_type="text/html"
        )
        response = api().client.post(f"/api/v1/tickets/{ticket.key}/attachments/", {"file": upload})
        assert response.status_code == 201, response.content
        [body] = response.json()
        assert (body["filename"], body["content_type"], body["size"]) == (
            "shot.png",
            "image/png",
            48,
        )
        assert body["url"].endswith(f"/t/ours/tickets/{ticket.key}/files/{body['id']}/")
        settings.TICKET_ATTACHMENT_MAX_BYTES = 10
        big = SimpleUploadedFile("big.log", b"x" * 11)
        response = api().client.post(f"/api/v1/tickets/{ticket.key}/attachments/", {"file": big})
        assert response.status_code == 400
        assert "attachments" in response.json()
        response = api().client.post(f"/api/v1/tickets/{ticket.key}/attachments/", {})
        assert response.status_code == 400
        assert "file" in response.json()

    def test_every_file_part_is_attached(self, world, api):
        # Two parts named "file": both are kept, as the desk's form keeps
        # several files (a plain FileField kept the last one only).
        ticket = TicketFactory(tenant=world.tenant)
        first = SimpleUploadedFile("first.log", b"one")
        second = SimpleUploadedFile("second.log", b"two")
        response = api().client.post(
            f"/api/v1/tickets/{ticket.key}/attachments/", {"file": [first, second]}
        )
        assert response.status_code == 201, response.content
        assert [a["filename"] for a in response.json()] == ["first.log", "second.log"]
        stored = Attachment.objects.for_tenant(world.tenant).filter(ticket=ticket)
        assert sorted(stored.values_list("filename", flat=True)) == ["first.log", "second.log"]

    def test_one_refused_file_stores_none(self, world, api, settings):
        ticket = TicketFactory(tenant=world.tenant)
        settings.TICKET_ATTACHMENT_MAX_BYTES = 10
        fine = SimpleUploadedFile("fine.log", b"small")
        big = SimpleUploadedFile("big.log", b"x" * 11)
        response = api().client.post(
            f"/api/v1/tickets/{ticket.key}/attachments/", {"file": [fine, big]}
        )
        assert response.status_code == 400
        assert not Attachment.objects.for_tenant(world.tenant).filter(ticket=ticket).exists()

    def test_at_most_ten_files_at_a_time(self, world, api):
        ticket = TicketFactory(tenant=world.tenant)
        files = [SimpleUploadedFile(f"f{n}.log", b"x") for n in range(11)]
        response = api().client.post(f"/api/v1/tickets/{ticket.key}/attachments/", {"file": files})
        assert response.status_code == 400
        assert "file" in response.json()
        assert not Attachment.objects.for_tenant(world.tenant).filter(ticket=ticket).exists()


class TestTransition:
    def test_resolve_and_bad_moves(self, world, api):
        ticket = TicketFactory(tenant=world.tenant, status=Status.IN_PROGRESS)
        client = api()
        response = client.post(f"tickets/{ticket.key}/transition/", {"status": "resolved"})
        assert response.status_code == 400
        assert "resolution_code" in response.json()
        response = client.post(f"tickets/{ticket.key}/transition/", {"status": "new"})
        assert response.status_code == 400
        assert "Allowed: pending, resolved, cancelled" in response.json()["status"][0]
        response = client.post(
            f"tickets/{ticket.key}/transition/",
            {"status": "resolved", "resolution_code": "workaround"},
        )
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["resolution_code"]) == (
            "resolved",
            "workaround",
        )
        assert response.json()["resolved_at"]

    def test_a_requester_confirms_a_resolution(self, world, api):
        ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        agent = api()
        agent.post(f"tickets/{ticket.key}/transition/", {"status": "in_progress"})
        agent.post(
            f"tickets/{ticket.key}/transition/", {"status": "resolved", "resolution_code": "solved"}
        )
        response = api(Role.REQUESTER).post(
            f"tickets/{ticket.key}/transition/", {"status": "closed"}
        )
        assert response.status_code == 200
        assert response.json()["status"] == "closed"


def test_the_browser_session_works_too(world, login):
    ticket = TicketFactory(tenant=world.tenant)
    client = login(world.user(Role.AGENT))
    client.get(f"/t/{world.tenant.slug}/desk/")  # opens the tenant
    response = client.get(f"/api/v1/tickets/{ticket.key}/")
    assert response.status_code == 200
