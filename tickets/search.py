"""Tickets in the search layer: each ticket's document, kept in step with
every change in the change's own transaction, and who may find which.

The document: the title (A); the key, tags, category and the requester's
name and e-mail (B); the description, the resolution and the public
conversation (C); internal notes in the internal part, which only staff
search and see. A confidential ticket's document is restricted: an agent
finds it only with the ticket's grant (or as its requester), as on the desk.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from servicedesk.models import Membership
from servicedesk.search import engine
from tickets import hooks
from tickets.hooks import Happened, TicketChange
from tickets.models import Comment, Tag, Ticket, TicketTag
from tickets.selectors import Viewer, visible_tickets

KIND = "ticket"
# A change of these fields changes the ticket's document.
INDEXED_FIELDS = frozenset(
    {"title", "description", "tags", "requester", "category", "is_confidential", "kind"}
)


def ticket_document(
    ticket: Ticket, tags: list[str], comments: list[tuple[str, bool]]
) -> engine.Document:
    requester = ticket.requester
    keywords = [ticket.key, *tags]
    if ticket.category is not None:
        keywords.append(ticket.category.name)
    if requester is not None:
        keywords += [requester.full_name, requester.email]
    public = [ticket.description, ticket.resolution_notes]
    public += [body for body, is_internal in comments if not is_internal]
    return engine.Document(
        title=ticket.title,
        keywords=" ".join(k for k in keywords if k),
        body="\n\n".join(p for p in public if p),
        internal="\n\n".join(body for body, is_internal in comments if is_internal),
        is_restricted=ticket.is_confidential,
    )


def index_ticket(ticket: Ticket) -> None:
    """Write one ticket's document (three reads and the upsert)."""
    tags = list(
        Tag.objects.for_tenant(ticket.tenant_id)
        .filter(tickettag__ticket=ticket)
        .order_by("name")
        .values_list("name", flat=True)
    )
    comments = list(
        Comment.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .order_by("created_at", "pk")
        .values_list("body", "is_internal")
    )
    engine.index_document(
        tenant_id=ticket.tenant_id,
        kind=KIND,
        object_id=ticket.pk,
        document=ticket_document(ticket, tags, comments),
    )


def on_ticket_change(change: TicketChange) -> None:
    if change.happened is Happened.UPDATED and not (change.fields & INDEXED_FIELDS):
        return
    tickets = Ticket.objects.for_tenant(change.tenant_id).select_related("requester", "category")
    ticket = change.ticket
    if ticket is None or change.fields & {"requester", "category"}:
        ticket = tickets.get(pk=change.ticket_id)
    index_ticket(ticket)
    if change.happened is Happened.MERGED and change.other_ticket_id:
        # The duplicate's conversation moved to the ticket it was merged into.
        target = tickets.filter(pk=change.other_ticket_id).first()
        if target is not None:
            index_ticket(target)


def reindex_tickets(tenant_id: int) -> int:
    """Every ticket's document in a tenant, in a few queries per thousand."""
    written = 0
    tickets = (
        Ticket.objects.for_tenant(tenant_id).select_related("requester", "category").order_by("pk")
    )
    last = 0
    while True:
        batch = list(tickets.filter(pk__gt=last)[:1000])
        if not batch:
            return written
        ids = [t.pk for t in batch]
        tags: dict[int, list[str]] = defaultdict(list)
        for ticket_id, name in (
            TicketTag.objects.for_tenant(tenant_id)
            .filter(ticket_id__in=ids)
            .order_by("tag__name")
            .values_list("ticket_id", "tag__name")
        ):
            tags[ticket_id].append(name)
        comments: dict[int, list[tuple[str, bool]]] = defaultdict(list)
        for ticket_id, body, is_internal in (
            Comment.objects.for_tenant(tenant_id)
            .filter(ticket_id__in=ids)
            .order_by("created_at", "pk")
            .values_list("ticket_id", "body", "is_internal")
        ):
            comments[ticket_id].append((body, is_internal))
        written += engine.index_documents(
            tenant_id=tenant_id,
            kind=KIND,
            documents={t.pk: ticket_document(t, tags[t.pk], comments[t.pk]) for t in batch},
        )
        last = ids[-1]


def restrict(membership: Membership) -> Q | None:
    """The desk's rule: requesters find their own (and watched) tickets,
    staff every unrestricted one plus the confidential ones they may see."""
    viewer = Viewer.of(membership)
    if viewer.is_admin:
        return Q()
    if viewer.is_staff:
        granted = visible_tickets(viewer).filter(is_confidential=True).values("pk")
        return Q(is_restricted=False) | Q(object_id__in=granted)
    return Q(object_id__in=visible_tickets(viewer).values("pk"))


def sees_internal(membership: Membership) -> bool:
    return membership.is_agent


def register() -> None:
    engine.register_kind(
        engine.Kind(
            name=KIND,
            order=20,
            label="Tickets",
            restrict=restrict,
            sees_internal=sees_internal,
            reindex=reindex_tickets,
        )
    )
    hooks.subscribe(
        "search.tickets",
        on_ticket_change,
        order=50,
        happened=(
            Happened.CREATED,
            Happened.UPDATED,
            Happened.TRANSITIONED,
            Happened.COMMENTED,
            Happened.MERGED,
        ),
    )
