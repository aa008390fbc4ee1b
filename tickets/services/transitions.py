"""Moving a ticket along the workflow (``tickets.workflow``), the reopen
window, and the sweeper that closes resolved tickets once it passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from servicedesk.rls import tenant_context
from tickets import workflow
from tickets.hooks import Happened
from tickets.models import (
    OPEN_STATUSES,
    ActorKind,
    ResolutionCode,
    Status,
    Ticket,
    TicketSettings,
)
from tickets.selectors import ticket_settings
from tickets.services.actors import Actor, _require_same_tenant
from tickets.services.common import _clean_text, _publish, _record, _record_first_response, _touch
from tickets.services.notifications import notify
from tickets.services.watchers import _watchers

# --- Workflow ------------------------------------------------------------------------------


def _status_error(ticket: Ticket, target: str) -> ValidationError:
    allowed = workflow.allowed_next(ticket.kind, ticket.status)
    shown_allowed = ", ".join(allowed) if allowed else "none (the ticket is finished)"
    return ValidationError(
        {
            "status": f"{ticket.get_kind_display()} tickets cannot move from {ticket.status} "
            f"to {target}. "
            f"Allowed: {shown_allowed}."
        }
    )


def reopen_deadline(ticket: Ticket) -> datetime | None:
    """Until when a reply reopens the resolved ``ticket``."""
    if ticket.status != Status.RESOLVED or ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=ticket_settings(ticket.tenant_id).reopen_window_days)


def _move(
    ticket: Ticket,
    actor: Actor,
    target: str,
    *,
    now: datetime,
    resolution_code: str = "",
    resolution_notes: str = "",
    note: str = "",
) -> None:
    """Apply one allowed transition and its timestamps; record it."""
    old = ticket.status
    fields = ["status"]
    if target == Status.RESOLVED:
        ticket.resolved_at = now
        ticket.resolution_code = resolution_code
        ticket.resolution_notes = resolution_notes
        fields += ["resolved_at", "resolution_code", "resolution_notes"]
    elif target == Status.CLOSED or target == Status.CANCELLED:
        ticket.closed_at = now
        fields.append("closed_at")
    if old == Status.RESOLVED and target in OPEN_STATUSES:
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.resolution_code = ""
        fields += ["reopen_count", "resolved_at", "resolution_code"]
    responding = (
        actor.is_staff
        and actor.kind == ActorKind.USER
        and ticket.first_response_at is None
        and ticket.requester_id != getattr(actor.user, "pk", None)
    )
    if responding:
        # An agent moving the ticket is a response (the SLA counts it so).
        ticket.first_response_at = now
        fields.append("first_response_at")
    ticket.status = target
    _touch(ticket, now, *fields)
    if responding:
        _record_first_response(ticket, actor, now)
    action = "reopened" if old == Status.RESOLVED and target in OPEN_STATUSES else "changed"
    _record(ticket, actor, action, field="status", old=old, new=target, note=note, at=now)
    if target == Status.RESOLVED:
        _record(ticket, actor, "changed", field="resolution_code", new=resolution_code, at=now)
    if target in (Status.PENDING, Status.RESOLVED):
        notify(ticket, target, [ticket.requester, *_watchers(ticket)], exclude=actor.user)


@transaction.atomic
def ticket_transition(
    *,
    actor: Actor,
    ticket: Ticket,
    status: str,
    resolution_code: str = "",
    resolution_notes: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Move the ticket along the workflow.

    Agents may take any transition of the table. A requester may confirm a
    resolution (resolved → closed), reopen within the reopen window
    (resolved → in_progress) or withdraw an open ticket (→ cancelled).
    Resolving needs a resolution code.
    """
    _require_same_tenant(actor, ticket)
    now = now or timezone.now()
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status “{str(status)[:40]}”."})
    if not workflow.can_move(ticket.kind, ticket.status, status):
        raise _status_error(ticket, status)
    if not actor.is_staff:
        if ticket.requester_id != getattr(actor.user, "pk", None):
            raise PermissionDenied("Only the requester or an agent can do this.")
        allowed = {Status.CLOSED, Status.IN_PROGRESS, Status.CANCELLED}
        if status not in allowed or (
            status == Status.IN_PROGRESS and ticket.status != Status.RESOLVED
        ):
            raise ValidationError({"status": "Only an agent can make this change."})
        if status == Status.IN_PROGRESS:
            deadline = reopen_deadline(ticket)
            if deadline is not None and now > deadline:
                raise ValidationError(
                    {"status": "The reopen window has passed; please open a new ticket."}
                )
    if status == Status.RESOLVED:
        if resolution_code not in ResolutionCode.values:
            raise ValidationError(
                {
                    "resolution_code": "Choose a resolution code: "
                    + ", ".join(ResolutionCode.values)
                    + "."
                }
            )
        resolution_notes = _clean_text("resolution_notes", resolution_notes)
    old_status = ticket.status
    _move(
        ticket,
        actor,
        status,
        now=now,
        resolution_code=resolution_code,
        resolution_notes=resolution_notes,
        note=_clean_text("note", note),
    )
    _publish(
        ticket,
        actor,
        Happened.TRANSITIONED,
        fields=frozenset({"status"}),
        old_status=old_status,
        new_status=status,
    )
    return ticket


@transaction.atomic
def ticket_close_if_due(*, ticket_id: int, tenant_id: int, now: datetime | None = None) -> bool:
    """Close one resolved ticket whose reopen window has passed. Locks the
    row and re-checks, so a second sweeper or a racing reply wins cleanly."""
    now = now or timezone.now()
    ticket = (
        Ticket.objects.for_tenant(tenant_id)
        .select_for_update(skip_locked=True)
        .filter(pk=ticket_id, status=Status.RESOLVED)
        .first()
    )
    if ticket is None:
        return False
    deadline = reopen_deadline(ticket)
    if deadline is None or deadline > now:
        return False
    closer = Actor.system(tenant_id, "auto-close")
    _move(ticket, closer, Status.CLOSED, now=now, note="The reopen window passed.")
    _publish(
        ticket,
        closer,
        Happened.TRANSITIONED,
        fields=frozenset({"status"}),
        old_status=Status.RESOLVED,
        new_status=Status.CLOSED,
    )
    return True


def tickets_close_resolved(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Sweeper: close every resolved ticket past its tenant's reopen window.

    One query finds them across tenants (the partial index on resolved
    tickets keeps it cheap however many tenants there are); each ticket is
    then closed inside its own tenant's wall."""
    now = now or timezone.now()
    default_window = TicketSettings._meta.get_field("reopen_window_days").default
    custom = dict(TicketSettings.objects.unscoped().values_list("tenant_id", "reopen_window_days"))
    past_window = Q(resolved_at__lte=now - timedelta(days=default_window)) & ~Q(
        tenant_id__in=list(custom)
    )
    for tenant_id, days in custom.items():
        past_window |= Q(tenant_id=tenant_id, resolved_at__lte=now - timedelta(days=days))
    due = (
        Ticket.objects.unscoped()
        .filter(past_window, status=Status.RESOLVED, tenant__is_active=True)
        .order_by("tenant_id", "pk")
        .values_list("tenant_id", "pk")[:batch]
    )
    closed = 0
    for tenant_id, ticket_id in due:
        with tenant_context(tenant_id):
            closed += ticket_close_if_due(ticket_id=ticket_id, tenant_id=tenant_id, now=now)
    return closed
