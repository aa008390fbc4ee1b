"""Reads of tickets, always inside one tenant and within what the reader may see.

Who sees what:

* a requester sees the tickets they requested and those they watch;
* agents and leads see their tenant's tickets, except confidential ones they
  were not granted (django-guardian object permission
  ``view_confidential_ticket``) -- the requester of a confidential ticket
  still sees it;
* admins see every ticket of their tenant.

Internal notes (and files attached to them) are shown to agents only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from servicedesk.models import Membership, Role, Team, Tenant, User
from servicedesk.search import engine as search_engine
from tickets import extensions
from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Category,
    ChangeLink,
    Comment,
    SavedView,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketSettings,
    TicketTag,
    TicketUserObjectPermission,
    Watcher,
    parse_ticket_key,
)

CONFIDENTIAL_PERMISSION = "view_confidential_ticket"


@dataclass(frozen=True)
class Viewer:
    """Who is reading: enough of a membership to decide what they may see."""

    tenant_id: int
    user: User | None
    role: str

    @classmethod
    def of(cls, membership: Membership) -> Viewer:
        return cls(tenant_id=membership.tenant_id, user=membership.user, role=membership.role)

    @property
    def is_staff(self) -> bool:
        return Role.rank(self.role) >= Role.rank(Role.AGENT)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def confidential_grant_exists(user: User) -> Exists:
    return Exists(
        TicketUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            user=user,
            permission__codename=CONFIDENTIAL_PERMISSION,
        )
    )


def visible_tickets(viewer: Viewer | Membership) -> QuerySet[Ticket]:
    """Every ticket of the viewer's tenant that the viewer may see."""
    if isinstance(viewer, Membership):
        viewer = Viewer.of(viewer)
    tickets = Ticket.objects.for_tenant(viewer.tenant_id)
    if viewer.user is None:
        # Automation and integrations act for the tenant as a whole.
        return tickets
    if viewer.is_admin:
        return tickets
    if viewer.is_staff:
        return tickets.filter(
            Q(is_confidential=False)
            | Q(requester=viewer.user)
            | confidential_grant_exists(viewer.user)
        )
    watching = Exists(
        Watcher.objects.for_tenant(viewer.tenant_id).filter(ticket=OuterRef("pk"), user=viewer.user)
    )
    return tickets.filter(Q(requester=viewer.user) | watching)


def can_view(viewer: Viewer | Membership, ticket: Ticket) -> bool:
    return visible_tickets(viewer).filter(pk=ticket.pk).exists()


def with_list_relations(tickets: QuerySet[Ticket], tenant_id: int) -> QuerySet[Ticket]:
    """The joins and prefetch a ticket list renders with: a fixed number of
    queries whatever the page size."""
    return tickets.select_related("requester", "assignee", "team", "category").prefetch_related(
        Prefetch("tags", Tag.objects.for_tenant(tenant_id))
    )


def get_ticket_for(viewer: Viewer | Membership, key: str, *, for_update: bool = False) -> Ticket:
    """The ticket ``key`` (``INC-42``) if the viewer may see it; the same 404
    for "no such ticket", "another tenant's" and "not yours"."""
    parsed = parse_ticket_key(key)
    if parsed is None:
        raise Http404("No such ticket")
    kind, number = parsed
    tickets = visible_tickets(viewer).filter(kind=kind, number=number)
    if for_update:
        tickets = tickets.select_for_update(of=("self",))
    ticket = tickets.select_related("requester", "assignee", "team", "category").first()
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def ticket_settings(tenant: Tenant | int) -> TicketSettings:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = TicketSettings.objects.for_tenant(tenant_id).first()
    return found or TicketSettings(tenant_id=tenant_id)


# --- Queues --------------------------------------------------------------------------

RECENT_WINDOW = timedelta(days=7)
DEFAULT_SORT = "updated"


def _open() -> Q:
    return Q(status__in=OPEN_STATUSES)


def register_queues() -> None:
    """The desk's own queues and sorts (``tickets.extensions``); other apps
    add theirs between and after them by ``order``."""
    for name, order, label, condition in (
        ("mine", 10, "My work", lambda viewer, team_ids, now: _open() & Q(assignee=viewer.user)),
        ("teams", 30, "My teams", lambda viewer, team_ids, now: _open() & Q(team__in=team_ids)),
        (
            "unassigned",
            40,
            "Unassigned",
            lambda viewer, team_ids, now: _open() & Q(assignee__isnull=True),
        ),
        ("open", 50, "All open", lambda viewer, team_ids, now: _open()),
    ):
        extensions.queues.register(
            extensions.Queue(name=name, order=order, label=label, condition=condition)
        )
    # Anything touched in the last week, open or done, newest first; not counted.
    extensions.queues.register(
        extensions.Queue(
            name="recent",
            order=60,
            label="Recently updated",
            condition=lambda viewer, team_ids, now: Q(updated_at__gte=now - RECENT_WINDOW),
            counted=False,
        )
    )
    for name, order, label, reversed_label, column in (
        ("updated", 10, "Updated, newest first", "Updated, oldest first", "updated_at"),
        ("created", 20, "Created, newest first", "Created, oldest first", "created_at"),
    ):
        extensions.sorts.register(
            extensions.Sort(
                name=name,
                order=order,
                label=label,
                reversed_label=reversed_label,
                order_by=partial(_newest_first, column),
            )
        )
    extensions.sorts.register(
        extensions.Sort(
            name="priority",
            order=30,
            label="Priority, highest first",
            reversed_label="Priority, lowest first",
            order_by=_highest_priority_first,
        )
    )


def _newest_first(column: str, flipped: bool) -> tuple[str, ...]:
    return (column, "pk") if flipped else (f"-{column}", "-pk")


def _highest_priority_first(flipped: bool) -> tuple[str, ...]:
    # P1 is the lowest number: "highest first" is ascending.
    return ("-priority" if flipped else "priority", "-updated_at", "-pk")


def get_queue(name: str) -> extensions.Queue:
    queue = extensions.queues.get(name)
    if queue is None:
        raise Http404("No such queue")
    return queue


def default_sort(queue: str) -> str:
    found = extensions.queues.get(queue)
    return (found.default_sort if found else "") or DEFAULT_SORT


def queue_condition(
    queue: str, viewer: Viewer, team_ids: list[int], now: datetime | None = None
) -> Q:
    return get_queue(queue).condition(viewer, team_ids, now or timezone.now())


@dataclass(frozen=True)
class QueueFilters:
    status: tuple[str, ...] = ()
    priority: tuple[int, ...] = ()
    kind: tuple[str, ...] = ()
    team: Team | None = None
    assignee: User | None = None
    unassigned: bool = False
    tag: str = ""
    text: str = ""
    sort: str = DEFAULT_SORT


def apply_filters(
    tickets: QuerySet[Ticket], filters: QueueFilters, *, viewer: Viewer | None = None
) -> QuerySet[Ticket]:
    """``filters`` on ``tickets``. A text filter needs the ``viewer``: it
    searches their tenant's documents, internal notes only for staff."""
    if filters.status:
        tickets = tickets.filter(status__in=filters.status)
    if filters.priority:
        tickets = tickets.filter(priority__in=filters.priority)
    if filters.kind:
        tickets = tickets.filter(kind__in=filters.kind)
    if filters.team is not None:
        tickets = tickets.filter(team=filters.team)
    if filters.assignee is not None:
        tickets = tickets.filter(assignee=filters.assignee)
    if filters.unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    if filters.tag:
        tickets = tickets.filter(
            Exists(
                TicketTag.objects.filter(
                    tenant=OuterRef("tenant"), ticket=OuterRef("pk"), tag__name=filters.tag
                )
            )
        )
    if filters.text:
        parsed = parse_ticket_key(filters.text.strip())
        if parsed is not None:
            tickets = tickets.filter(kind=parsed[0], number=parsed[1])
        elif viewer is None:
            raise ValueError("A text filter searches for someone: pass the viewer.")
        else:
            # The search layer's full text: title, key, tags, requester,
            # description, the conversation (notes for staff only).
            found = search_engine.matching_ids_sql(
                tenant_id=viewer.tenant_id,
                kind="ticket",
                query=filters.text,
                include_internal=viewer.is_staff,
            )
            # The SQL is the search layer's own; the text is one of its parameters.
            matched = RawSQL(*found) if found else None  # noqa: S611
            tickets = tickets.filter(pk__in=matched) if matched is not None else tickets.none()
    flipped = filters.sort.startswith("-")
    sort = extensions.sorts.get(filters.sort.removeprefix("-"))
    if sort is None:
        sort, flipped = extensions.sorts.get(DEFAULT_SORT), False
        assert sort is not None  # noqa: S101 - registered by this module
    if sort.annotate is not None:
        tickets = sort.annotate(tickets)
    return tickets.order_by(*sort.order_by(flipped))


def ticket_queue(
    *,
    membership: Membership,
    queue: str,
    filters: QueueFilters,
    team_ids: list[int],
    now: datetime | None = None,
) -> QuerySet[Ticket]:
    """One desk queue, filtered and sorted, with the relations a row shows."""
    viewer = Viewer.of(membership)
    tickets = visible_tickets(viewer).filter(queue_condition(queue, viewer, team_ids, now))
    return with_list_relations(apply_filters(tickets, filters, viewer=viewer), membership.tenant_id)


def queue_counts(
    *, membership: Membership, team_ids: list[int], now: datetime | None = None
) -> dict[str, int]:
    """How many tickets each queue holds, in one query."""
    viewer = Viewer.of(membership)
    # Every counted queue holds open tickets only: count over those (a
    # partial index covers them) instead of the tenant's whole history.
    # A queue of another app's rows (the SLA's "breaching soon") adds one
    # subquery, hashed once for the whole count.
    now = now or timezone.now()
    counted = [queue for queue in extensions.queues if queue.counted]
    counts = (
        visible_tickets(viewer)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(
            **{
                queue.name: Count("pk", filter=queue.condition(viewer, team_ids, now))
                for queue in counted
            }
        )
    )
    return {queue.name: counts.get(queue.name, 0) for queue in counted}


def user_team_ids(*, tenant: Tenant | int, user: User) -> list[int]:
    return list(Team.objects.for_tenant(tenant).filter(members=user).values_list("pk", flat=True))


def saved_views_for(*, membership: Membership, team_ids: list[int]) -> QuerySet[SavedView]:
    """The agent's own saved views and those shared with their teams."""
    return (
        SavedView.objects.for_tenant(membership.tenant_id)
        .filter(Q(owner=membership.user) | Q(team__in=team_ids))
        .select_related("team", "owner")
        .order_by("name", "pk")
    )


def get_saved_view(*, membership: Membership, view_id: int, own: bool = False) -> SavedView:
    views = SavedView.objects.for_tenant(membership.tenant_id)
    if own:
        views = views.filter(owner=membership.user)
    else:
        team_ids = user_team_ids(tenant=membership.tenant_id, user=membership.user)
        views = views.filter(Q(owner=membership.user) | Q(team__in=team_ids))
    found = views.filter(pk=view_id).first()
    if found is None:
        raise Http404("No such view")
    return found


# --- One ticket ----------------------------------------------------------------------


def ticket_comments(
    *, ticket: Ticket, viewer: Viewer | Membership, with_files: bool = True
) -> QuerySet[Comment]:
    """The comments the viewer may read, with their files unless the caller
    holds the ticket's files already (``with_files=False``)."""
    if isinstance(viewer, Membership):
        viewer = Viewer.of(viewer)
    comments = (
        Comment.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .select_related("author")
        .order_by("created_at", "pk")
    )
    if with_files:
        comments = comments.prefetch_related(
            Prefetch(
                "attachments",
                Attachment.objects.for_tenant(ticket.tenant_id).order_by("created_at", "pk"),
            )
        )
    if not viewer.is_staff:
        comments = comments.filter(is_internal=False)
    return comments


def ticket_attachments(*, ticket: Ticket, viewer: Viewer | Membership) -> QuerySet[Attachment]:
    if isinstance(viewer, Membership):
        viewer = Viewer.of(viewer)
    files = (
        Attachment.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .order_by("created_at", "pk")
    )
    if not viewer.is_staff:
        files = files.filter(is_internal=False)
    return files


def get_attachment_for(
    *, viewer: Viewer | Membership, key: str, attachment_id: int
) -> tuple[Ticket, Attachment]:
    ticket = get_ticket_for(viewer, key)
    found = ticket_attachments(ticket=ticket, viewer=viewer).filter(pk=attachment_id).first()
    if found is None:
        raise Http404("No such file")
    return ticket, found


# Events a requester is shown: how their ticket moved, not the desk's housekeeping.
REQUESTER_EVENT_FIELDS = ("status",)


def ticket_events(*, ticket: Ticket, viewer: Viewer | Membership) -> QuerySet[TicketEvent]:
    if isinstance(viewer, Membership):
        viewer = Viewer.of(viewer)
    events = (
        TicketEvent.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    if not viewer.is_staff:
        events = events.filter(Q(action="created") | Q(field__in=REQUESTER_EVENT_FIELDS))
    return events


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    comment: Comment | None = None
    event: TicketEvent | None = None


def ticket_timeline(
    *, ticket: Ticket, viewer: Viewer | Membership, with_files: bool = True
) -> list[TimelineEntry]:
    """Comments and events interleaved by time (two queries plus the files,
    unless ``with_files`` is off: the caller reads them from the ticket's)."""
    entries = [
        TimelineEntry(at=c.created_at, comment=c)
        for c in ticket_comments(ticket=ticket, viewer=viewer, with_files=with_files)
    ]
    # A comment already shows itself; its "commented" event would say it twice.
    entries += [
        TimelineEntry(at=e.created_at, event=e)
        for e in ticket_events(ticket=ticket, viewer=viewer)
        if e.action != "commented"
    ]
    # At the same instant the reply comes first, then the change it caused
    # ("reopened", "in progress").
    entries.sort(key=lambda entry: (entry.at, 0 if entry.comment else 1))
    return entries


def ticket_watchers(*, ticket: Ticket) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=Watcher.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket).values("user_id")
    ).order_by("email")


def ticket_tags(*, ticket: Ticket) -> list[str]:
    return list(
        Tag.objects.for_tenant(ticket.tenant_id)
        .filter(tickettag__ticket=ticket)
        .order_by("name")
        .values_list("name", flat=True)
    )


def ticket_links(*, ticket: Ticket, viewer: Viewer | Membership) -> dict[str, Any]:
    """Parent, children, duplicates, problem, incidents and changes, each
    limited to what the viewer may see: two queries, the change links and
    then every linked ticket at once."""
    pairs = list(
        ChangeLink.objects.for_tenant(ticket.tenant_id)
        .filter(Q(to_ticket=ticket) | Q(from_ticket=ticket))
        .values_list("from_ticket_id", "to_ticket_id")
    )
    change_ids = {source for source, target in pairs if target == ticket.pk}
    fix_ids = {target for source, target in pairs if source == ticket.pk}
    named = {ticket.parent_id, ticket.duplicate_of_id, ticket.problem_id} - {None}
    linked = list(
        visible_tickets(viewer)
        .filter(
            Q(parent=ticket)
            | Q(duplicate_of=ticket)
            | Q(problem=ticket)
            | Q(pk__in=change_ids | fix_ids | named)
        )
        .order_by("pk")
    )
    by_pk = {other.pk: other for other in linked}
    return {
        "parent": by_pk.get(ticket.parent_id) if ticket.parent_id else None,
        "children": [other for other in linked if other.parent_id == ticket.pk],
        "duplicate_of": by_pk.get(ticket.duplicate_of_id) if ticket.duplicate_of_id else None,
        "duplicates": [other for other in linked if other.duplicate_of_id == ticket.pk],
        "problem": by_pk.get(ticket.problem_id) if ticket.problem_id else None,
        "incidents": [other for other in linked if other.problem_id == ticket.pk],
        "changes": [other for other in linked if other.pk in change_ids],
        "fixes": [other for other in linked if other.pk in fix_ids],
    }


def staff_members(*, tenant: Tenant | int) -> QuerySet[User]:
    """Active agents, leads and admins: who can be assigned a ticket."""
    return User.objects.filter(
        memberships__tenant=tenant,
        memberships__is_active=True,
        memberships__role__in=[Role.AGENT, Role.LEAD, Role.ADMIN],
        is_active=True,
    ).order_by("full_name", "email")


# A resolved ticket still waits for its requester (confirm or reopen), so
# the portal lists it with the open ones until it is closed.
REQUESTER_FINISHED = (Status.CLOSED, Status.CANCELLED)


def requester_tickets(*, membership: Membership, closed: bool, text: str = "") -> QuerySet[Ticket]:
    """A requester's own tickets (and those they watch), open or finished;
    with ``text``, those whose public text matches it (never a desk note,
    whatever the member's role: the portal reads as a requester)."""
    statuses = [s for s in Status.values if (s in REQUESTER_FINISHED) == closed]
    viewer = Viewer(tenant_id=membership.tenant_id, user=membership.user, role=Role.REQUESTER)
    tickets = visible_tickets(viewer).filter(status__in=statuses)
    if text:
        tickets = apply_filters(tickets, QueueFilters(text=text), viewer=viewer)
    return with_list_relations(tickets.order_by("-updated_at", "-pk"), membership.tenant_id)


def requester_ticket_counts(*, membership: Membership) -> dict[str, int]:
    """How many of the requester's tickets are open, finished, and waiting
    for the requester (a question to answer, a fix to confirm), in one query."""
    viewer = Viewer(tenant_id=membership.tenant_id, user=membership.user, role=Role.REQUESTER)
    return visible_tickets(viewer).aggregate(
        open=Count("pk", filter=~Q(status__in=REQUESTER_FINISHED)),
        closed=Count("pk", filter=Q(status__in=REQUESTER_FINISHED)),
        waiting=Count(
            "pk",
            filter=Q(status__in=(Status.PENDING, Status.RESOLVED), requester=membership.user),
        ),
    )


def category_list(*, tenant: Tenant | int, with_counts: bool = False) -> QuerySet[Category]:
    """The tenant's categories by name (one query); ``with_counts`` adds how
    many tickets each holds, a scan of the tenant's tickets that only the
    settings page wants, never a select on the desk."""
    found = Category.objects.for_tenant(tenant).order_by("name")
    if with_counts:
        found = found.annotate(ticket_count=Count("tickets"))
    return found


def get_category(*, tenant: Tenant | int, category_id: int) -> Category:
    found = Category.objects.for_tenant(tenant).filter(pk=category_id).first()
    if found is None:
        raise Http404("No such category")
    return found
