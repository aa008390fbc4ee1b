"""Opening a ticket: its per-tenant number from a locked counter row, its
priority from the matrix, its first events and mails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from typing import IO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from servicedesk.models import Team, User
from tickets.hooks import Happened
from tickets.models import (
    Category,
    Level,
    Source,
    Ticket,
    TicketCounter,
    TicketKind,
)
from tickets.selectors import ticket_settings
from tickets.services.actors import Actor
from tickets.services.common import (
    REQUESTER_KINDS,
    _active_member,
    _check_category,
    _check_team,
    _clean_level,
    _clean_text,
    _clean_title,
    _files_removed_on_error,
    _publish,
    _record,
    _set_tags,
    clean_tag_names,
)
from tickets.services.files import _store_attachment
from tickets.services.notifications import _mail_domain, notify
from tickets.services.watchers import _grant_confidential

# --- Numbers ---------------------------------------------------------------------------


def _next_number(tenant_id: int, kind: str) -> int:
    """The next number of ``kind`` in the tenant. The counter row is locked
    by the UPDATE until the transaction ends, so concurrent creations queue
    on it and get consecutive, distinct numbers; RETURNING hands the number
    back in the same statement."""
    increment = (
        f"UPDATE {TicketCounter._meta.db_table} SET last_number = last_number + 1 "  # noqa: S608  # table name from the model, values bound
        "WHERE tenant_id = %s AND kind = %s RETURNING last_number"
    )
    with connection.cursor() as cursor:
        cursor.execute(increment, [tenant_id, kind])
        row = cursor.fetchone()
        if row is None:
            # First ticket of this kind: create the row (a racing creator
            # loses on the unique constraint, inside get_or_create's savepoint).
            TicketCounter.objects.for_tenant(tenant_id).get_or_create(
                tenant_id=tenant_id, kind=kind
            )
            cursor.execute(increment, [tenant_id, kind])
            row = cursor.fetchone()
    return int(row[0])


# --- Creation ----------------------------------------------------------------------------


@_files_removed_on_error()
@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    kind: str,
    title: str,
    description: str = "",
    impact: int = Level.LOW,
    urgency: int = Level.LOW,
    requester: User | None = None,
    assignee: User | None = None,
    team: Team | None = None,
    category: Category | None = None,
    tags: Sequence[str] = (),
    is_confidential: bool = False,
    source: str = Source.PORTAL,
    files: Sequence[IO[bytes]] = (),
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket: number it, set its priority from the tenant's matrix,
    record "created", and tell the requester."""
    now = now or timezone.now()
    tenant_id = actor.tenant_id
    if kind not in TicketKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(TicketKind.values)}."})
    if not actor.is_staff:
        # Requesters report for themselves, and only incidents and requests.
        if kind not in REQUESTER_KINDS:
            raise ValidationError({"kind": "You can report incidents and requests."})
        if requester is not None and requester != actor.user:
            raise ValidationError({"requester": "You can only report for yourself."})
        if assignee is not None or team is not None or category is not None or tags:
            raise PermissionDenied("Only agents can route a ticket.")
    requester = requester or actor.user
    if requester is None:
        raise ValidationError({"requester": "Name who the ticket is for."})
    if requester != actor.user:  # the actor's own membership is already checked
        _active_member(tenant_id, requester, "requester", staff=False)
    _active_member(tenant_id, assignee, "assignee", staff=True)
    _check_team(tenant_id, team)
    _check_category(tenant_id, category)
    tag_names = clean_tag_names(tags)
    impact = _clean_level("impact", impact)
    urgency = _clean_level("urgency", urgency)
    ticket = Ticket(
        tenant_id=tenant_id,
        kind=kind,
        title=_clean_title(title),
        description=_clean_text("description", description),
        impact=impact,
        urgency=urgency,
        priority=ticket_settings(tenant_id).priority_for(impact, urgency),
        requester=requester,
        assignee=assignee,
        team=team,
        category=category,
        is_confidential=bool(is_confidential),
        source=source,
        created_at=now,
        updated_at=now,
    )
    ticket.number = _next_number(tenant_id, kind)
    # The first mail's Message-ID, the root every later mail refers to.
    ticket.thread_id = make_msgid(ticket.key, domain=_mail_domain())
    ticket.save()
    if tag_names:
        _set_tags(ticket, tag_names)
    _record(ticket, actor, "created", new=ticket.key, at=now)
    if is_confidential:
        _grant_confidential(ticket, [u for u in (actor.user, assignee) if u is not None])
    for upload in files:
        _store_attachment(ticket, actor, upload, comment=None, is_internal=False, at=now)
    _publish(ticket, actor, Happened.CREATED, new_status=ticket.status)
    notify(ticket, "created", [requester], exclude=None)
    if assignee is not None and assignee != actor.user:
        notify(ticket, "assigned", [assignee], exclude=None)
    return ticket
