"""Escalations: what a policy does when a clock warns or breaches.

The sweeper (``slo.services.clocks_sweep``) writes one ``EscalationRun`` per
escalation and clock cycle, in the transaction that marks the clock; this
module carries the runs out, each in its own transaction with the run row
locked, and marks them done. A run that fails stays pending and is tried
again by the next sweep; a run already done is skipped, so nothing happens
twice. Ticket changes go through the tickets services as an automation, so
they are audited like any other change and move the clocks as they should.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from servicedesk.rls import tenant_context
from slo.models import Clock, EscalationAction, EscalationRun, Target, Trigger
from slo.services import sla_event
from tickets import services as ticket_services
from tickets.models import Priority, Ticket

logger = logging.getLogger(__name__)

REASONS = {Trigger.WARNING: "sla_warning", Trigger.BREACH: "sla_breach"}


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return str(error)


def _describe(clock: Clock, trigger: str) -> str:
    target = Target(clock.target).label.lower()
    if trigger == Trigger.WARNING:
        due = clock.due_at.isoformat(timespec="minutes") if clock.due_at else "paused"
        return f"{target} is due {due}"
    when = clock.breached_at.isoformat(timespec="minutes") if clock.breached_at else "now"
    return f"{target} was due {when}"


@transaction.atomic
def escalation_run(*, run_id: int, tenant_id: int, now: datetime | None = None) -> bool:
    """Carry out one pending escalation run; ``False`` when another worker
    has it or it is done."""
    now = now or timezone.now()
    run = (
        EscalationRun.objects.for_tenant(tenant_id)
        # Only the run's row: its escalation is shared by every run of it.
        .select_for_update(skip_locked=True, of=("self",))
        .filter(pk=run_id, done_at=None)
        .select_related("escalation", "clock")
        .first()
    )
    if run is None:
        return False
    escalation, clock = run.escalation, run.clock
    ticket = (
        Ticket.objects.for_tenant(tenant_id).select_related("team__lead").get(pk=clock.ticket_id)
    )
    actor = ticket_services.Actor.automation(tenant_id, "SLA escalation")
    detail = _describe(clock, run.trigger)
    outcome: str
    if not ticket.is_open:
        outcome = f"skipped: {ticket.key} is {ticket.status}"
    elif escalation.action == EscalationAction.NOTIFY_TEAM_LEAD:
        team = escalation.team or ticket.team
        lead = team.lead if team is not None else None
        if lead is None:
            outcome = "skipped: no team lead to notify"
        else:
            ticket_services.notify(
                ticket, REASONS[run.trigger], [lead], exclude=None, detail=detail
            )
            outcome = f"notified {lead.email}"
    elif escalation.action == EscalationAction.NOTIFY_USERS:
        people = list(escalation.users.all())
        ticket_services.notify(ticket, REASONS[run.trigger], people, exclude=None, detail=detail)
        outcome = "notified " + ", ".join(sorted(p.email for p in people))
    elif escalation.action == EscalationAction.REASSIGN_TEAM:
        try:
            ticket_services.ticket_update(actor=actor, ticket=ticket, team=escalation.team, now=now)
            outcome = f"reassigned to {escalation.team.name if escalation.team else 'no team'}"
        except (ValidationError, PermissionDenied) as error:
            outcome = f"failed: {_message(error)}"
    elif ticket.priority <= Priority.CRITICAL:
        outcome = "skipped: already the highest priority"
    else:  # raise the priority one step
        raised = ticket.priority - 1
        try:
            ticket_services.ticket_update(
                actor=actor,
                ticket=ticket,
                priority=raised,
                priority_reason=f"SLA {run.trigger}: {detail}",
                now=now,
            )
            outcome = f"priority raised to P{raised}"
        except (ValidationError, PermissionDenied) as error:
            outcome = f"failed: {_message(error)}"
    run.done_at = now
    run.outcome = outcome[:300]
    run.save(update_fields=["done_at", "outcome"])
    sla_event(
        ticket,
        tenant_id,
        clock.target,
        "escalated",
        now,
        note=f"{escalation}: {outcome}",
    ).save()
    return True


def escalations_run_pending(*, now: datetime | None = None, limit: int = 200) -> int:
    """Carry out the pending runs, oldest first, each in its tenant's wall."""
    pending = (
        EscalationRun.objects.unscoped()
        .filter(done_at=None)
        .order_by("fired_at", "pk")
        .values_list("pk", "tenant_id")[:limit]
    )
    done = 0
    for run_id, tenant_id in pending:
        with tenant_context(tenant_id):
            try:
                done += escalation_run(run_id=run_id, tenant_id=tenant_id, now=now)
            except Exception:
                # Left pending for the next sweep; the others still run.
                logger.exception("SLA escalation run %s failed", run_id)
    return done
