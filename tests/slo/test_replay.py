"""Replay: clocks recomputed from a ticket's event log equal the clocks kept
live by the ticket services and the sweeper, for random ticket histories;
and ``recompute_sla`` records what moved when a calendar changed late."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.models import Role
from slo import services as sla
from slo.models import Clock
from tests.slo.conftest import WEEKDAYS_9_TO_5, berlin
from tickets import services as tickets
from tickets.models import Ticket, TicketEvent
from tickets.selectors import ticket_tags

START = berlin(2026, 11, 23, 8, 30)

STEPS = st.one_of(
    st.tuples(st.just("agent_reply"), st.none()),
    st.tuples(st.just("requester_reply"), st.none()),
    st.tuples(st.just("internal_note"), st.none()),
    st.tuples(st.sampled_from(["in_progress", "pending", "known_error"]), st.none()),
    st.tuples(st.just("resolve"), st.none()),
    st.tuples(st.just("cancel"), st.none()),
    st.tuples(st.just("priority"), st.integers(1, 5)),
    st.tuples(st.just("team"), st.booleans()),
    st.tuples(st.just("tag"), st.sampled_from(["vpn", "wifi"])),
    st.tuples(st.just("sweep"), st.none()),
)
HISTORIES = st.lists(
    st.tuples(st.integers(min_value=1, max_value=36 * 60), STEPS), min_size=1, max_size=14
)


@pytest.fixture
def policies(world, admin, business_policy, urgent_policy):
    """Three policies: a team's own (first, round the clock, pausing on
    known errors too), then urgent and standard."""
    team_policy = sla.policy_create(
        actor=admin,
        name="Squad P3",
        priorities=[3],
        team=world.team,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=600,
        warning_percent=50,
        pause_statuses=["pending", "known_error"],
    )
    for _ in range(2):
        sla.policy_move(actor=admin, policy=team_policy, offset=-1)
    return [team_policy, urgent_policy, business_policy]


def play(world, ticket: Ticket, step: tuple[str, object], now) -> None:
    agent = tickets.Actor.of(world.members[Role.AGENT])
    requester = tickets.Actor.of(world.members[Role.REQUESTER])
    action, value = step
    if action == "agent_reply":
        tickets.comment_add(actor=agent, ticket=ticket, body="Try this", now=now)
    elif action == "requester_reply":
        tickets.comment_add(actor=requester, ticket=ticket, body="Still broken", now=now)
    elif action == "internal_note":
        tickets.comment_add(actor=agent, ticket=ticket, body="Hm", is_internal=True, now=now)
    elif action in ("in_progress", "pending", "known_error"):
        tickets.ticket_transition(actor=agent, ticket=ticket, status=action, now=now)
    elif action == "resolve":
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="resolved", resolution_code="solved", now=now
        )
    elif action == "cancel":
        tickets.ticket_transition(actor=agent, ticket=ticket, status="cancelled", now=now)
    elif action == "priority":
        tickets.ticket_update(
            actor=agent, ticket=ticket, priority=value, priority_reason="Re-rated", now=now
        )
    elif action == "team":
        tickets.ticket_update(
            actor=agent, ticket=ticket, team=world.team if value else None, now=now
        )
    elif action == "tag":
        tags = [*ticket_tags(ticket=ticket), str(value)]
        tickets.ticket_update(actor=agent, ticket=ticket, tags=tags, now=now)
    else:
        sla.clocks_sweep(now=now)


def stored(ticket: Ticket) -> dict[str, tuple]:
    return {
        clock.target: (
            clock.state,
            clock.policy_id,
            clock.goal,
            clock.started_at,
            clock.cycle,
            clock.used,
            clock.running_since,
            clock.paused_at,
            clock.paused_total,
            clock.due_at,
            clock.breached_at,
            clock.stopped_at,
        )
        for clock in Clock.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket)
    }


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=HISTORIES, impact=st.integers(1, 3), urgency=st.integers(1, 3))
def test_replay_equals_the_clocks_kept_live(world, policies, history, impact, urgency):
    requester = tickets.Actor.of(world.members[Role.REQUESTER])
    now = START
    with tickets.notifications_muted():
        ticket = tickets.ticket_create(
            actor=requester,
            kind="incident",
            title="Random history",
            impact=impact,
            urgency=urgency,
            now=now,
        )
        for minutes, step in history:
            now += timedelta(minutes=minutes)
            try:
                play(world, ticket, step, now)
            except (ValidationError, PermissionDenied):
                continue  # a move the workflow refuses writes nothing
            ticket.refresh_from_db()
    until = now + timedelta(minutes=7)
    live_before = stored(ticket)
    moved = sla.clocks_recompute(ticket=ticket, now=until)
    assert moved == [], (history, moved)
    # Replay changed nothing but what time itself did (warnings and breaches
    # that came due by ``until``).
    after = stored(ticket)
    assert set(after) == set(live_before)
    for target, values in after.items():
        assert values[1:10] == live_before[target][1:10]
        assert values[11] == live_before[target][11]


def test_a_holiday_added_late_moves_running_clocks_and_says_so(
    world, admin, requester, office_hours, business_policy
):
    ticket = tickets.ticket_create(
        actor=tickets.Actor.of(world.members[Role.REQUESTER]),
        kind="incident",
        title="Printer",
        now=berlin(2026, 11, 23, 10, 0),
    )
    resolution = Clock.objects.for_tenant(world.tenant).get(ticket=ticket, target="resolution")
    assert resolution.due_at == berlin(2026, 11, 30, 10, 0)
    sla.calendar_update(
        actor=admin,
        calendar=office_hours,
        name=office_hours.name,
        timezone_name=office_hours.timezone,
        hours=WEEKDAYS_9_TO_5,
        holidays=[*office_hours.holidays, {"date": "2026-11-25", "name": "Works outing"}],
    )
    # Nothing moves by itself: the clock keeps its due time until replayed.
    resolution.refresh_from_db()
    assert resolution.due_at == berlin(2026, 11, 30, 10, 0)

    # An hour after the ticket came in: every clock still running, none near
    # its warning, whatever the date the suite runs on.
    replayed_at = berlin(2026, 11, 23, 11, 0).isoformat()
    out = StringIO()
    call_command("recompute_sla", tenant=world.tenant.slug, now=replayed_at, stdout=out)
    report = out.getvalue()
    assert f"{ticket.key} resolution: running due 2026-11-30T09:00+00:00 -> running due " in report
    assert "2026-12-01T09:00+00:00" in report
    assert "1 tickets replayed" in report or "tickets replayed" in report
    resolution.refresh_from_db()
    assert resolution.due_at == berlin(2026, 12, 1, 10, 0)
    recomputed = TicketEvent.objects.for_tenant(world.tenant).get(
        ticket=ticket, action="sla", new_value__startswith="running, due 2026-12-01"
    )
    assert recomputed.old_value.startswith("running, due 2026-11-30")
    # Replaying again finds nothing to move.
    out = StringIO()
    call_command("recompute_sla", tenant=world.tenant.slug, now=replayed_at, stdout=out)
    assert "0 clocks moved" in out.getvalue()


def test_a_changed_policy_keeps_the_time_used_and_the_pauses_taken(
    world, admin, agent, requester, urgent_policy
):
    opened = berlin(2026, 11, 23, 10, 0)
    ticket = tickets.ticket_create(
        actor=requester, kind="incident", title="Mail down", impact=1, urgency=2, now=opened
    )
    tickets.ticket_transition(
        actor=agent, ticket=ticket, status="in_progress", now=opened + timedelta(minutes=10)
    )
    tickets.ticket_transition(
        actor=agent, ticket=ticket, status="pending", now=opened + timedelta(hours=1)
    )
    tickets.comment_add(
        actor=requester, ticket=ticket, body="Answer", now=opened + timedelta(hours=3)
    )
    sla.policy_update(
        actor=admin,
        policy=urgent_policy,
        name=urgent_policy.name,
        priorities=[1, 2],
        first_response_minutes=15,
        resolution_minutes=120,
    )
    moved = sla.clocks_recompute(ticket=ticket, now=opened + timedelta(hours=3, minutes=30))
    assert [(m.target, m.new_due) for m in moved] == [
        # 1 hour used before the two-hour pause; 1 hour left of the new 2.
        ("resolution", opened + timedelta(hours=4)),
    ]
    resolution = Clock.objects.for_tenant(world.tenant).get(ticket=ticket, target="resolution")
    assert resolution.used == timedelta(hours=1)
    assert resolution.paused_total == timedelta(hours=2)


def test_the_command_refuses_unknown_tenants_and_bad_dates(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant"):
        call_command("recompute_sla", tenant="nobody")
    with pytest.raises(CommandError, match="--since"):
        call_command("recompute_sla", tenant=world.tenant.slug, since="last tuesday")
    with pytest.raises(CommandError, match="--now"):
        call_command("recompute_sla", tenant=world.tenant.slug, now="tomorrow")
