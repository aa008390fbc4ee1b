"""Links between tickets (parent, problem, change) and merging a duplicate into
its original."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tickets.hooks import Happened
from tickets.models import (
    Attachment,
    ChangeLink,
    Comment,
    ResolutionCode,
    Status,
    Ticket,
    TicketKind,
    Watcher,
)
from tickets.services.actors import Actor, _require_same_tenant, _require_staff
from tickets.services.common import (
    REQUESTER_KINDS,
    _files_removed_on_error,
    _publish,
    _record,
    _touch,
)
from tickets.services.notifications import notify

# --- Links and merges -----------------------------------------------------------------------

LINK_RELATIONS = ("parent", "problem", "change")


def _same_tenant_ticket(ticket: Ticket, other: Ticket, field: str) -> None:
    if other.tenant_id != ticket.tenant_id:
        raise ValidationError({field: "No such ticket."})
    if other.pk == ticket.pk:
        raise ValidationError({field: "A ticket cannot be linked to itself."})


@transaction.atomic
def ticket_link(
    *, actor: Actor, ticket: Ticket, relation: str, other: Ticket, now: datetime | None = None
) -> Ticket:
    """Link ``ticket`` to ``other``:

    * ``parent``: ``other`` becomes the parent of ``ticket`` (no cycles);
    * ``problem``: the incident or request ``ticket`` is caused by problem ``other``;
    * ``change``: the change ``ticket`` fixes ``other`` (or the other way round).
    """
    _require_staff(actor)
    _require_same_tenant(actor, ticket)
    _same_tenant_ticket(ticket, other, "other")
    now = now or timezone.now()
    if relation == "parent":
        ancestor: Ticket | None = other
        for _ in range(100):
            if ancestor is None:
                break
            if ancestor.pk == ticket.pk:
                raise ValidationError({"other": "That would make the ticket its own ancestor."})
            ancestor = (
                Ticket.objects.for_tenant(ticket.tenant_id).filter(pk=ancestor.parent_id).first()
                if ancestor.parent_id
                else None
            )
        old = ticket.parent
        ticket.parent = other
        _touch(ticket, now, "parent")
        _record(ticket, actor, "linked", field="parent", old=old and old.key, new=other.key, at=now)
    elif relation == "problem":
        if ticket.kind not in REQUESTER_KINDS or other.kind != TicketKind.PROBLEM:
            raise ValidationError({"other": "Link an incident or request to a problem."})
        old = ticket.problem
        ticket.problem = other
        _touch(ticket, now, "problem")
        _record(
            ticket, actor, "linked", field="problem", old=old and old.key, new=other.key, at=now
        )
        _record(other, actor, "linked", field="incident", new=ticket.key, at=now)
        _touch(other, now)
    elif relation == "change":
        change, fixed = (ticket, other) if ticket.kind == TicketKind.CHANGE else (other, ticket)
        if change.kind != TicketKind.CHANGE or fixed.kind == TicketKind.CHANGE:
            raise ValidationError({"other": "Link a change to an incident, request or problem."})
        ChangeLink.objects.for_tenant(ticket.tenant_id).get_or_create(
            tenant_id=ticket.tenant_id, from_ticket=change, to_ticket=fixed
        )
        _record(change, actor, "linked", field="fixes", new=fixed.key, at=now)
        _record(fixed, actor, "linked", field="change", new=change.key, at=now)
        _touch(change, now)
        _touch(fixed, now)
    else:
        raise ValidationError({"relation": f"Choose one of: {', '.join(LINK_RELATIONS)}."})
    _publish(ticket, actor, Happened.LINKED, fields=frozenset({relation}), other_ticket_id=other.pk)
    return ticket


@transaction.atomic
def ticket_unlink(*, actor: Actor, ticket: Ticket, relation: str, other: Ticket) -> Ticket:
    _require_staff(actor)
    _require_same_tenant(actor, ticket)
    _same_tenant_ticket(ticket, other, "other")
    if relation == "parent" and ticket.parent_id == other.pk:
        ticket.parent = None
        _touch(ticket, None, "parent")
        _record(ticket, actor, "unlinked", field="parent", old=other.key)
    elif relation == "problem" and ticket.problem_id == other.pk:
        ticket.problem = None
        _touch(ticket, None, "problem")
        _record(ticket, actor, "unlinked", field="problem", old=other.key)
    elif relation == "change":
        removed, _ = (
            ChangeLink.objects.for_tenant(ticket.tenant_id)
            .filter(from_ticket__in=[ticket, other], to_ticket__in=[ticket, other])
            .delete()
        )
        if removed:
            _record(ticket, actor, "unlinked", field="change", old=other.key)
            _touch(ticket)
    else:
        raise ValidationError({"relation": "These tickets are not linked that way."})
    _publish(ticket, actor, Happened.LINKED, fields=frozenset({relation}), other_ticket_id=other.pk)
    return ticket


@_files_removed_on_error()
@transaction.atomic
def ticket_merge(
    *, actor: Actor, source: Ticket, target: Ticket, now: datetime | None = None
) -> Ticket:
    """Merge the duplicate ``source`` into ``target``: its comments, files
    and watchers move over (its requester starts watching the target), and
    the duplicate is closed as such. Returns the target."""
    _require_staff(actor)
    _require_same_tenant(actor, source)
    _same_tenant_ticket(source, target, "target")
    first, second = sorted([source.pk, target.pk])
    locked = {
        t.pk: t
        for t in Ticket.objects.for_tenant(source.tenant_id)
        .select_for_update()
        .filter(pk__in=[first, second])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationError({"source": f"{source.key} is already {source.status}."})
    if target.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationError(
            {"target": f"{target.key} is {target.status}; merge into an open ticket."}
        )
    if target.duplicate_of_id == source.pk:
        raise ValidationError({"target": f"{target.key} is itself a duplicate of {source.key}."})
    now = now or timezone.now()
    tenant_id = source.tenant_id
    moved_comments = (
        Comment.objects.for_tenant(tenant_id)
        .filter(ticket=source)
        .update(ticket=target, moved_from=source.key)
    )
    moved_files = (
        Attachment.objects.for_tenant(tenant_id).filter(ticket=source).update(ticket=target)
    )
    already = set(
        Watcher.objects.for_tenant(tenant_id)
        .filter(ticket=target)
        .values_list("user_id", flat=True)
    )
    newcomers = (
        {
            *Watcher.objects.for_tenant(tenant_id)
            .filter(ticket=source)
            .values_list("user_id", flat=True),
            source.requester_id,
        }
        - already
        - {target.requester_id}
    )
    Watcher.objects.bulk_create(
        [Watcher(tenant_id=tenant_id, ticket=target, user_id=uid) for uid in sorted(newcomers)]
    )
    source.duplicate_of = target
    source.resolution_code = ResolutionCode.DUPLICATE
    source.closed_at = now
    old_status = source.status
    source.status = Status.CLOSED
    _touch(source, now, "duplicate_of", "resolution_code", "closed_at", "status")
    moved = f"{moved_comments} comments and {moved_files} files moved to {target.key}."
    _record(source, actor, "merged", field="duplicate_of", new=target.key, at=now, note=moved)
    _record(source, actor, "changed", field="status", old=old_status, new=Status.CLOSED, at=now)
    _record(
        target,
        actor,
        "merged",
        field="duplicates",
        new=source.key,
        at=now,
        note=f"{moved_comments} comments, {moved_files} files and "
        f"{len(newcomers)} watchers came from {source.key}.",
    )
    _touch(target, now)
    _publish(source, actor, Happened.MERGED, other_ticket_id=target.pk)
    notify(source, "merged", [source.requester], exclude=actor.user, other=target)
    return target
