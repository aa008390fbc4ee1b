"""The requesters' portal: my requests, report a problem, the public conversation.

Everyone reads the portal as a requester, agents included: the list holds
the tickets they requested or watch, and a ticket page shows the public
conversation only -- no internal notes, no internal files, no housekeeping
events -- whatever the visitor's role. The desk is where agents see the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import posted, submit
from servicedesk.models import Role
from tickets import extensions, selectors, services
from tickets.extensions import PanelRequest
from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Comment,
    Source,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
)
from tickets.portal_forms import ReplyForm, ReportForm
from tickets.selectors import Viewer

PAGE_SIZE = 20


@dataclass(frozen=True)
class PlainStatus:
    """A status as a requester reads it: what is going on, and what (if
    anything) they are expected to do."""

    label: str
    tone: str
    explanation: str


PLAIN_STATUS: dict[str, PlainStatus] = {
    Status.NEW: PlainStatus(
        "Received",
        "new",
        "We have it, and someone from the team will pick it up soon.",
    ),
    Status.IN_PROGRESS: PlainStatus(
        "We're working on it",
        "progress",
        "Someone is working on it. We'll reply here when there's news.",
    ),
    Status.PENDING: PlainStatus(
        "Waiting for you",
        "waiting",
        "We need something from you to go on: see the latest reply and answer below.",
    ),
    Status.KNOWN_ERROR: PlainStatus(
        "We're working on it",
        "progress",
        "We know the cause and are working on a fix.",
    ),
    Status.RESOLVED: PlainStatus(
        "Resolved — confirm or reply",
        "resolved",
        "We think this is fixed. Tell us whether it is.",
    ),
    Status.CLOSED: PlainStatus("Closed", "closed", "This request is closed."),
    Status.CANCELLED: PlainStatus("Cancelled", "closed", "This request was cancelled."),
}


# The requester is the one to move these on: answer, or confirm the fix.
NEEDS_REQUESTER = (Status.PENDING, Status.RESOLVED)


def plain_status(status: str) -> PlainStatus:
    return PLAIN_STATUS.get(status, PLAIN_STATUS[Status.IN_PROGRESS])


def portal_viewer(request: TenantRequest) -> Viewer:
    """The portal reads as a requester, whatever the member's role."""
    return Viewer(tenant_id=request.membership.tenant_id, user=request.user, role=Role.REQUESTER)


# --- My requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    ticket: Ticket
    status: PlainStatus
    updated: str
    needs_you: bool


def ago(moment: datetime, now: datetime) -> str:
    """Like "3 hours ago": the one unit a person reads at a glance."""
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


@require_safe
@tenant_area("portal")
def home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The requester's tickets, open or closed, newest change first."""
    showing = "closed" if request.GET.get("show") == "closed" else "open"
    text = request.GET.get("q", "").strip()[:200]
    counts = selectors.requester_ticket_counts(membership=request.membership)
    tickets = selectors.requester_tickets(
        membership=request.membership, closed=showing == "closed", text=text
    )
    paginator = Paginator(tickets, PAGE_SIZE)
    if not text:
        # The tab count is the paginator's count: spare it a second COUNT query.
        paginator.count = counts[showing]
    page = paginator.get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        RequestRow(
            ticket=t,
            status=plain_status(t.status),
            updated=ago(t.updated_at, now),
            needs_you=t.status in NEEDS_REQUESTER and t.requester_id == request.user.pk,
        )
        for t in page
    ]
    return render(
        request,
        "tickets/portal/home.html",
        {
            "showing": showing,
            "counts": counts,
            "actions": [
                (action.label, reverse(action.url_name, args=[tenant_slug]))
                for action in extensions.portal_actions
            ],
            "page": page,
            "rows": rows,
            "text": text,
            "query": urlencode(
                {
                    k: v
                    for k, v in (("show", "closed" if showing == "closed" else ""), ("q", text))
                    if v
                }
            ),
        },
    )


# --- Report ----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_area("portal")
def report(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Report a problem (an incident) or ask for something (a request)."""
    kind = request.GET.get("kind")
    if kind not in (TicketKind.INCIDENT, TicketKind.REQUEST):
        kind = TicketKind.INCIDENT
    form = ReportForm(
        posted(request),
        request.FILES if request.method == "POST" else None,
        initial={"kind": kind},
    )
    if request.method == "POST":
        ticket = submit(
            form,
            lambda data: services.ticket_create(
                actor=services.Actor.of(request.membership),
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                impact=form.impact,
                urgency=data["urgency"],
                source=Source.PORTAL,
                files=data["attachments"],
            ),
        )
        if ticket is not None:
            messages.success(
                request,
                f"Thanks — we received {ticket.key}. We'll keep you posted here and by e-mail.",
            )
            return redirect("tickets:portal_ticket", tenant_slug=tenant_slug, key=ticket.key)
        kind = form.data.get("kind", kind)
    return render(
        request,
        "tickets/portal/report.html",
        {
            "form": form,
            "kind": kind,
            "files_lost": request.method == "POST" and bool(request.FILES),
            "asides": list(extensions.report_asides),
        },
        status=400 if form.is_bound else 200,
    )


# --- One request -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of the public conversation: a reply, or how the ticket moved."""

    at: datetime
    comment: Comment | None = None
    files: tuple[Attachment, ...] = ()
    from_support: bool = False
    event: TicketEvent | None = None
    text: str = ""
    tone: str = ""


def _event_text(event: TicketEvent) -> tuple[str, str] | None:
    """What a requester is told about an event: the words and a tone."""
    # "created" is the first bubble of the page already.
    if event.field != "status":
        return None
    if event.action == "reopened":
        return "Reopened", "progress"
    status = plain_status(event.new_value)
    return status.label.split(" — ")[0], status.tone


def _timeline(ticket: Ticket, viewer: Viewer) -> list[Entry]:
    items = selectors.ticket_timeline(ticket=ticket, viewer=viewer)
    # A watching colleague writes too: only agents' replies are badged "Support".
    others = {
        item.comment.author_id
        for item in items
        if item.comment is not None and item.comment.author_id not in (None, ticket.requester_id)
    }
    support = (
        set(
            selectors.staff_members(tenant=ticket.tenant_id)
            .filter(pk__in=others)
            .values_list("pk", flat=True)
        )
        if others
        else set()
    )
    entries: list[Entry] = []
    for item in items:
        if item.comment is not None:
            if item.comment.is_internal:  # the selector hides them; never trust one wall
                continue
            files = tuple(a for a in item.comment.attachments.all() if not a.is_internal)
            entries.append(
                Entry(
                    at=item.at,
                    comment=item.comment,
                    files=files,
                    from_support=item.comment.author_id in support,
                )
            )
        elif item.event is not None:
            said = _event_text(item.event)
            if said is not None:
                entries.append(Entry(at=item.at, event=item.event, text=said[0], tone=said[1]))
    return entries


def _request_context(request: TenantRequest, ticket: Ticket) -> dict[str, Any]:
    viewer = portal_viewer(request)
    ticket_files = [
        a
        for a in selectors.ticket_attachments(ticket=ticket, viewer=viewer)
        if a.comment_id is None and not a.is_internal
    ]
    deadline = services.reopen_deadline(ticket)
    is_requester = ticket.requester_id == request.user.pk
    merged_into = None
    if ticket.duplicate_of_id:
        merged_into = selectors.visible_tickets(viewer).filter(pk=ticket.duplicate_of_id).first()
    return {
        "ticket": ticket,
        "status": plain_status(ticket.status),
        "timeline": _timeline(ticket, viewer),
        "ticket_files": ticket_files,
        "is_requester": is_requester,
        "is_finished": ticket.status in (Status.CLOSED, Status.CANCELLED),
        "is_resolved": ticket.status == Status.RESOLVED,
        "reopen_deadline": deadline,
        "can_reopen": deadline is None or timezone.now() <= deadline,
        "merged_into": merged_into,
        # What other apps show a requester about the request (none yet).
        "panels": extensions.shown_panels(
            extensions.portal_panels,
            PanelRequest(membership=request.membership, ticket=ticket, now=timezone.now()),
        ),
    }


def _request_page(
    request: TenantRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The request page, or (for HTMX) the part of it below the title."""
    context = _request_context(request, ticket)
    reopen = context["is_resolved"] and context["is_requester"]
    context["reply_form"] = reply_form or ReplyForm(reopen=reopen)
    template = (
        "tickets/_partials/portal_request.html" if request.htmx else "tickets/portal/request.html"
    )
    return render(request, template, context, status=status)


def _ticket(request: TenantRequest, key: str) -> Ticket:
    return selectors.get_ticket_for(portal_viewer(request), key)


@require_safe
@tenant_area("portal")
def ticket_detail(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    return _request_page(request, _ticket(request, key))


def _answer(
    request: TenantRequest, tenant_slug: str, key: str, message: str | None
) -> HttpResponse:
    """After an action: the fresh page part for HTMX, else back to the page."""
    if message:
        messages.success(request, message)
    if request.htmx:
        return _request_page(request, _ticket(request, key))
    return redirect(reverse("tickets:portal_ticket", args=[tenant_slug, key]) + "#latest")


def _refused(request: TenantRequest, tenant_slug: str, key: str, error: Exception) -> HttpResponse:
    if isinstance(error, ValidationError):
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.error(request, str(error) or "You can't do that here.")
    if request.htmx:
        return _request_page(request, _ticket(request, key), status=400)
    return redirect("tickets:portal_ticket", tenant_slug=tenant_slug, key=key)


def _reply(request: TenantRequest, tenant_slug: str, key: str, *, reopen: bool) -> HttpResponse:
    ticket = _ticket(request, key)
    was = ticket.status
    form = ReplyForm(request.POST, request.FILES, reopen=reopen)
    comment = submit(
        form,
        lambda data: services.comment_add(
            actor=services.Actor.of(request.membership),
            ticket=ticket,
            body=data["body"],
            source=Source.PORTAL,
            files=data["attachments"],
        ),
    )
    if comment is None:
        return _request_page(request, ticket, reply_form=form, status=400)
    now = comment.ticket.status  # the service's locked, updated copy
    if was == Status.RESOLVED and now != Status.RESOLVED:
        message = f"{key} is open again. We'll pick it up and reply here."
    elif was == Status.PENDING and now != Status.PENDING:
        message = "Thanks — your answer is with the team."
    else:
        message = "Reply sent."
    return _answer(request, tenant_slug, key, message)


@require_POST
@tenant_area("portal")
def reply(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """A public reply (it reopens a resolved ticket within the reopen window)."""
    return _reply(request, tenant_slug, key, reopen=False)


@require_POST
@tenant_area("portal")
def reopen(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """ "No, it's not fixed": a reply that must say what is still wrong."""
    ticket = _ticket(request, key)
    if ticket.status != Status.RESOLVED:
        return _refused(
            request, tenant_slug, key, ValidationError(f"{key} is not waiting for a confirmation.")
        )
    return _reply(request, tenant_slug, key, reopen=True)


def _move(
    request: TenantRequest,
    tenant_slug: str,
    key: str,
    *,
    status: str,
    note: str,
    message: str,
    allowed_from: tuple[str, ...],
    stale: str,
) -> HttpResponse:
    ticket = _ticket(request, key)
    if ticket.requester_id != request.user.pk:
        # Watchers follow a ticket; its requester decides on it.
        return _refused(
            request, tenant_slug, key, PermissionDenied("Only the person who reported it can.")
        )
    if ticket.status not in allowed_from:
        # A stale page (the desk moved on): say so in words, not the workflow's.
        return _refused(request, tenant_slug, key, ValidationError(stale))
    try:
        services.ticket_transition(
            actor=services.Actor.of(request.membership), ticket=ticket, status=status, note=note
        )
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, tenant_slug, key, error)
    return _answer(request, tenant_slug, key, message)


@require_POST
@tenant_area("portal")
def confirm(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """ "Yes, it's fixed": the requester closes their resolved ticket."""
    return _move(
        request, tenant_slug, key, status=Status.CLOSED,
        allowed_from=(Status.RESOLVED,), stale=f"{key} is not waiting for a confirmation.",
        note="The requester confirmed the fix.",
        message="Thanks for confirming. The request is closed.",
    )  # fmt: skip


@require_POST
@tenant_area("portal")
def withdraw(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """The requester no longer needs help: the open ticket is cancelled."""
    return _move(
        request, tenant_slug, key, status=Status.CANCELLED,
        allowed_from=OPEN_STATUSES, stale=f"{key} is no longer open.",
        note="The requester withdrew it.",
        message="Withdrawn. Nobody will work on it any more.",
    )  # fmt: skip
