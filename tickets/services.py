"""Every write to a ticket: creation, field changes, the workflow, the
conversation, files, links, merges, watchers and the mail they cause.

Each service runs in one transaction, checks the actor's right to act,
enforces the rules (``ValidationError`` with field messages), records a
``TicketEvent`` per change and writes the e-mail it owes to the outbox in the
same transaction. Desk, portal, API and automation all come through here.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid
from smtplib import SMTPException
from typing import IO, Any

import filetype
from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from guardian.shortcuts import assign_perm, remove_perm

from servicedesk.models import Membership, Role, Team, Tenant, User
from servicedesk.rls import tenant_context
from servicedesk.services import audit_record
from tickets import hooks, workflow
from tickets.hooks import Happened
from tickets.models import (
    AGENT_REPLY,
    COMMENT_INTERNAL,
    FIRST_RESPONSE,
    OPEN_STATUSES,
    REQUESTER_REPLY,
    ActorKind,
    Attachment,
    Category,
    ChangeLink,
    Comment,
    Level,
    Notification,
    Priority,
    ResolutionCode,
    SavedView,
    Source,
    Status,
    Tag,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketKind,
    TicketSettings,
    TicketTag,
    Watcher,
)
from tickets.selectors import (
    CONFIDENTIAL_PERMISSION,
    Viewer,
    staff_members,
    ticket_settings,
    ticket_watchers,
)

logger = logging.getLogger(__name__)

TITLE_MAX = 200
BODY_MAX = 65_536
TAG_MAX = 20
REQUESTER_KINDS = (TicketKind.INCIDENT, TicketKind.REQUEST)


# --- Who acts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a member (with their role), an automation or an
    integration. Recorded on every event."""

    tenant_id: int
    user: User | None
    role: str
    kind: str = ActorKind.USER
    name: str = ""

    @classmethod
    def of(cls, membership: Membership) -> Actor:
        return cls(
            tenant_id=membership.tenant_id,
            user=membership.user,
            role=membership.role if membership.is_active else Role.REQUESTER,
        )

    @classmethod
    def system(cls, tenant: Tenant | int, name: str = "system") -> Actor:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return cls(
            tenant_id=tenant_id, user=None, role=Role.AGENT, kind=ActorKind.SYSTEM, name=name
        )

    @classmethod
    def automation(cls, tenant: Tenant | int, name: str) -> Actor:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return cls(tenant_id, None, Role.AGENT, ActorKind.AUTOMATION, name)

    @property
    def is_staff(self) -> bool:
        return Role.rank(self.role) >= Role.rank(Role.AGENT)

    @property
    def viewer(self) -> Viewer:
        return Viewer(tenant_id=self.tenant_id, user=self.user, role=self.role)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.name or self.kind


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only agents can do this.")


def _require_same_tenant(actor: Actor, ticket: Ticket) -> None:
    if ticket.tenant_id != actor.tenant_id:
        # Callers fetch tickets through the actor's tenant; this is the backstop.
        raise PermissionDenied("Not a ticket of this tenant.")


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


# --- Files -----------------------------------------------------------------------------------

_UNSAFE_NAME_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitize_filename(name: str) -> str:
    """A file name safe to show and to offer for download: no path, no
    control or bidi characters, no leading dots, at most 150 characters
    (the extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in _UNSAFE_NAME_CATEGORIES else ch for ch in name
    )
    for ch in '<>:"|?*;':
        name = name.replace(ch, "_")
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: 150 - len(ext) - 1] + (f".{ext}" if ext else "")
    return name or "attachment"


def sniff_content_type(head: bytes) -> str:
    """The file's type from its first bytes, never from its name or the
    browser's claim: a known binary format, else text if it decodes as
    UTF-8, else ``application/octet-stream``."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
    return "text/plain"


def _store_attachment(
    ticket: Ticket,
    actor: Actor,
    upload: IO[bytes],
    *,
    comment: Comment | None,
    is_internal: bool,
    at: datetime,
) -> Attachment:
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    upload.seek(0)
    name = sanitize_filename(getattr(upload, "name", "") or "")
    if size == 0:
        raise ValidationError({"attachments": f"{name} is empty."})
    if size > limit:
        raise ValidationError(
            {
                "attachments": f"{name} is {size / 1_048_576:.1f} MB; "
                f"the limit is {limit / 1_048_576:.0f} MB."
            }
        )
    digest = hashlib.sha256()
    head = b""
    while chunk := upload.read(1 << 20):
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        comment=comment,
        filename=name,
        size=size,
        content_type=sniff_content_type(head),
        sha256=digest.hexdigest(),
        uploaded_by=actor.user,
        is_internal=is_internal,
        created_at=at,
    )
    attachment.file.save(name, File(upload), save=False)
    written = _written_files.get()
    if written is not None and attachment.file.name:
        written.append((attachment.file.storage, attachment.file.name))
    attachment.save()
    _record(
        ticket,
        actor,
        "attached",
        field="attachment",
        new=name,
        at=at,
        note="internal" if is_internal else "",
    )
    return attachment


@_files_removed_on_error()
@transaction.atomic
def attachment_add(
    *, actor: Actor, ticket: Ticket, upload: IO[bytes], is_internal: bool = False
) -> Attachment:
    """Attach a file to the ticket (internal ones for agents only)."""
    _require_same_tenant(actor, ticket)
    if is_internal and not actor.is_staff:
        raise ValidationError({"internal": "Only agents can add internal files."})
    ticket = Ticket.objects.for_tenant(ticket.tenant_id).select_for_update().get(pk=ticket.pk)
    if ticket.status in (Status.CLOSED, Status.CANCELLED) and not actor.is_staff:
        raise ValidationError({"attachments": f"{ticket.key} is {ticket.status}."})
    now = timezone.now()
    attachment = _store_attachment(
        ticket, actor, upload, comment=None, is_internal=is_internal, at=now
    )
    _touch(ticket, now)
    _publish(ticket, actor, Happened.ATTACHED, is_public=not is_internal)
    return attachment


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


# --- Watchers and confidentiality ---------------------------------------------------------


def _watchers(ticket: Ticket, *, staff_only: bool = False) -> list[User]:
    if _muted.get():
        return []  # only mail needs them
    users = ticket_watchers(ticket=ticket)
    if staff_only:
        users = users.filter(pk__in=staff_members(tenant=ticket.tenant_id).values("pk"))
    return list(users)


@transaction.atomic
def watcher_add(*, actor: Actor, ticket: Ticket, user: User, now: datetime | None = None) -> Ticket:
    """Someone starts following the ticket. Agents add anyone in the
    tenant; a requester adds only themselves to a ticket they can see."""
    _require_same_tenant(actor, ticket)
    if not actor.is_staff and user != actor.user:
        raise PermissionDenied("You can only follow a ticket yourself.")
    _active_member(ticket.tenant_id, user, "user", staff=False)
    _, created = Watcher.objects.for_tenant(ticket.tenant_id).get_or_create(
        tenant_id=ticket.tenant_id, ticket=ticket, user=user
    )
    if created:
        _record(ticket, actor, "changed", field="watchers", new=user, at=now)
        if ticket.is_confidential and _is_staff_member(ticket.tenant_id, user):
            _grant_confidential(ticket, [user])
        _publish(ticket, actor, Happened.WATCHERS_CHANGED, fields=frozenset({"watchers"}))
    return ticket


@transaction.atomic
def watcher_remove(*, actor: Actor, ticket: Ticket, user: User) -> Ticket:
    _require_same_tenant(actor, ticket)
    if not actor.is_staff and user != actor.user:
        raise PermissionDenied("You can only stop following a ticket yourself.")
    removed, _ = (
        Watcher.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket, user=user).delete()
    )
    if removed:
        _record(ticket, actor, "changed", field="watchers", old=user)
        _publish(ticket, actor, Happened.WATCHERS_CHANGED, fields=frozenset({"watchers"}))
    return ticket


def _is_staff_member(tenant_id: int, user: User) -> bool:
    return staff_members(tenant=tenant_id).filter(pk=user.pk).exists()


def _grant_confidential(ticket: Ticket, users: Iterable[User]) -> None:
    for user in users:
        assign_perm(f"tickets.{CONFIDENTIAL_PERMISSION}", user, ticket)


@transaction.atomic
def confidential_grant(
    *,
    actor: Actor,
    ticket: Ticket,
    user: User | None = None,
    team: Team | None = None,
    now: datetime | None = None,
) -> list[User]:
    """Let an agent (or every agent of a team, e.g. security) see the
    confidential ticket. Leads and admins grant."""
    _require_same_tenant(actor, ticket)
    if Role.rank(actor.role) < Role.rank(Role.LEAD):
        raise PermissionDenied("Only leads and admins grant access to confidential tickets.")
    users: list[User] = []
    if user is not None:
        _active_member(ticket.tenant_id, user, "user", staff=True)
        users.append(user)
    if team is not None:
        _check_team(ticket.tenant_id, team)
        users += [u for u in team.members.all() if _is_staff_member(ticket.tenant_id, u)]
    _grant_confidential(ticket, users)
    for granted in users:
        _record(ticket, actor, "changed", field="access", new=granted, note="granted", at=now)
    return users


@transaction.atomic
def confidential_revoke(*, actor: Actor, ticket: Ticket, user: User) -> None:
    _require_same_tenant(actor, ticket)
    if Role.rank(actor.role) < Role.rank(Role.LEAD):
        raise PermissionDenied("Only leads and admins change access to confidential tickets.")
    remove_perm(f"tickets.{CONFIDENTIAL_PERMISSION}", user, ticket)
    _record(ticket, actor, "changed", field="access", old=user, note="revoked")


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


# --- Saved views -----------------------------------------------------------------------------


@transaction.atomic
def saved_view_create(
    *, actor: Actor, name: str, query: str, team: Team | None = None
) -> SavedView:
    """Save a queue filter under a name, for oneself or shared with a team
    one belongs to. ``query`` has been validated by the queue's filter form."""
    _require_staff(actor)
    if actor.user is None:
        raise PermissionDenied("Saved views belong to a person.")
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ValidationError({"name": "Name the view."})
    if team is not None:
        _check_team(actor.tenant_id, team)
        if not team.members.filter(pk=actor.user.pk).exists():
            raise ValidationError({"team": "You can share a view only with a team you are in."})
    views = SavedView.objects.for_tenant(actor.tenant_id)
    if views.filter(owner=actor.user, name=name).exists():
        raise ValidationError({"name": "You already have a view with this name."})
    return views.create(
        tenant_id=actor.tenant_id, owner=actor.user, team=team, name=name, query=query[:1000]
    )


@transaction.atomic
def saved_view_delete(*, actor: Actor, view: SavedView) -> None:
    if view.tenant_id != actor.tenant_id or view.owner_id != getattr(actor.user, "pk", None):
        raise PermissionDenied("Only the owner deletes a saved view.")
    SavedView.objects.for_tenant(actor.tenant_id).filter(pk=view.pk).delete()


# --- Notifications (the outbox) --------------------------------------------------------------

SUBJECTS = {
    "created": "We received your {kind}",
    "assigned": "Assigned to you",
    "reply": "New reply",
    "note": "Internal note",
    "pending": "Waiting for your answer",
    "resolved": "Resolved",
    "merged": "Merged into {other}",
    "sla_warning": "SLA warning",
    "sla_breach": "SLA breached",
}


def _mail_domain() -> str:
    return (settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "servicedesk.local").strip("> ")


def ticket_url(ticket: Ticket, *, staff: bool, tenant_slug: str | None = None) -> str:
    slug = tenant_slug or Tenant.objects.values_list("slug", flat=True).get(pk=ticket.tenant_id)
    name = "tickets:desk_ticket" if staff else "tickets:portal_ticket"
    return settings.SITE_URL.rstrip("/") + reverse(
        name, kwargs={"tenant_slug": slug, "key": ticket.key}
    )


def notify(
    ticket: Ticket,
    reason: str,
    recipients: Iterable[User | None],
    *,
    exclude: User | None,
    comment: Comment | None = None,
    other: Ticket | None = None,
    detail: str = "",
) -> list[Notification]:
    """Write the e-mails ``reason`` owes to the outbox, one per person, in
    the caller's transaction; they are sent after commit, and the sweeper
    sends whatever a broker outage held back.

    Mails join one thread per ticket: the first one's Message-ID is the
    thread root every later one refers to."""
    if _muted.get():
        return []
    people: dict[str, User] = {}
    for user in recipients:
        if user is None or not user.is_active or user == exclude:
            continue
        people.setdefault(user.email.lower(), user)
    if not people:
        return []
    staff_ids = set(
        staff_members(tenant=ticket.tenant_id)
        .filter(pk__in=[user.pk for user in people.values()])
        .values_list("pk", flat=True)
    )
    domain = _mail_domain()
    if not ticket.thread_id:
        ticket.thread_id = make_msgid(ticket.key, domain=domain)
        ticket.save(update_fields=["thread_id"])
    slug = Tenant.objects.values_list("slug", flat=True).get(pk=ticket.tenant_id)
    headline = SUBJECTS[reason].format(
        kind=ticket.get_kind_display().lower(), other=other.key if other else ""
    )
    subject = f"[{ticket.key}] {headline}: {ticket.title}"
    rows = []
    for email, user in sorted(people.items()):
        staff = user.pk in staff_ids
        if comment is not None and comment.is_internal and not staff:
            continue  # internal notes never reach a requester
        body = render_to_string(
            "tickets/email/notification.txt",
            {
                "ticket": ticket,
                "reason": reason,
                "comment": comment,
                "other": other,
                "detail": detail,
                "recipient": user,
                "url": ticket_url(ticket, staff=staff, tenant_slug=slug),
            },
        )
        rows.append(
            Notification(
                tenant_id=ticket.tenant_id,
                ticket=ticket,
                recipient=email,
                reason=reason,
                subject=subject[:300],
                body=body,
                message_id=make_msgid(f"{ticket.key}.{uuid.uuid4().hex[:12]}", domain=domain),
                in_reply_to=ticket.thread_id if reason != "created" else "",
                references=ticket.thread_id if reason != "created" else "",
            )
        )
    if reason == "created" and rows:
        # The first mail is the thread root itself.
        rows[0].message_id = ticket.thread_id
    created = Notification.objects.bulk_create(rows)
    _deliver_after_commit([row.pk for row in created])
    return created


def _deliver_after_commit(notification_ids: list[int]) -> None:
    """Queue delivery once the change is committed. The task is looked up
    by name (tasks sit above services); a broker that cannot take it is
    logged, and the sweeper sends the mail a minute later."""

    def send() -> None:
        try:
            task = current_app.tasks["tickets.deliver_notification"]
            for pk in notification_ids:
                task.delay(pk)
        except Exception:
            logger.exception("could not queue notifications %s", notification_ids)

    transaction.on_commit(send)


MAX_ATTEMPTS = 5

_muted: ContextVar[bool] = ContextVar("notifications_muted", default=False)


@contextmanager
def notifications_muted() -> Iterator[None]:
    """Write no e-mail inside this block: for importing history and demo
    data, where nobody should be mailed about events of the past."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send one outbox e-mail. The row is locked while sending and marked
    sent in the same transaction, so a duplicate task or a second sweeper
    never sends it twice. A refusal is recorded for the next sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(pk=notification_id, sent_at__isnull=True)
            .first()
        )
        if row is None:
            return False
        headers = {"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"}
        if row.in_reply_to:
            headers["In-Reply-To"] = row.in_reply_to
            headers["References"] = row.references
        message = EmailMessage(
            subject=row.subject, body=row.body, to=[row.recipient], headers=headers
        )
        row.attempts += 1
        row.last_attempt_at = now
        try:
            message.send()
        except (SMTPException, OSError) as error:
            row.last_error = str(error)[:300]
            row.save(update_fields=["attempts", "last_attempt_at", "last_error"])
            logger.warning("notification %s not sent: %s", row.pk, error)
            return False
        row.sent_at = now
        row.last_error = ""
        row.save(update_fields=["attempts", "last_attempt_at", "last_error", "sent_at"])
        return True


def notifications_owed(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Unsent mail due a (re)try: never tried and older than a minute (its
    own task is likely just running), or failed and past its backoff."""
    now = now or timezone.now()
    owed = []
    for pk, attempts, created_at, last_attempt_at in (
        Notification.objects.unscoped()
        .filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", "attempts", "created_at", "last_attempt_at")[:limit]
    ):
        since = last_attempt_at or created_at
        if now - since >= timedelta(minutes=2**attempts):
            owed.append(pk)
    return owed


# --- Tenant settings and categories ------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only admins change the organisation's ticket settings.")


@transaction.atomic
def ticket_settings_update(
    *, actor: Actor, priority_matrix: dict[str, dict[str, int]], reopen_window_days: int
) -> TicketSettings:
    """Set the impact × urgency → priority matrix and the reopen window.
    Existing tickets keep their priority; new ones and re-rated ones follow
    the new matrix."""
    _require_admin(actor)
    matrix: dict[str, dict[str, int]] = {}
    for impact in ("1", "2", "3"):
        matrix[impact] = {}
        for urgency in ("1", "2", "3"):
            try:
                value = int(priority_matrix[impact][urgency])
            except (KeyError, TypeError, ValueError):
                value = 0
            if value not in Priority.values:
                raise ValidationError(
                    {
                        "priority_matrix": f"Impact {impact} × urgency {urgency} needs a "
                        "priority from 1 to 5."
                    }
                )
            matrix[impact][urgency] = value
    if not isinstance(reopen_window_days, int) or not 0 <= reopen_window_days <= 365:
        raise ValidationError({"reopen_window_days": "Choose between 0 and 365 days."})
    found = TicketSettings.objects.for_tenant(actor.tenant_id).select_for_update().first()
    current = found or TicketSettings(tenant_id=actor.tenant_id)
    before = (current.priority_matrix, current.reopen_window_days)
    current.priority_matrix = matrix
    current.reopen_window_days = reopen_window_days
    current.save()
    if before != (matrix, reopen_window_days):
        audit_record(
            tenant=Tenant.objects.get(pk=actor.tenant_id),
            actor=actor.user,
            action="tickets.settings_changed",
            target="ticket settings",
            reopen_window_days=reopen_window_days,
            # Rows by impact, columns by urgency: "1 2 3 / 2 3 4 / 3 4 5".
            priority_matrix=" / ".join(
                " ".join(str(matrix[i][u]) for u in ("1", "2", "3")) for i in ("1", "2", "3")
            ),
        )
    return current


@transaction.atomic
def category_create(*, actor: Actor, name: str) -> Category:
    _require_admin(actor)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError({"name": "Name the category."})
    categories = Category.objects.for_tenant(actor.tenant_id)
    if categories.filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is a category with this name already."})
    category = categories.create(tenant_id=actor.tenant_id, name=name)
    audit_record(
        tenant=Tenant.objects.get(pk=actor.tenant_id),
        actor=actor.user,
        action="tickets.category_created",
        target=name,
    )
    return category


@transaction.atomic
def category_delete(*, actor: Actor, category: Category) -> None:
    """Remove a category; its tickets keep everything else and lose only it."""
    _require_admin(actor)
    if category.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a category of this tenant.")
    Category.objects.for_tenant(actor.tenant_id).filter(pk=category.pk).delete()
    audit_record(
        tenant=Tenant.objects.get(pk=actor.tenant_id),
        actor=actor.user,
        action="tickets.category_deleted",
        target=category.name,
    )
