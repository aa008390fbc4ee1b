"""The workflow table, walked through the service for every kind and every
pair of statuses: allowed moves succeed, every other one is refused with a
message naming the allowed ones, and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from servicedesk.models import Role
from tests.tickets.factories import TicketFactory
from tickets import services, workflow
from tickets.models import Status, TicketEvent, TicketKind, TicketSettings

pytestmark = pytest.mark.django_db

S = Status
BASE_EXPECTED = {
    S.NEW: {S.IN_PROGRESS, S.CANCELLED},
    S.IN_PROGRESS: {S.PENDING, S.RESOLVED, S.CANCELLED},
    S.PENDING: {S.IN_PROGRESS, S.RESOLVED, S.CANCELLED},
    S.RESOLVED: {S.CLOSED, S.IN_PROGRESS},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
PROBLEM_EXPECTED = {
    **BASE_EXPECTED,
    S.IN_PROGRESS: {S.PENDING, S.KNOWN_ERROR, S.RESOLVED, S.CANCELLED},
    S.PENDING: {S.IN_PROGRESS, S.KNOWN_ERROR, S.RESOLVED, S.CANCELLED},
    S.KNOWN_ERROR: {S.IN_PROGRESS, S.RESOLVED, S.CANCELLED},
}
EXPECTED = {
    TicketKind.INCIDENT: BASE_EXPECTED,
    TicketKind.REQUEST: BASE_EXPECTED,
    TicketKind.CHANGE: BASE_EXPECTED,
    TicketKind.PROBLEM: PROBLEM_EXPECTED,
}
CASES = [
    (kind, source, target, target in EXPECTED[kind][source])
    for kind, table in EXPECTED.items()
    for source in table
    for target in Status.values
]


def test_the_table_is_the_one_documented():
    for kind, table in EXPECTED.items():
        assert {s: set(t) for s, t in workflow.TRANSITIONS[kind].items()} == table


@pytest.mark.parametrize(("kind", "source", "target", "allowed"), CASES)
def test_every_transition(world, agent, kind, source, target, allowed):
    ticket = TicketFactory(
        tenant=world.tenant, kind=kind, status=source, requester=world.user(Role.REQUESTER)
    )
    events_before = TicketEvent.objects.for_tenant(world.tenant).count()
    if allowed:
        moved = services.ticket_transition(
            actor=agent, ticket=ticket, status=target, resolution_code="solved"
        )
        assert moved.status == target
        ticket.refresh_from_db()
        assert ticket.status == target
        event = TicketEvent.objects.for_tenant(world.tenant).filter(field="status").last()
        assert (event.old_value, event.new_value, event.actor) == (source, target, agent.user)
    else:
        with pytest.raises(ValidationError) as caught:
            services.ticket_transition(
                actor=agent, ticket=ticket, status=target, resolution_code="solved"
            )
        message = caught.value.message_dict["status"][0]
        for name in workflow.allowed_next(kind, source):
            assert name in message
        ticket.refresh_from_db()
        assert ticket.status == source
        assert TicketEvent.objects.for_tenant(world.tenant).count() == events_before


def test_unknown_status_is_refused(world, agent):
    ticket = TicketFactory(tenant=world.tenant, requester=world.user(Role.REQUESTER))
    with pytest.raises(ValidationError) as caught:
        services.ticket_transition(actor=agent, ticket=ticket, status="'; drop table x; --")
    assert "Unknown status" in caught.value.message_dict["status"][0]


def test_resolving_needs_a_resolution_code(world, agent):
    ticket = TicketFactory(
        tenant=world.tenant, status=S.IN_PROGRESS, requester=world.user(Role.REQUESTER)
    )
    for code in ("", "fixed-it-myself"):
        with pytest.raises(ValidationError) as caught:
            services.ticket_transition(
                actor=agent, ticket=ticket, status=S.RESOLVED, resolution_code=code
            )
        assert "resolution_code" in caught.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS
    assert ticket.resolved_at is None


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (S.RESOLVED, S.CLOSED, True),  # confirms the resolution
        (S.RESOLVED, S.IN_PROGRESS, True),  # reopens
        (S.NEW, S.CANCELLED, True),  # withdraws
        (S.PENDING, S.CANCELLED, True),
        (S.NEW, S.IN_PROGRESS, False),
        (S.IN_PROGRESS, S.RESOLVED, False),
        (S.IN_PROGRESS, S.PENDING, False),
        (S.PENDING, S.IN_PROGRESS, False),
    ],
)
def test_what_a_requester_may_do(world, requester, source, target, allowed):
    ticket = TicketFactory(
        tenant=world.tenant,
        status=source,
        requester=requester.user,
        resolved_at=timezone.now() if source == S.RESOLVED else None,
    )
    if allowed:
        services.ticket_transition(actor=requester, ticket=ticket, status=target)
        ticket.refresh_from_db()
        assert ticket.status == target
    else:
        with pytest.raises(ValidationError):
            services.ticket_transition(
                actor=requester, ticket=ticket, status=target, resolution_code="solved"
            )


def test_a_requester_cannot_move_someone_elses_ticket(world, requester):
    ticket = TicketFactory(tenant=world.tenant, status=S.RESOLVED, resolved_at=timezone.now())
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=requester, ticket=ticket, status=S.CLOSED)


# --- Replies move tickets ---------------------------------------------------------------


def test_a_requester_reply_on_pending_resumes_work(world, requester):
    ticket = TicketFactory(tenant=world.tenant, status=S.PENDING, requester=requester.user)
    services.comment_add(actor=requester, ticket=ticket, body="Here is the log.")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS
    assert ticket.reopen_count == 0


def test_an_agent_reply_on_pending_keeps_it_pending(world, agent):
    ticket = TicketFactory(tenant=world.tenant, status=S.PENDING)
    services.comment_add(actor=agent, ticket=ticket, body="Still waiting for the log.")
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING


def test_an_agents_first_public_reply_is_the_first_response(world, agent):
    ticket = TicketFactory(tenant=world.tenant, status=S.NEW)
    services.comment_add(actor=agent, ticket=ticket, body="Internal first", is_internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == S.NEW
    comment = services.comment_add(actor=agent, ticket=ticket, body="Looking at it")
    ticket.refresh_from_db()
    assert ticket.first_response_at == comment.created_at
    assert ticket.status == S.IN_PROGRESS


class TestReopenWindow:
    def resolved(self, world, requester, days_ago: float):
        return TicketFactory(
            tenant=world.tenant,
            status=S.RESOLVED,
            requester=requester.user,
            resolution_code="solved",
            resolved_at=timezone.now() - timedelta(days=days_ago),
        )

    def test_a_reply_inside_the_window_reopens(self, world, requester):
        ticket = self.resolved(world, requester, days_ago=6.9)
        services.comment_add(actor=requester, ticket=ticket, body="It is back.")
        ticket.refresh_from_db()
        assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == (S.IN_PROGRESS, 1, None)
        event = TicketEvent.objects.for_tenant(world.tenant).get(action="reopened")
        assert (event.old_value, event.new_value) == (S.RESOLVED, S.IN_PROGRESS)

    def test_a_reply_after_the_window_is_refused(self, world, requester):
        ticket = self.resolved(world, requester, days_ago=7.1)
        with pytest.raises(ValidationError) as caught:
            services.comment_add(actor=requester, ticket=ticket, body="It is back.")
        assert "new ticket" in caught.value.message_dict["body"][0]
        ticket.refresh_from_db()
        assert ticket.status == S.RESOLVED
        assert not ticket.comments.for_tenant(world.tenant).exists()

    def test_the_window_is_per_tenant(self, world, requester):
        TicketSettings.objects.create(tenant=world.tenant, reopen_window_days=30)
        ticket = self.resolved(world, requester, days_ago=20)
        services.comment_add(actor=requester, ticket=ticket, body="It is back.")
        ticket.refresh_from_db()
        assert ticket.status == S.IN_PROGRESS

    def test_reopening_by_transition_outside_the_window_is_refused(self, world, requester):
        ticket = self.resolved(world, requester, days_ago=8)
        with pytest.raises(ValidationError):
            services.ticket_transition(actor=requester, ticket=ticket, status=S.IN_PROGRESS)


class TestAutoClose:
    def test_resolved_tickets_close_after_the_window(self, world, foreign, requester):
        now = timezone.now()
        due = TicketFactory(
            tenant=world.tenant, status=S.RESOLVED, resolved_at=now - timedelta(days=8)
        )
        fresh = TicketFactory(
            tenant=world.tenant, status=S.RESOLVED, resolved_at=now - timedelta(days=6)
        )
        TicketSettings.objects.create(tenant=foreign.tenant, reopen_window_days=10)
        foreign_kept = TicketFactory(
            tenant=foreign.tenant, status=S.RESOLVED, resolved_at=now - timedelta(days=8)
        )
        foreign_due = TicketFactory(
            tenant=foreign.tenant, status=S.RESOLVED, resolved_at=now - timedelta(days=11)
        )
        assert services.tickets_close_resolved(now=now) == 2
        for ticket, status in [
            (due, S.CLOSED),
            (fresh, S.RESOLVED),
            (foreign_kept, S.RESOLVED),
            (foreign_due, S.CLOSED),
        ]:
            ticket.refresh_from_db()
            assert ticket.status == status
        event = TicketEvent.objects.for_tenant(world.tenant).get(ticket=due, field="status")
        assert (event.actor, event.actor_kind, event.new_value) == (None, "system", S.CLOSED)
        # A second sweep finds nothing left to do.
        assert services.tickets_close_resolved(now=now) == 0

    def test_the_beat_task_runs_the_sweep(self, world):
        from tickets.tasks import close_resolved_tickets

        TicketFactory(
            tenant=world.tenant,
            status=S.RESOLVED,
            resolved_at=timezone.now() - timedelta(days=30),
        )
        assert close_resolved_tickets.apply().get() == 1
