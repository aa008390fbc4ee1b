"""Replies and internal notes, and what a reply does to the status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tickets.hooks import Happened
from tickets.models import (
    AGENT_REPLY,
    COMMENT_INTERNAL,
    REQUESTER_REPLY,
    Comment,
    Source,
    Status,
    Ticket,
)
from tickets.services.actors import Actor, _require_same_tenant
from tickets.services.common import (
    _clean_text,
    _files_removed_on_error,
    _publish,
    _record,
    _record_first_response,
    _touch,
)
from tickets.services.files import _store_attachment
from tickets.services.notifications import notify
from tickets.services.transitions import _move, reopen_deadline
from tickets.services.watchers import _watchers

# --- Conversation ----------------------------------------------------------------------------


@_files_removed_on_error()
@transaction.atomic
def comment_add(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    is_internal: bool = False,
    source: str = Source.DESK,
    files: Sequence[IO[bytes]] = (),
    now: datetime | None = None,
) -> Comment:
    """Add a public reply or an internal note (agents only).

    A requester's reply moves a pending ticket back to in progress and
    reopens a resolved one inside the reopen window. An agent's first public
    reply is the first response and starts work on a new ticket.
    """
    _require_same_tenant(actor, ticket)
    now = now or timezone.now()
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    is_internal = bool(is_internal)
    if is_internal and not actor.is_staff:
        raise ValidationError({"internal": "Only agents can write internal notes."})
    body = _clean_text("body", body, required=not files)
    if not body and files:
        body = ""
    # An agent who filed the ticket speaks as its requester.
    as_requester = ticket.requester_id == getattr(actor.user, "pk", None) or not actor.is_staff
    if ticket.status in (Status.CLOSED, Status.CANCELLED) and not is_internal:
        raise ValidationError(
            {"body": f"{ticket.key} is {ticket.status}; please open a new ticket."}
        )
    reopening = ticket.status == Status.RESOLVED and as_requester and not is_internal
    if reopening:
        deadline = reopen_deadline(ticket)
        if deadline is not None and now > deadline:
            raise ValidationError(
                {
                    "body": f"{ticket.key} was resolved more than the reopen window ago; "
                    "please open a new ticket."
                }
            )
    comment = Comment.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        author=actor.user,
        body=body,
        is_internal=is_internal,
        source=source,
        created_at=now,
    )
    for upload in files:
        _store_attachment(ticket, actor, upload, comment=comment, is_internal=is_internal, at=now)
    _record(
        ticket,
        actor,
        "commented",
        field="comment",
        new=comment.pk,
        note=(
            COMMENT_INTERNAL if is_internal else REQUESTER_REPLY if as_requester else AGENT_REPLY
        ),
        at=now,
    )
    if is_internal:
        _touch(ticket, now)
    elif as_requester:
        if ticket.status == Status.PENDING or reopening:
            _move(ticket, actor, Status.IN_PROGRESS, now=now, note="The requester replied.")
        else:
            _touch(ticket, now)
    elif ticket.status == Status.NEW:
        # _move records the first response too.
        _move(ticket, actor, Status.IN_PROGRESS, now=now, note="An agent replied.")
    elif ticket.first_response_at is None:
        ticket.first_response_at = now
        _touch(ticket, now, "first_response_at")
        _record_first_response(ticket, actor, now)
    else:
        _touch(ticket, now)
    _publish(ticket, actor, Happened.COMMENTED, is_public=not is_internal)
    if is_internal:
        notify(
            ticket,
            "note",
            [ticket.assignee, *_watchers(ticket, staff_only=True)],
            exclude=actor.user,
            comment=comment,
        )
    elif as_requester:
        notify(
            ticket,
            "reply",
            [ticket.assignee, *_watchers(ticket)],
            exclude=actor.user,
            comment=comment,
        )
    else:
        notify(
            ticket,
            "reply",
            [ticket.requester, *_watchers(ticket)],
            exclude=actor.user,
            comment=comment,
        )
    return comment
