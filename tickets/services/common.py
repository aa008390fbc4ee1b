"""What every ticket service shares: the audit record, the publication of
changes to the subscribed apps (``tickets.hooks``), the cleaning of fields,
tags and the touch of ``updated_at``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import slugify

from servicedesk.models import Membership, Team, User
from tickets import hooks
from tickets.hooks import Happened
from tickets.models import (
    FIRST_RESPONSE,
    Category,
    Level,
    Tag,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketTag,
)
from tickets.selectors import staff_members
from tickets.services.actors import Actor

TITLE_MAX = 200
BODY_MAX = 65_536
TAG_MAX = 20
REQUESTER_KINDS = (TicketKind.INCIDENT, TicketKind.REQUEST)


# --- Events and values -----------------------------------------------------------------


def shown(value: Any) -> str:
    """How a field value is written into the audit trail."""
    if value is None:
        return ""
    if isinstance(value, User):
        return value.email
    if isinstance(value, Team):
        return value.slug
    if isinstance(value, Category):
        return value.name
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _record(
    ticket: Ticket,
    actor: Actor,
    action: str,
    *,
    field: str = "",
    old: Any = None,
    new: Any = None,
    note: str = "",
    at: datetime | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        actor=actor.user,
        actor_kind=actor.kind,
        actor_name=actor.label[:150],
        action=action,
        field=field,
        old_value=shown(old),
        new_value=shown(new),
        note=note[:2000],
        created_at=at or timezone.now(),
    )


def _record_first_response(ticket: Ticket, actor: Actor, at: datetime) -> None:
    # Its own event, so the SLA's replay reads who answered first from the log.
    _record(ticket, actor, FIRST_RESPONSE, field="first_response_at", note="first response", at=at)


def _publish(ticket: Ticket, actor: Actor, happened: Happened, **facts: Any) -> None:
    """Tell the subscribed apps (``tickets.hooks``) what this service did."""
    hooks.publish(
        hooks.TicketChange(
            happened=happened,
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.pk,
            actor_kind=actor.kind,
            actor_user_id=actor.user.pk if actor.user is not None else None,
            ticket=ticket,
            **facts,
        )
    )


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "Give the ticket a short title."})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": f"Keep the title under {TITLE_MAX} characters."})
    return title


def _clean_text(field: str, text: str, *, required: bool = False) -> str:
    text = (text or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationError({field: "This cannot be empty."})
    if len(text) > BODY_MAX:
        raise ValidationError({field: f"Keep this under {BODY_MAX} characters."})
    return text


def _clean_level(field: str, value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if level not in Level.values:
        raise ValidationError({field: "Choose 1 (high), 2 (medium) or 3 (low)."})
    return level


def _active_member(tenant_id: int, user: User | None, field: str, *, staff: bool) -> None:
    if user is None:
        return
    if staff:
        found = staff_members(tenant=tenant_id).filter(pk=user.pk).exists()
    else:
        found = (
            user.is_active
            and Membership.objects.for_tenant(tenant_id).filter(user=user, is_active=True).exists()
        )
    if not found:
        who = "an active agent" if staff else "an active member"
        raise ValidationError({field: f"{user.email} is not {who} of this organisation."})


def _check_team(tenant_id: int, team: Team | None) -> None:
    if team is not None and team.tenant_id != tenant_id:
        raise ValidationError({"team": "No such team."})


def _check_category(tenant_id: int, category: Category | None) -> None:
    if category is not None and category.tenant_id != tenant_id:
        raise ValidationError({"category": "No such category."})


def clean_tag_names(names: Iterable[str]) -> list[str]:
    """Tags as slugs, unique, in the order given."""
    cleaned: list[str] = []
    for raw in names:
        name = slugify(str(raw), allow_unicode=True)[:50]
        if not name:
            raise ValidationError({"tags": f"“{str(raw)[:50]}” is not a usable tag."})
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > TAG_MAX:
        raise ValidationError({"tags": f"At most {TAG_MAX} tags per ticket."})
    return cleaned


def _set_tags(ticket: Ticket, names: list[str]) -> tuple[list[str], list[str]]:
    """Make the ticket's tags exactly ``names``; the (added, removed) names."""
    current = dict(
        TicketTag.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .values_list("tag__name", "pk")
    )
    added = [n for n in names if n not in current]
    removed = [n for n in current if n not in names]
    for name in added:
        tag, _ = Tag.objects.for_tenant(ticket.tenant_id).get_or_create(
            tenant_id=ticket.tenant_id, name=name
        )
        TicketTag.objects.create(tenant_id=ticket.tenant_id, ticket=ticket, tag=tag)
    if removed:
        TicketTag.objects.for_tenant(ticket.tenant_id).filter(
            pk__in=[current[n] for n in removed]
        ).delete()
    return added, removed


def _touch(ticket: Ticket, at: datetime | None = None, *fields: str) -> None:
    ticket.updated_at = at or timezone.now()
    ticket.save(update_fields=["updated_at", *fields])


_written_files: ContextVar[list[tuple[Any, str]] | None] = ContextVar("written_files", default=None)


@contextmanager
def _files_removed_on_error() -> Iterator[None]:
    """Storage is not transactional: files written by a service whose
    transaction then fails are deleted again, so a failed write leaves
    neither a row nor a file behind. The outermost service watches."""
    if _written_files.get() is not None:
        yield
        return
    written: list[tuple[Any, str]] = []
    token = _written_files.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    finally:
        _written_files.reset(token)
