"""Changing a ticket's fields: assignee, team, category, impact, urgency,
priority (with the override rule), tags, confidentiality, title and
description."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicedesk.models import User
from tickets.hooks import Happened
from tickets.models import (
    Priority,
    Ticket,
)
from tickets.selectors import ticket_settings
from tickets.services.actors import Actor, _require_same_tenant, _require_staff
from tickets.services.common import (
    _active_member,
    _check_category,
    _check_team,
    _clean_level,
    _clean_text,
    _clean_title,
    _publish,
    _record,
    _set_tags,
    _touch,
    clean_tag_names,
)
from tickets.services.notifications import notify
from tickets.services.watchers import _grant_confidential

# --- Field changes -----------------------------------------------------------------------


EDITABLE_FIELDS = (
    "title",
    "description",
    "impact",
    "urgency",
    "assignee",
    "team",
    "category",
    "is_confidential",
    "kind",
)


@transaction.atomic
def ticket_update(
    *,
    actor: Actor,
    ticket: Ticket,
    priority: int | None = None,
    priority_reason: str = "",
    tags: Sequence[str] | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> Ticket:
    """Change the ticket's fields; one event per field that actually changed.

    Impact and urgency recompute the priority from the matrix unless an agent
    overrode it; ``priority`` overrides the matrix and needs a reason.
    """
    _require_staff(actor)
    _require_same_tenant(actor, ticket)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    now = now or timezone.now()
    if "title" in changes:
        changes["title"] = _clean_title(changes["title"])
    if "description" in changes:
        changes["description"] = _clean_text("description", changes["description"])
    for level in ("impact", "urgency"):
        if level in changes:
            changes[level] = _clean_level(level, changes[level])
    if "kind" in changes and changes["kind"] != ticket.kind:
        # The number belongs to the kind; a different kind is a different ticket.
        raise ValidationError({"kind": "The kind of a ticket cannot change; open a new one."})
    changes.pop("kind", None)
    if "assignee" in changes:
        _active_member(ticket.tenant_id, changes["assignee"], "assignee", staff=True)
    if "team" in changes:
        _check_team(ticket.tenant_id, changes["team"])
    if "category" in changes:
        _check_category(ticket.tenant_id, changes["category"])
    if "is_confidential" in changes:
        changes["is_confidential"] = bool(changes["is_confidential"])

    changed: list[str] = []
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old == value:
            continue
        setattr(ticket, name, value)
        changed.append(name)
        _record(ticket, actor, "changed", field=name, old=old, new=value, at=now)

    matrix_priority = ticket_settings(ticket.tenant_id).priority_for(ticket.impact, ticket.urgency)
    if priority is not None:
        try:
            priority = int(priority)
        except (TypeError, ValueError):
            priority = 0
        if priority not in Priority.values:
            raise ValidationError({"priority": "Choose a priority from 1 (critical) to 5."})
        reason = " ".join((priority_reason or "").split())[:300]
        if priority != matrix_priority and not reason:
            raise ValidationError(
                {"priority_reason": "Say why the priority differs from impact × urgency."}
            )
        override = reason if priority != matrix_priority else ""
        if priority != ticket.priority or override != ticket.priority_override_reason:
            _record(
                ticket,
                actor,
                "changed",
                field="priority",
                old=ticket.priority,
                new=priority,
                note=override,
                at=now,
            )
            ticket.priority = priority
            ticket.priority_override_reason = override
            changed += ["priority", "priority_override_reason"]
    elif (
        ("impact" in changed or "urgency" in changed)
        and not ticket.priority_override_reason
        and ticket.priority != matrix_priority
    ):
        # Re-rated: the matrix decides again. Other edits leave the priority
        # alone, even when the tenant's matrix changed since it was set.
        _record(
            ticket,
            actor,
            "changed",
            field="priority",
            old=ticket.priority,
            new=matrix_priority,
            note="impact × urgency",
            at=now,
        )
        ticket.priority = matrix_priority
        changed.append("priority")

    if tags is not None:
        added, removed = _set_tags(ticket, clean_tag_names(tags))
        if added or removed:
            _record(
                ticket,
                actor,
                "changed",
                field="tags",
                old=" ".join(removed),
                new=" ".join(added),
                at=now,
            )
            changed.append("tags")

    if not changed:
        return ticket
    model_fields = [f for f in changed if f != "tags"]
    _touch(ticket, now, *model_fields)
    _publish(ticket, actor, Happened.UPDATED, fields=frozenset(changed))
    if "is_confidential" in changed and ticket.is_confidential:
        _grant_confidential(ticket, [u for u in (actor.user, ticket.assignee) if u is not None])
    if "assignee" in changed and ticket.assignee is not None:
        if ticket.is_confidential:
            _grant_confidential(ticket, [ticket.assignee])
        if ticket.assignee != actor.user:
            notify(ticket, "assigned", [ticket.assignee], exclude=None)
    return ticket


def ticket_assign(*, actor: Actor, ticket: Ticket, assignee: User | None) -> Ticket:
    return ticket_update(actor=actor, ticket=ticket, assignee=assignee)


def ticket_add_tag(*, actor: Actor, ticket: Ticket, tag: str) -> Ticket:
    from tickets.selectors import ticket_tags  # read inside the write

    return ticket_update(actor=actor, ticket=ticket, tags=[*ticket_tags(ticket=ticket), tag])
