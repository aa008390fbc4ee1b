"""The ticket services: audit trail, numbering, notifications, merges,
links, confidentiality and files."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory, TeamFactory
from tests.tickets.factories import TicketFactory, events
from tickets import selectors, services
from tickets.models import (
    Attachment,
    Category,
    Comment,
    Notification,
    Status,
    Ticket,
    TicketEvent,
    TicketSettings,
)

pytestmark = pytest.mark.django_db


class TestCreate:
    def test_numbers_priority_and_the_created_event(self, world, requester):
        first = services.ticket_create(
            actor=requester, kind="incident", title="VPN", impact=1, urgency=2
        )
        second = services.ticket_create(actor=requester, kind="incident", title="Mail")
        request = services.ticket_create(actor=requester, kind="request", title="A laptop")
        assert [first.key, second.key, request.key] == ["INC-1", "INC-2", "REQ-1"]
        assert (first.priority, second.priority) == (2, 5)
        assert events(first) == [("created", "", "", "INC-1")]
        assert (
            TicketEvent.objects.for_tenant(world.tenant).get(ticket=first).actor == requester.user
        )

    def test_the_tenant_matrix_decides_the_priority(self, world, requester):
        matrix = {str(i): {str(u): 1 for u in (1, 2, 3)} for i in (1, 2, 3)}
        TicketSettings.objects.create(tenant=world.tenant, priority_matrix=matrix)
        ticket = services.ticket_create(actor=requester, kind="incident", title="x")
        assert ticket.priority == 1

    def test_numbering_is_per_tenant(self, world, foreign, requester):
        TicketFactory(tenant=foreign.tenant)
        TicketFactory(tenant=foreign.tenant)
        ticket = services.ticket_create(actor=requester, kind="incident", title="x")
        assert ticket.key == "INC-1"

    @pytest.mark.parametrize(
        ("fields", "error_field"),
        [
            ({"title": "   "}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"kind": "outage"}, "kind"),
            ({"kind": "change"}, "kind"),  # requesters report incidents and requests
            ({"impact": 0}, "impact"),
            ({"urgency": "high"}, "urgency"),
            ({"description": "x" * 70_000}, "description"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(
        self, world, requester, fields, error_field
    ):
        payload = {"kind": "incident", "title": "ok", **fields}
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(actor=requester, **payload)
        assert error_field in caught.value.message_dict
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert not TicketEvent.objects.for_tenant(world.tenant).exists()

    def test_requesters_cannot_route_or_report_for_others(self, world, requester):
        with pytest.raises(PermissionDenied):
            services.ticket_create(
                actor=requester, kind="incident", title="x", assignee=world.user(Role.AGENT)
            )
        with pytest.raises(ValidationError):
            services.ticket_create(
                actor=requester, kind="incident", title="x", requester=world.user(Role.ADMIN)
            )

    def test_people_and_teams_of_another_tenant_are_refused(self, world, foreign, agent):
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(
                actor=agent, kind="incident", title="x", requester=foreign.user(Role.REQUESTER)
            )
        assert "requester" in caught.value.message_dict
        with pytest.raises(ValidationError):
            services.ticket_create(
                actor=agent, kind="incident", title="x", assignee=foreign.user(Role.AGENT)
            )
        with pytest.raises(ValidationError):
            services.ticket_create(actor=agent, kind="incident", title="x", team=foreign.team)
        assert not Ticket.objects.for_tenant(world.tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creations_get_twenty_consecutive_numbers(world, requester):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    keys: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def create(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            # No mail: eager delivery in many threads at once would leave
            # Celery's process-wide "inside a task" flag set behind it.
            with services.notifications_muted():
                ticket = services.ticket_create(
                    actor=requester, kind="incident", title=f"Burst {n}"
                )
            keys.append(ticket.key)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"INC-{n}" for n in range(1, 21)]


class TestAuditTrail:
    def test_every_field_change_is_one_event(self, world, agent):
        category = Category.objects.create(tenant=world.tenant, name="Network")
        ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        old_title = ticket.title
        services.ticket_update(
            actor=agent,
            ticket=ticket,
            title="VPN drops every hour",
            description="Since Monday",
            impact=1,
            urgency=1,
            assignee=agent.user,
            team=world.team,
            category=category,
            is_confidential=True,
            tags=["vpn", "Remote Work"],
        )
        changed = {field: (old, new) for action, field, old, new in events(ticket)}
        assert changed == {
            "title": (old_title, "VPN drops every hour"),
            "description": ("It jams on every second page.", "Since Monday"),
            "impact": ("3", "1"),
            "urgency": ("3", "1"),
            "assignee": ("", agent.user.email),
            "team": ("", world.team.slug),
            "category": ("", "Network"),
            "is_confidential": ("no", "yes"),
            "priority": ("5", "1"),
            "tags": ("", "vpn remote-work"),
        }
        assert all(e.actor == agent.user for e in TicketEvent.objects.for_tenant(world.tenant))
        # Saying the same again changes nothing and records nothing.
        count = len(events(ticket))
        services.ticket_update(
            actor=agent, ticket=ticket, title="VPN drops every hour", tags=["remote-work", "vpn"]
        )
        assert len(events(ticket)) == count

    def test_a_priority_override_needs_a_reason_and_is_recorded(self, world, agent):
        ticket = TicketFactory(tenant=world.tenant, impact=3, urgency=3, priority=5)
        with pytest.raises(ValidationError) as caught:
            services.ticket_update(actor=agent, ticket=ticket, priority=1)
        assert "priority_reason" in caught.value.message_dict
        services.ticket_update(
            actor=agent, ticket=ticket, priority=1, priority_reason="CEO's laptop"
        )
        ticket.refresh_from_db()
        assert (ticket.priority, ticket.priority_override_reason) == (1, "CEO's laptop")
        event = TicketEvent.objects.for_tenant(world.tenant).get(field="priority")
        assert (event.old_value, event.new_value, event.note) == ("5", "1", "CEO's laptop")
        # An override survives impact changes.
        services.ticket_update(actor=agent, ticket=ticket, impact=2)
        ticket.refresh_from_db()
        assert ticket.priority == 1

    def test_other_edits_keep_the_priority_a_later_matrix_would_give(self, world, agent):
        ticket = services.ticket_create(
            actor=agent, kind="incident", title="x", requester=world.user(Role.REQUESTER)
        )
        assert ticket.priority == 5
        matrix = {str(i): {str(u): 1 for u in (1, 2, 3)} for i in (1, 2, 3)}
        TicketSettings.objects.create(tenant=world.tenant, priority_matrix=matrix)
        services.ticket_update(actor=agent, ticket=ticket, assignee=agent.user)
        ticket.refresh_from_db()
        assert ticket.priority == 5
        services.ticket_update(actor=agent, ticket=ticket, urgency=2)
        ticket.refresh_from_db()
        assert ticket.priority == 1

    def test_only_agents_edit_fields(self, world, requester):
        ticket = TicketFactory(tenant=world.tenant, requester=requester.user)
        with pytest.raises(PermissionDenied):
            services.ticket_update(actor=requester, ticket=ticket, title="mine now")

    def test_unknown_and_fixed_fields_are_refused(self, world, agent):
        ticket = TicketFactory(tenant=world.tenant)
        with pytest.raises(ValidationError) as caught:
            services.ticket_update(actor=agent, ticket=ticket, tenant_id=99, number=7)
        assert set(caught.value.message_dict) == {"tenant_id", "number"}
        with pytest.raises(ValidationError):
            services.ticket_update(actor=agent, ticket=ticket, kind="problem")

    def test_events_are_append_only(self, world):
        event = TicketEvent.objects.create(
            tenant=world.tenant, ticket=TicketFactory(tenant=world.tenant), action="created"
        )
        event.note = "rewritten"
        with pytest.raises(RuntimeError):
            event.save()

    def test_automation_is_recorded_as_such(self, world):
        ticket = TicketFactory(tenant=world.tenant)
        bot = services.Actor.automation(world.tenant, "triage")
        services.ticket_update(actor=bot, ticket=ticket, team=world.team)
        event = TicketEvent.objects.for_tenant(world.tenant).get(field="team")
        assert (event.actor, event.actor_kind, event.actor_name) == (None, "automation", "triage")


class TestNotifications:
    def test_threaded_mail_to_the_right_people(
        self, world, agent, requester, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            ticket = services.ticket_create(actor=requester, kind="incident", title="VPN")
            services.ticket_assign(
                actor=services.Actor.of(world.members[Role.LEAD]),
                ticket=ticket,
                assignee=agent.user,
            )
            services.comment_add(actor=agent, ticket=ticket, body="Try reconnecting.")
            services.comment_add(actor=agent, ticket=ticket, body="SECRET-NOTE", is_internal=True)
            services.ticket_transition(actor=agent, ticket=ticket, status="pending")
            services.ticket_transition(
                actor=agent, ticket=ticket, status="resolved", resolution_code="solved"
            )
        sent = [(m.to[0], m.subject.split("]")[1].split(":")[0].strip()) for m in mailoutbox]
        assert sent == [
            (requester.user.email, "We received your incident"),
            (agent.user.email, "Assigned to you"),
            (requester.user.email, "New reply"),
            (requester.user.email, "Waiting for your answer"),
            (requester.user.email, "Resolved"),
        ]
        assert all(m.subject.startswith("[INC-1] ") for m in mailoutbox)
        root = mailoutbox[0].extra_headers["Message-ID"]
        for mail in mailoutbox[1:]:
            assert mail.extra_headers["In-Reply-To"] == root
            assert mail.extra_headers["References"] == root
        assert not any("SECRET-NOTE" in m.body for m in mailoutbox)
        assert Notification.objects.for_tenant(world.tenant).filter(sent_at=None).count() == 0

    def test_internal_notes_reach_staff_watchers_only(
        self, world, agent, mailoutbox, django_capture_on_commit_callbacks
    ):
        ticket = TicketFactory(tenant=world.tenant, assignee=world.user(Role.LEAD))
        services.watcher_add(actor=agent, ticket=ticket, user=world.user(Role.REQUESTER))
        services.watcher_add(actor=agent, ticket=ticket, user=world.user(Role.ADMIN))
        former = MembershipFactory(tenant=world.tenant, role=Role.AGENT)
        services.watcher_add(actor=agent, ticket=ticket, user=former.user)
        former.is_active = False  # an agent who left still watches, and must not read notes
        former.save()
        with django_capture_on_commit_callbacks(execute=True):
            services.comment_add(actor=agent, ticket=ticket, body="note", is_internal=True)
        assert sorted(m.to[0] for m in mailoutbox) == sorted(
            [world.user(Role.LEAD).email, world.user(Role.ADMIN).email]
        )

    def test_a_broker_outage_delays_mail_but_keeps_it(
        self, world, requester, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
    ):
        from celery import current_app

        task = current_app.tasks["tickets.deliver_notification"]

        def broker_down(*args, **kwargs):
            raise ConnectionError("broker down")

        monkeypatch.setattr(task, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            ticket = services.ticket_create(actor=requester, kind="incident", title="VPN")
        assert ticket.pk
        assert not mailoutbox
        row = Notification.objects.for_tenant(world.tenant).get()
        later = row.created_at + timedelta(minutes=2)
        assert services.notifications_owed(now=later) == [row.pk]
        assert services.notification_deliver(notification_id=row.pk) is True
        assert services.notification_deliver(notification_id=row.pk) is False  # never twice
        assert len(mailoutbox) == 1

    def test_muted_imports_write_no_mail(self, world, requester):
        with services.notifications_muted():
            services.ticket_create(actor=requester, kind="incident", title="history")
        assert not Notification.objects.for_tenant(world.tenant).exists()


class TestMerge:
    def test_merging_moves_the_conversation_and_closes_the_duplicate(self, world, agent):
        target = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
        other_person = MembershipFactory(tenant=world.tenant).user
        source = TicketFactory(tenant=world.tenant, requester=other_person)
        services.comment_add(actor=agent, ticket=source, body="first")
        services.attachment_add(actor=agent, ticket=source, upload=ContentFile(b"log", "a.log"))
        services.watcher_add(actor=agent, ticket=source, user=world.user(Role.LEAD))
        services.ticket_merge(actor=agent, source=source, target=target)
        source.refresh_from_db()
        assert (source.status, source.duplicate_of, source.resolution_code) == (
            Status.CLOSED,
            target,
            "duplicate",
        )
        assert list(
            Comment.objects.for_tenant(world.tenant).values_list("ticket", "moved_from")
        ) == [(target.pk, source.key)]
        assert Attachment.objects.for_tenant(world.tenant).get().ticket == target
        assert set(selectors.ticket_watchers(ticket=target)) == {
            other_person,
            world.user(Role.LEAD),
        }
        # The person who reported the duplicate can now see the target.
        viewer = selectors.Viewer(world.tenant.pk, other_person, Role.REQUESTER)
        assert selectors.can_view(viewer, target)

    def test_merging_into_a_closed_or_itself_is_refused(self, world, agent):
        source = TicketFactory(tenant=world.tenant)
        closed = TicketFactory(tenant=world.tenant, status=Status.CLOSED)
        with pytest.raises(ValidationError):
            services.ticket_merge(actor=agent, source=source, target=closed)
        with pytest.raises(ValidationError):
            services.ticket_merge(actor=agent, source=source, target=source)

    def test_a_foreign_ticket_cannot_be_a_target(self, world, foreign, agent):
        with pytest.raises(ValidationError):
            services.ticket_merge(
                actor=agent,
                source=TicketFactory(tenant=world.tenant),
                target=TicketFactory(tenant=foreign.tenant),
            )


class TestLinks:
    def test_problem_change_and_parent_links(self, world, agent):
        incident = TicketFactory(tenant=world.tenant)
        problem = TicketFactory(tenant=world.tenant, kind="problem")
        change = TicketFactory(tenant=world.tenant, kind="change")
        services.ticket_link(actor=agent, ticket=incident, relation="problem", other=problem)
        services.ticket_link(actor=agent, ticket=incident, relation="change", other=change)
        links = selectors.ticket_links(ticket=problem, viewer=agent.viewer)
        assert links["incidents"] == [incident]
        assert selectors.ticket_links(ticket=change, viewer=agent.viewer)["fixes"] == [incident]
        with pytest.raises(ValidationError):
            services.ticket_link(actor=agent, ticket=problem, relation="problem", other=incident)
        child = TicketFactory(tenant=world.tenant)
        services.ticket_link(actor=agent, ticket=child, relation="parent", other=incident)
        with pytest.raises(ValidationError):  # no cycles
            services.ticket_link(actor=agent, ticket=incident, relation="parent", other=child)
        services.ticket_unlink(actor=agent, ticket=incident, relation="change", other=change)
        assert selectors.ticket_links(ticket=change, viewer=agent.viewer)["fixes"] == []

    def test_every_relation_from_both_sides_in_two_queries(
        self, world, agent, django_assert_num_queries
    ):
        ticket = TicketFactory(tenant=world.tenant)
        parent, problem, change = (
            TicketFactory(tenant=world.tenant),
            TicketFactory(tenant=world.tenant, kind="problem"),
            TicketFactory(tenant=world.tenant, kind="change"),
        )
        original = TicketFactory(tenant=world.tenant)
        children = TicketFactory.create_batch(2, tenant=world.tenant)
        duplicate = TicketFactory(tenant=world.tenant, duplicate_of=ticket)
        hidden_child = TicketFactory(tenant=world.tenant, is_confidential=True)
        services.ticket_link(actor=agent, ticket=ticket, relation="parent", other=parent)
        services.ticket_link(actor=agent, ticket=ticket, relation="problem", other=problem)
        services.ticket_link(actor=agent, ticket=ticket, relation="change", other=change)
        for child in [*children, hidden_child]:
            services.ticket_link(actor=agent, ticket=child, relation="parent", other=ticket)
        Ticket.objects.for_tenant(world.tenant).filter(pk=ticket.pk).update(duplicate_of=original)
        ticket = Ticket.objects.for_tenant(world.tenant).get(pk=ticket.pk)
        with django_assert_num_queries(2):
            links = selectors.ticket_links(ticket=ticket, viewer=agent.viewer)
        assert links == {
            "parent": parent,
            "children": children,  # not the confidential one the agent may not see
            "duplicate_of": original,
            "duplicates": [duplicate],
            "problem": problem,
            "incidents": [],
            "changes": [change],
            "fixes": [],
        }
        assert selectors.ticket_links(ticket=change, viewer=agent.viewer)["fixes"] == [ticket]
        assert selectors.ticket_links(ticket=problem, viewer=agent.viewer)["incidents"] == [ticket]
        assert selectors.ticket_links(ticket=parent, viewer=agent.viewer)["children"] == [ticket]


class TestConfidential:
    def test_only_granted_agents_see_a_confidential_ticket(self, world, agent):
        lead = services.Actor.of(world.members[Role.LEAD])
        other_agent = MembershipFactory(tenant=world.tenant, role=Role.AGENT).user
        ticket = services.ticket_create(
            actor=lead,
            kind="incident",
            title="Phishing",
            requester=world.user(Role.REQUESTER),
            is_confidential=True,
        )
        assert selectors.can_view(lead.viewer, ticket)  # the creator is granted
        assert not selectors.can_view(agent.viewer, ticket)
        assert selectors.can_view(services.Actor.of(world.members[Role.ADMIN]).viewer, ticket)
        assert selectors.can_view(services.Actor.of(world.members[Role.REQUESTER]).viewer, ticket)
        security = TeamFactory(tenant=world.tenant, name="Security", slug="security")
        security.members.add(agent.user)
        services.confidential_grant(actor=lead, ticket=ticket, team=security)
        assert selectors.can_view(agent.viewer, ticket)
        viewer = selectors.Viewer(world.tenant.pk, other_agent, Role.AGENT)
        assert not selectors.can_view(viewer, ticket)
        with pytest.raises(PermissionDenied):
            services.confidential_grant(actor=agent, ticket=ticket, user=other_agent)


class TestAttachments:
    def test_names_are_sanitised_and_types_sniffed(self, world, agent):
        ticket = TicketFactory(tenant=world.tenant)
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        cases = {
            "../../etc/passwd": (b"root:x:0:0", "passwd", "text/plain"),
            "invoice\u202egnp.exe": (b"MZ\x90\x00" + b"\0" * 60, "invoice gnp.exe", None),
            "page.html": (png, "page.html", "image/png"),
            ".htaccess": (b"Deny", "htaccess", "text/plain"),
            "x" * 300 + ".txt": (b"text", "x" * 146 + ".txt", "text/plain"),
        }
        for name, (data, expected_name, expected_type) in cases.items():
            attachment = services.attachment_add(
                actor=agent, ticket=ticket, upload=ContentFile(data, name)
            )
            assert attachment.filename == expected_name
            if expected_type:
                assert attachment.content_type == expected_type
            assert "/" not in Path(attachment.file.name).name
            assert attachment.file.name.startswith(f"attachments/{world.tenant.pk}/")

    def test_empty_and_oversized_files_are_refused_without_a_trace(
        self, world, agent, settings, tmp_path
    ):
        settings.MEDIA_ROOT = tmp_path
        settings.TICKET_ATTACHMENT_MAX_BYTES = 10
        ticket = TicketFactory(tenant=world.tenant)
        for data in (b"", b"x" * 11):
            with pytest.raises(ValidationError):
                services.comment_add(
                    actor=agent,
                    ticket=ticket,
                    body="see file",
                    files=[ContentFile(b"ok", "ok.txt"), ContentFile(data, "f")],
                )
        assert not Comment.objects.for_tenant(world.tenant).exists()
        assert not Attachment.objects.for_tenant(world.tenant).exists()
        assert not [p for p in tmp_path.rglob("*") if p.is_file()]

    def test_internal_files_stay_internal(self, world, agent, requester):
        ticket = TicketFactory(tenant=world.tenant, requester=requester.user)
        services.comment_add(
            actor=agent,
            ticket=ticket,
            body="logs",
            is_internal=True,
            files=[ContentFile(b"secret", "server.log")],
        )
        assert not selectors.ticket_attachments(ticket=ticket, viewer=requester.viewer).exists()
        assert selectors.ticket_attachments(ticket=ticket, viewer=agent.viewer).count() == 1
        with pytest.raises(ValidationError):
            services.attachment_add(
                actor=requester, ticket=ticket, upload=ContentFile(b"x", "x"), is_internal=True
            )


def test_a_user_of_another_tenant_cannot_be_a_watcher(world, foreign, agent):
    with pytest.raises(ValidationError):
        services.watcher_add(
            actor=agent, ticket=TicketFactory(tenant=world.tenant), user=foreign.user(Role.AGENT)
        )
