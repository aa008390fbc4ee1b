"""SLA clocks through a ticket's life: started by the ticket services,
paused, re-targeted, met, breached, swept and escalated."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from servicedesk.models import Role
from slo import escalations
from slo import services as sla
from slo.models import Clock, EscalationRun
from tests.slo.conftest import berlin
from tickets import services as tickets
from tickets.models import Notification, Ticket, TicketEvent

MONDAY_10 = berlin(2026, 11, 23, 10, 0)


def clocks_of(ticket: Ticket) -> dict[str, Clock]:
    return {
        clock.target: clock
        for clock in Clock.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket)
    }


def sla_log(ticket: Ticket) -> list[tuple[str, str]]:
    return list(
        TicketEvent.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket, action="sla")
        .order_by("created_at", "pk")
        .values_list("field", "new_value")
    )


def report(requester, when=MONDAY_10, **fields) -> Ticket:
    return tickets.ticket_create(
        actor=requester, kind="incident", title="VPN drops", now=when, **fields
    )


def assert_replay_agrees(ticket: Ticket, now) -> None:
    assert sla.clocks_recompute(ticket=ticket, now=now) == []


class TestStart:
    def test_a_new_ticket_gets_the_clocks_of_its_policy(
        self, requester, business_policy, urgent_policy
    ):
        ticket = report(requester)  # impact 3 × urgency 3: P5, the standard policy
        clocks = clocks_of(ticket)
        assert set(clocks) == {"first_response", "resolution"}
        first = clocks["first_response"]
        assert first.policy == business_policy
        assert first.state == "running"
        assert first.goal == timedelta(hours=8)
        # Monday 10:00–17:00 is 7 hours, Tuesday 09:00–10:00 the eighth.
        assert first.due_at == berlin(2026, 11, 24, 10, 0)
        # 80 % of 8 hours is 6 h 24 min: Monday 16:24.
        assert first.warn_at == berlin(2026, 11, 23, 16, 24)
        # 40 business hours is a calendar week.
        assert clocks["resolution"].due_at == berlin(2026, 11, 30, 10, 0)
        assert sla_log(ticket) == [
            ("first_response", "started"),
            ("resolution", "started"),
        ]

    def test_no_policy_no_clocks(self, requester, urgent_policy):
        ticket = report(requester)  # P5: the urgent policy is for P1–P2 only
        assert clocks_of(ticket) == {}
        assert sla_log(ticket) == []

    def test_the_first_matching_policy_applies(self, world, admin, requester, business_policy):
        vip = sla.policy_create(actor=admin, name="VIP", vip_only=True, first_response_minutes=30)
        sla.policy_move(actor=admin, policy=vip, offset=-1)
        sla.membership_set_sla_profile(
            actor=admin,
            membership=world.members[Role.REQUESTER],
            organisation="Board",
            is_vip=True,
        )
        ticket = report(requester)
        assert {t: c.policy_id for t, c in clocks_of(ticket).items()} == {"first_response": vip.pk}


class TestFirstResponse:
    def test_met_by_the_first_public_reply_of_an_agent(self, requester, agent, business_policy):
        ticket = report(requester)
        tickets.comment_add(
            actor=agent,
            ticket=ticket,
            body="On it",
            is_internal=True,
            now=MONDAY_10 + timedelta(minutes=5),
        )
        assert clocks_of(ticket)["first_response"].state == "running"
        tickets.comment_add(
            actor=requester, ticket=ticket, body="Still down", now=MONDAY_10 + timedelta(minutes=10)
        )
        assert clocks_of(ticket)["first_response"].state == "running"
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Restarting", now=MONDAY_10 + timedelta(minutes=30)
        )
        first = clocks_of(ticket)["first_response"]
        assert first.state == "met"
        assert first.stopped_at == MONDAY_10 + timedelta(minutes=30)
        assert first.used == timedelta(minutes=30)
        assert_replay_agrees(ticket, MONDAY_10 + timedelta(hours=1))

    def test_met_by_a_status_change_of_an_agent(self, requester, agent, business_policy):
        ticket = report(requester)
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="in_progress", now=MONDAY_10 + timedelta(hours=2)
        )
        assert clocks_of(ticket)["first_response"].state == "met"


class TestPauses:
    def test_pending_pauses_and_a_reply_resumes_across_a_weekend(
        self, requester, agent, urgent_policy
    ):
        friday_20 = berlin(2026, 11, 27, 20, 0)
        ticket = report(requester, when=friday_20, impact=1, urgency=2)  # P2
        assert ticket.priority == 2
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="in_progress", now=friday_20 + timedelta(minutes=5)
        )
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="pending", now=friday_20 + timedelta(hours=1)
        )
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "paused"
        assert resolution.used == timedelta(hours=1)
        assert resolution.due_at is None
        monday_9 = berlin(2026, 11, 30, 9, 0)
        tickets.comment_add(actor=requester, ticket=ticket, body="Tried that", now=monday_9)
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "running"
        assert resolution.paused_total == monday_9 - (friday_20 + timedelta(hours=1))
        # 4 hours on 24×7, 1 used before the pause: 3 left from Monday 09:00.
        assert resolution.due_at == berlin(2026, 11, 30, 12, 0)
        assert ("resolution", "paused") in sla_log(ticket)
        assert ("resolution", "resumed") in sla_log(ticket)
        assert_replay_agrees(ticket, monday_9 + timedelta(hours=1))


class TestRetargeting:
    def test_a_priority_change_keeps_the_time_used(
        self, requester, agent, business_policy, urgent_policy
    ):
        ticket = report(requester)
        noon = MONDAY_10 + timedelta(hours=2)
        tickets.ticket_update(
            actor=agent, ticket=ticket, priority=2, priority_reason="Whole floor", now=noon
        )
        clocks = clocks_of(ticket)
        resolution = clocks["resolution"]
        assert resolution.policy == urgent_policy
        assert resolution.goal == timedelta(hours=4)
        assert resolution.used == timedelta(hours=2)
        assert resolution.due_at == noon + timedelta(hours=2)
        # Two hours already used of a new 15-minute goal: due the moment it applied.
        first = clocks["first_response"]
        assert first.due_at == noon
        assert ("resolution", "re-targeted") in sla_log(ticket)
        sla.clocks_sweep(now=noon + timedelta(minutes=1))
        first = clocks_of(ticket)["first_response"]
        assert first.state == "breached"
        assert first.breached_at == noon
        assert_replay_agrees(ticket, noon + timedelta(minutes=5))

    def test_reassignment_does_not_touch_the_clocks(self, world, requester, agent, business_policy):
        ticket = report(requester)
        before = {t: (c.due_at, c.used, c.state) for t, c in clocks_of(ticket).items()}
        log = sla_log(ticket)
        tickets.ticket_update(
            actor=agent,
            ticket=ticket,
            assignee=world.user(Role.AGENT),
            now=MONDAY_10 + timedelta(hours=1),
        )
        tickets.ticket_update(
            actor=agent,
            ticket=ticket,
            assignee=world.user(Role.LEAD),
            now=MONDAY_10 + timedelta(hours=2),
        )
        assert {t: (c.due_at, c.used, c.state) for t, c in clocks_of(ticket).items()} == before
        assert sla_log(ticket) == log

    def test_a_policy_that_stops_applying_cancels_and_one_that_applies_again_resumes(
        self, requester, agent, business_policy
    ):
        ticket = report(requester)
        tickets.ticket_update(
            actor=agent,
            ticket=ticket,
            priority=1,
            priority_reason="Outage",
            now=MONDAY_10 + timedelta(hours=1),
        )
        assert {c.state for c in clocks_of(ticket).values()} == {"cancelled"}
        tickets.ticket_update(
            actor=agent,
            ticket=ticket,
            priority=5,
            priority_reason="False alarm",
            now=MONDAY_10 + timedelta(hours=3),
        )
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "running"
        assert resolution.used == timedelta(hours=1)
        assert_replay_agrees(ticket, MONDAY_10 + timedelta(hours=4))


class TestEnds:
    def test_resolved_in_time_is_met_and_reopening_resumes(self, requester, agent, business_policy):
        ticket = report(requester)
        noon = MONDAY_10 + timedelta(hours=2)
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="in_progress", now=MONDAY_10 + timedelta(hours=1)
        )
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="resolved", resolution_code="solved", now=noon
        )
        clocks = clocks_of(ticket)
        assert clocks["resolution"].state == "met"
        assert clocks["resolution"].used == timedelta(hours=2)
        assert clocks["first_response"].state == "met"
        tuesday_10 = berlin(2026, 11, 24, 10, 0)
        tickets.comment_add(actor=requester, ticket=ticket, body="Back again", now=tuesday_10)
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "running"
        assert resolution.stopped_at is None
        assert resolution.used == timedelta(hours=2)
        # 38 business hours left from Tuesday 10:00: 7 + 8 + 8 + 8 to Friday
        # evening, the last 7 on Monday from 09:00.
        assert resolution.due_at == berlin(2026, 11, 30, 16, 0)
        assert_replay_agrees(ticket, tuesday_10 + timedelta(hours=1))

    def test_resolved_late_is_breached_at_its_due_time(self, requester, agent, urgent_policy):
        ticket = report(requester, impact=1, urgency=1)  # P1: 4 hours round the clock
        due = clocks_of(ticket)["resolution"].due_at
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="in_progress", now=MONDAY_10 + timedelta(minutes=5)
        )
        tickets.ticket_transition(
            actor=agent,
            ticket=ticket,
            status="resolved",
            resolution_code="solved",
            now=MONDAY_10 + timedelta(hours=5),
        )
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "breached"
        assert resolution.breached_at == due
        assert resolution.stopped_at == MONDAY_10 + timedelta(hours=5)
        assert resolution.used == timedelta(hours=5)
        assert resolution.sweep_at is None

    def test_withdrawn_is_cancelled(self, requester, business_policy):
        ticket = report(requester)
        tickets.ticket_transition(
            actor=requester, ticket=ticket, status="cancelled", now=MONDAY_10 + timedelta(hours=1)
        )
        assert {c.state for c in clocks_of(ticket).values()} == {"cancelled"}


class TestNextResponse:
    def test_each_unanswered_requester_reply_is_a_new_cycle(
        self, requester, agent, business_policy
    ):
        ticket = report(requester)
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Which VPN?", now=MONDAY_10 + timedelta(minutes=10)
        )
        assert "next_response" not in clocks_of(ticket)
        tickets.comment_add(
            actor=requester,
            ticket=ticket,
            body="The office one",
            now=MONDAY_10 + timedelta(minutes=20),
        )
        tickets.comment_add(
            actor=requester, ticket=ticket, body="Hello?", now=MONDAY_10 + timedelta(minutes=50)
        )
        next_response = clocks_of(ticket)["next_response"]
        assert next_response.state == "running"
        assert next_response.cycle == 1
        # Counted from the first unanswered reply, not the nudge.
        assert next_response.started_at == MONDAY_10 + timedelta(minutes=20)
        assert next_response.due_at == MONDAY_10 + timedelta(hours=4, minutes=20)
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Fixed", now=MONDAY_10 + timedelta(hours=1)
        )
        assert clocks_of(ticket)["next_response"].state == "met"
        tickets.comment_add(
            actor=requester, ticket=ticket, body="Not fixed", now=MONDAY_10 + timedelta(hours=2)
        )
        next_response = clocks_of(ticket)["next_response"]
        assert (next_response.state, next_response.cycle) == ("running", 2)
        assert next_response.used == timedelta(0)
        assert_replay_agrees(ticket, MONDAY_10 + timedelta(hours=3))


@pytest.fixture
def escalating_policy(world, admin, urgent_policy):
    sla.escalation_create(
        actor=admin,
        policy=urgent_policy,
        trigger="warning",
        action="notify_team_lead",
        team=world.team,
    )
    sla.escalation_create(
        actor=admin,
        policy=urgent_policy,
        trigger="breach",
        target="resolution",
        action="raise_priority",
    )
    return urgent_policy


class TestSweeper:
    def test_warnings_and_breaches_escalate_exactly_once(self, world, requester, escalating_policy):
        ticket = report(requester, impact=2, urgency=1)  # P2: 15 min / 4 h round the clock
        lead = tickets.Actor.of(world.members[Role.LEAD])
        tickets.ticket_update(actor=lead, ticket=ticket, team=world.team, now=MONDAY_10)
        resolution = clocks_of(ticket)["resolution"]
        assert (
            resolution.sweep_at == resolution.warn_at == MONDAY_10 + timedelta(hours=3, minutes=12)
        )
        assert sla.clocks_sweep(now=MONDAY_10 + timedelta(minutes=1)).clocks == 0

        # First response: warned at 12 minutes, breached at 15.
        an_hour_in = MONDAY_10 + timedelta(hours=1)
        swept = sla.clocks_sweep(now=an_hour_in)
        assert (swept.clocks, swept.warnings, swept.breaches, swept.escalations) == (1, 1, 1, 1)
        assert escalations.escalations_run_pending(now=an_hour_in) == 1
        first = clocks_of(ticket)["first_response"]
        assert (first.warned_at, first.breached_at) == (
            MONDAY_10 + timedelta(minutes=12),
            MONDAY_10 + timedelta(minutes=15),
        )

        at_warning = MONDAY_10 + timedelta(hours=3, minutes=13)
        swept = sla.clocks_sweep(now=at_warning)
        assert (swept.clocks, swept.warnings, swept.breaches) == (1, 1, 0)
        assert escalations.escalations_run_pending(now=at_warning) == 1
        assert sla.clocks_sweep(now=at_warning).clocks == 0
        assert escalations.escalations_run_pending(now=at_warning) == 0
        lead_mail = Notification.objects.for_tenant(world.tenant).filter(
            ticket=ticket, reason="sla_warning", recipient=world.user(Role.LEAD).email
        )
        assert lead_mail.count() == 2
        resolution = clocks_of(ticket)["resolution"]
        assert (resolution.state, resolution.warned_at) == ("running", resolution.warn_at)
        assert resolution.sweep_at == resolution.due_at

        after_due = MONDAY_10 + timedelta(hours=4, minutes=1)
        for _ in range(3):
            sla.clocks_sweep(now=after_due)
            escalations.escalations_run_pending(now=after_due)
        ticket.refresh_from_db()
        assert ticket.priority == 1  # raised once, from P2
        assert EscalationRun.objects.for_tenant(world.tenant).count() == 3
        resolution = clocks_of(ticket)["resolution"]
        assert resolution.state == "breached"
        assert resolution.breached_at == MONDAY_10 + timedelta(hours=4)
        assert resolution.sweep_at is None
        log = sla_log(ticket)
        assert log.count(("resolution", "breached")) == 1
        assert log.count(("resolution", "warning threshold reached")) == 1
        assert log.count(("resolution", "escalated")) == 2
        assert log.count(("first_response", "escalated")) == 1

    def test_a_clock_stopped_before_its_due_time_escalates_nothing(
        self, world, admin, requester, urgent_policy
    ):
        sla.escalation_create(
            actor=admin,
            policy=urgent_policy,
            trigger="breach",
            action="reassign_team",
            team=world.team,
        )
        ticket = report(requester, impact=1, urgency=1)
        tickets.ticket_transition(
            actor=requester, ticket=ticket, status="cancelled", now=MONDAY_10 + timedelta(minutes=1)
        )
        assert sla.clocks_sweep(now=MONDAY_10 + timedelta(days=1)).clocks == 0
        assert not EscalationRun.objects.for_tenant(world.tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_do_everything_exactly_once(world, requester, escalating_policy):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    agent = tickets.Actor.of(world.members[Role.AGENT])
    with tickets.notifications_muted():
        opened = [
            tickets.ticket_create(
                actor=agent,
                kind="incident",
                title=f"Outage {n}",
                requester=world.user(Role.REQUESTER),
                team=world.team,
                impact=1,
                urgency=1,
                now=MONDAY_10 + timedelta(seconds=n),
            )
            for n in range(40)
        ]
    after_due = MONDAY_10 + timedelta(hours=5)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    swept: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            with tickets.notifications_muted():
                while (result := sla.clocks_sweep(now=after_due, batch=7)).clocks:
                    swept.append(result.clocks)
                escalations.escalations_run_pending(now=after_due)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    # Two clocks per ticket (first response, resolution), each marked once.
    assert sum(swept) == 80
    breaches = TicketEvent.objects.for_tenant(world.tenant).filter(
        action="sla", new_value="breached"
    )
    assert breaches.count() == 80
    runs = EscalationRun.objects.for_tenant(world.tenant)
    # Warning → notify the lead (both targets), breach → raise (resolution only).
    assert runs.count() == 40 * 3
    assert not runs.filter(done_at=None).exists()
    for ticket in Ticket.objects.for_tenant(world.tenant).filter(pk__in=[t.pk for t in opened]):
        assert ticket.priority == 1
    escalated = TicketEvent.objects.for_tenant(world.tenant).filter(
        action="sla", new_value="escalated"
    )
    assert escalated.count() == 120
