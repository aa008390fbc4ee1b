"""The desk's bulk actions: one change applied to many tickets, each through
its own service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from servicedesk.models import User
from tickets.models import Ticket
from tickets.services.actors import Actor, _require_staff
from tickets.services.fields import ticket_add_tag, ticket_assign, ticket_update
from tickets.services.relations import ticket_merge
from tickets.services.transitions import ticket_transition

# --- Bulk ------------------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "priority", "tag", "merge")


@dataclass(frozen=True)
class BulkChange:
    action: str
    assignee: User | None = None
    status: str = ""
    resolution_code: str = ""
    priority: int | None = None
    priority_reason: str = ""
    tag: str = ""
    target: Ticket | None = None


@transaction.atomic
def tickets_bulk_update(*, actor: Actor, tickets: Sequence[Ticket], change: BulkChange) -> int:
    """Apply one change to every ticket of a selection, all or nothing: the
    first ticket that refuses rolls the whole selection back, and the error
    names it."""
    _require_staff(actor)
    if not tickets:
        raise ValidationError({"tickets": "Select at least one ticket."})
    done = 0
    for ticket in sorted(tickets, key=lambda t: t.pk):
        try:
            if change.action == "assign":
                ticket_assign(actor=actor, ticket=ticket, assignee=change.assignee)
            elif change.action == "status":
                ticket_transition(
                    actor=actor,
                    ticket=ticket,
                    status=change.status,
                    resolution_code=change.resolution_code,
                )
            elif change.action == "priority":
                ticket_update(
                    actor=actor,
                    ticket=ticket,
                    priority=change.priority,
                    priority_reason=change.priority_reason,
                )
            elif change.action == "tag":
                ticket_add_tag(actor=actor, ticket=ticket, tag=change.tag)
            elif change.action == "merge":
                if change.target is None:
                    raise ValidationError({"target": "Name the ticket to merge into."})
                if ticket.pk == change.target.pk:
                    continue
                ticket_merge(actor=actor, source=ticket, target=change.target)
            else:
                raise ValidationError({"action": f"Choose one of: {', '.join(BULK_ACTIONS)}."})
        except ValidationError as error:
            messages = [f"{ticket.key}: {m}" for m in error.messages]
            raise ValidationError(messages) from error
        done += 1
    return done
