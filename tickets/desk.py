"""The agents' desk: queues, the ticket page, bulk actions and saved views.
Other apps add panels, queue columns, queues and timeline entries through
``tickets.extensions``.

Every page works as plain HTML forms; HTMX (and ``static/js/desk.js``)
make it quicker: the queue re-renders only its rows every 30 seconds, and
an edit on the ticket page re-renders only the parts of the page it
changed. Reads go through ``tickets.selectors`` (which decide what an
agent may see), writes through ``tickets.services``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from servicedesk import selectors as core_selectors
from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import error_messages, posted, submit
from servicedesk.models import User
from tickets import extensions, selectors, services, workflow
from tickets.extensions import EventLine, PanelRequest
from tickets.forms import (
    FIELD_FORMS,
    AttachmentForm,
    BulkForm,
    DeskChoices,
    FieldForm,
    LinkForm,
    MergeForm,
    NewTicketForm,
    QueueFilterForm,
    QueueQuery,
    ReplyForm,
    SavedViewForm,
    TagsForm,
    TransitionForm,
    WatcherForm,
)
from tickets.models import (
    FIRST_RESPONSE,
    Level,
    Priority,
    ResolutionCode,
    Source,
    Status,
    Ticket,
    TicketEvent,
    parse_ticket_key,
)
from tickets.services import Actor, BulkChange

T = TypeVar("T")

PER_PAGE = 50
# Rows re-rendered by the queue's polling and by quick actions from the keyboard.
ROWS_TARGET = "queue-rows"


# --- Small helpers ---------------------------------------------------------------------


AGO_UNITS = (
    (365 * 86400, "yr"),
    (30 * 86400, "mo"),
    (7 * 86400, "wk"),
    (86400, "d"),
    (3600, "h"),
    (60, "min"),
)


def ago(moment: datetime | None, now: datetime) -> str:
    """``"3 min ago"``: the largest unit only, short enough for a queue column."""
    if moment is None:
        return ""
    seconds = (now - moment).total_seconds()
    for size, unit in AGO_UNITS:
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _choices(
    request: TenantRequest,
    *,
    staff: bool = True,
    teams: bool = True,
    categories: bool = False,
    my_teams: bool = False,
) -> DeskChoices:
    """The people, teams and categories the page's selects offer; one query each."""
    tenant = request.tenant
    return DeskChoices(
        me=request.user,
        staff=list(selectors.staff_members(tenant=tenant)) if staff else [],
        teams=list(core_selectors.team_list(tenant=tenant)) if teams else [],
        categories=list(selectors.category_list(tenant=tenant)) if categories else [],
        my_team_ids=selectors.user_team_ids(tenant=tenant, user=request.user) if my_teams else [],
    )


def _run(form: Form, action: Callable[[dict[str, Any]], T]) -> T | None:
    """``submit`` that also shows a service's refusal on the form."""
    try:
        return submit(form, action)
    except PermissionDenied as denied:
        form.add_error(None, str(denied) or "You may not do this.")
        return None


def _flash_errors(request: TenantRequest, errors: Iterable[str]) -> None:
    for error in errors:
        messages.error(request, error)


def _desk_url(tenant_slug: str, query: str = "") -> str:
    url = reverse("desk", kwargs={"tenant_slug": tenant_slug})
    return f"{url}?{query}" if query else url


def _clean_next(raw: str) -> str:
    """A queue query string handed back by a form, re-encoded: it is only
    ever appended to the desk's own path, so it cannot redirect elsewhere."""
    return QueryDict((raw or "")[:2000].lstrip("?")).urlencode()


# --- The queue -------------------------------------------------------------------------


def _queue_query(params: QueryDict, choices: DeskChoices, counts: dict[str, int]) -> QueueQuery:
    # Someone with work of their own starts there; everyone else sees all that is open.
    default_queue = "mine" if counts.get("mine") else "open"
    return QueueFilterForm(params, choices=choices).result(default_queue=default_queue)


def _render_queue(
    request: TenantRequest,
    params: QueryDict,
    *,
    choices: DeskChoices | None = None,
    partial: bool = False,
    save_form: SavedViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = request.membership
    choices = choices or _choices(request, my_teams=True)
    team_ids = list(choices.my_team_ids)
    now = timezone.now()
    counts = selectors.queue_counts(membership=membership, team_ids=team_ids, now=now)
    query = _queue_query(params, choices, counts)
    notices = list(query.notices)

    key = query.filters.text.upper()
    if not partial and parse_ticket_key(key) is not None:
        try:
            found = selectors.get_ticket_for(membership, key)
        except Http404:
            notices.append(f"No ticket {key} that you can see.")
        else:
            return redirect("tickets:desk_ticket", tenant_slug=request.tenant.slug, key=found.key)

    tickets = selectors.ticket_queue(
        membership=membership,
        queue=query.queue,
        filters=query.filters,
        team_ids=team_ids,
        now=now,
    )
    paginator = Paginator(tickets, PER_PAGE)
    if query.queue in counts and query.filters == selectors.QueueFilters(sort=query.filters.sort):
        # Unfiltered, the queue holds what the side list counted already.
        paginator.count = counts[query.queue]
    page = paginator.get_page(params.get("page"))
    rows = list(page.object_list)
    # The apps' columns (the SLA's badge): a fixed number of queries per page.
    cells = extensions.row_cells(membership, rows, now)
    for ticket in rows:
        ticket.updated_ago = ago(ticket.updated_at, now)  # type: ignore[attr-defined]
        ticket.cells = cells[ticket.pk]  # type: ignore[attr-defined]
    selected = {int(v) for v in params.getlist("tickets") if v.isdigit() and len(v) < 12}
    page_query = f"{query.query}&page={page.number}" if page.number > 1 else query.query
    context: dict[str, Any] = {
        "query": query,
        "notices": notices,
        "page": page,
        "rows": rows,
        "selected": selected,
        "counts": counts,
        "queues": [
            {
                "key": q.name,
                "label": q.label,
                "count": counts.get(q.name),
                "alert": q.alert,
                "active": q.name == query.queue,
            }
            for q in extensions.queues
        ],
        "queue": selectors.get_queue(query.queue),
        "columns": list(extensions.queue_columns),
        "poll_url": _desk_url(request.tenant.slug, page_query),
        "page_query": page_query,
    }
    if partial:
        return render(request, "tickets/desk/queue_rows.html", context, status=status)
    saved_views = list(selectors.saved_views_for(membership=membership, team_ids=team_ids))
    filter_form = QueueFilterForm(initial=query.initial, choices=choices)
    sort_links = _sort_links(query)
    context.update(
        {
            "filter_form": filter_form,
            "bulk_form": BulkForm(choices=choices),
            "save_form": save_form
            or SavedViewForm(choices=choices, initial={"query": query.query}),
            "saved_views": saved_views,
            "active_view": next((v for v in saved_views if v.query == query.query), None),
            "teams": choices.teams,
            "my_team_ids": team_ids,
            "sort_links": sort_links,
            "column_heads": [
                {"column": column, "link": sort_links.get(column.sort)}
                for column in context["columns"]
            ],
        }
    )
    return render(request, "tickets/desk/queue.html", context, status=status)


REVERSED = {"ascending": "descending", "descending": "ascending"}


def _sort_links(query: QueueQuery) -> dict[str, dict[str, str]]:
    """Column headers that sort: the query for each, and which way it points
    now. Each sort's first click goes its ``first`` way: priority and
    updated put the highest and newest first, an SLA due time the soonest."""
    links = {}
    base = QueryDict(query.query, mutable=True)
    current = query.filters.sort
    for sort in extensions.sorts:
        column, first = sort.name, sort.first
        reverse_sort = f"-{column}"
        base["sort"] = reverse_sort if current == column else column
        state = first if current == column else REVERSED[first] if current == reverse_sort else ""
        links[column] = {"query": base.urlencode(), "state": state}
    return links


@require_GET
@tenant_area("desk")
def queue(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """A queue with its filters, or (for the 30-second poll) only its rows."""
    partial = bool(request.htmx and request.htmx.target == ROWS_TARGET)
    return _render_queue(request, request.GET, partial=partial)


@require_POST
@tenant_area("desk")
def bulk(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """One change for every selected ticket, all or nothing."""
    membership = request.membership
    choices = _choices(request, my_teams=True)
    form = BulkForm(request.POST, choices=choices)
    next_query = _clean_next(request.POST.get("next", ""))
    ids = {int(v) for v in request.POST.getlist("tickets") if v.isdigit() and len(v) < 12}
    errors: list[str] = []
    if not ids:
        errors.append("Select at least one ticket.")
    elif not form.is_valid():
        errors = error_messages(form)
    else:
        tickets = list(selectors.visible_tickets(membership).filter(pk__in=ids))
        target = None
        if len(tickets) != len(ids):
            errors.append("Some of the selected tickets are gone; reload the queue and try again.")
        elif form.cleaned_data["action"] == "merge":
            try:
                target = selectors.get_ticket_for(membership, form.cleaned_data["target"])
            except Http404:
                errors.append(f"No ticket {form.cleaned_data['target']} that you can see.")
        if not errors:
            data = form.cleaned_data
            change = BulkChange(
                action=data["action"],
                assignee=form.assignee_user,
                status=data.get("status") or "",
                resolution_code=data.get("resolution_code") or "",
                priority=data.get("priority"),
                priority_reason=data.get("priority_reason") or "",
                tag=data.get("tag") or "",
                target=target,
            )
            try:
                done = services.tickets_bulk_update(
                    actor=Actor.of(membership), tickets=tickets, change=change
                )
            except ValidationError as error:
                errors = error.messages
            except PermissionDenied as denied:
                errors = [str(denied)]
            else:
                messages.success(request, _bulk_message(change, done, tickets, request.user))
    _flash_errors(request, errors)
    status = 400 if errors else 200
    if request.htmx:
        return _render_queue(
            request, QueryDict(next_query), choices=choices, partial=True, status=status
        )
    return redirect(_desk_url(tenant_slug, next_query))


def _bulk_message(change: BulkChange, done: int, tickets: list[Ticket], me: User) -> str:
    what = tickets[0].key if len(tickets) == 1 else f"{len(tickets)} tickets"
    if change.action == "assign":
        if change.assignee is None:
            return f"Unassigned {what}."
        who = "you" if change.assignee.pk == me.pk else change.assignee.display_name
        return f"Assigned {what} to {who}."
    if change.action == "status":
        return f"Moved {what} to {Status(change.status).label.lower()}."
    if change.action == "priority" and change.priority is not None:
        return f"Set {what} to {Priority(change.priority).label}."
    if change.action == "tag":
        return f"Tagged {what} with “{change.tag}”."
    if change.action == "merge" and change.target is not None:
        return f"Merged {done} ticket{'s' if done != 1 else ''} into {change.target.key}."
    return f"Changed {what}."


@require_POST
@tenant_area("desk")
def view_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Save the queue's current filters under a name, for oneself or a team."""
    choices = _choices(request, my_teams=True)
    form = SavedViewForm(request.POST, choices=choices)
    counts = selectors.queue_counts(
        membership=request.membership, team_ids=list(choices.my_team_ids)
    )
    params = QueryDict(_clean_next(request.POST.get("query", "")))
    query = _queue_query(params, choices, counts)
    saved = _run(
        form,
        lambda data: services.saved_view_create(
            actor=Actor.of(request.membership),
            name=data["name"],
            query=query.query,
            team=data["team"],
        ),
    )
    if saved is None:
        return _render_queue(request, params, choices=choices, save_form=form, status=400)
    shared = f", shared with {saved.team.name}" if saved.team else ""
    messages.success(request, f"Saved the view “{saved.name}”{shared}.")
    return redirect(_desk_url(tenant_slug, saved.query))


@require_POST
@tenant_area("desk")
def view_delete(request: TenantRequest, tenant_slug: str, view_id: int) -> HttpResponse:
    """Delete one of one's own saved views (a team's shared view belongs to its owner)."""
    view = selectors.get_saved_view(membership=request.membership, view_id=view_id, own=True)
    services.saved_view_delete(actor=Actor.of(request.membership), view=view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return redirect(_desk_url(tenant_slug, _clean_next(request.POST.get("next", ""))))


# --- A new ticket ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@tenant_area("desk")
def ticket_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """An agent files a ticket for a member (or for themselves)."""
    choices = _choices(request, categories=True)
    form = NewTicketForm(
        posted(request),
        request.FILES if request.method == "POST" else None,
        choices=choices,
        members=core_selectors.active_member_users(tenant=request.tenant),
    )
    status = 200
    if request.method == "POST":
        ticket = _run(
            form,
            lambda data: services.ticket_create(
                actor=Actor.of(request.membership),
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                impact=data["impact"],
                urgency=data["urgency"],
                requester=data["requester"],
                assignee=data["assignee"],
                team=data["team"],
                category=data["category"],
                tags=data["tags"],
                is_confidential=data["is_confidential"],
                source=Source.DESK,
                files=data["attachments"],
            ),
        )
        if ticket is not None:
            messages.success(request, f"Created {ticket.key}.")
            return redirect("tickets:desk_ticket", tenant_slug=tenant_slug, key=ticket.key)
        status = 400
    return render(request, "tickets/desk/ticket_new.html", {"form": form}, status=status)


# --- The ticket page -------------------------------------------------------------------

FIELD_LABELS = {
    "title": "title",
    "description": "description",
    "status": "status",
    "assignee": "assignee",
    "team": "team",
    "category": "category",
    "impact": "impact",
    "urgency": "urgency",
    "priority": "priority",
    "tags": "tags",
    "is_confidential": "confidentiality",
    "resolution_code": "resolution",
}


def _value_label(field: str, value: str, names: dict[str, str]) -> str:
    if not value:
        return ""
    try:
        if field == "status":
            return str(Status(value).label).lower()
        if field == "priority":
            return str(Priority(int(value)).label)
        if field in ("impact", "urgency"):
            return str(Level(int(value)).label).lower()
        if field == "resolution_code":
            return str(ResolutionCode(value).label)
    except ValueError:
        return value
    if field in ("assignee", "watchers", "access"):
        return names.get(value.lower(), value)
    return value


def describe_event(event: TicketEvent, names: dict[str, str]) -> EventLine:
    """``EventLine("changed status from new to in progress")`` and the like."""
    field, action, note = event.field, event.action, event.note
    old = _value_label(field, event.old_value, names)
    new = _value_label(field, event.new_value, names)
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    renderer = extensions.event_renderers.get(action)
    if renderer is not None:
        return renderer.render(event)
    if action == "created":
        return EventLine("created the ticket", note=note)
    if action == FIRST_RESPONSE:
        return EventLine("gave the first response")
    if action == "reopened":
        return EventLine(f"reopened the ticket ({old} → {new})", note=note)
    if action == "attached":
        return EventLine(f"attached {new}", note="internal" if note == "internal" else "")
    if action == "merged":
        if field == "duplicate_of":
            return EventLine("merged this ticket into", ref=new, note=note)
        return EventLine("merged in the duplicate", ref=new, note=note)
    if action in ("linked", "unlinked"):
        relation = {
            "parent": "the parent",
            "problem": "problem",
            "incident": "incident",
            "change": "change",
            "fixes": "this change as the fix for",
        }.get(field, field)
        if action == "linked":
            return EventLine(f"linked {relation}", ref=new, note=note)
        return EventLine(f"unlinked {relation}", ref=old, note=note)
    return EventLine(*_field_change(event, field, old, new, label))


def _field_change(
    event: TicketEvent, field: str, old: str, new: str, label: str
) -> tuple[str, str, str]:
    note = event.note
    if field == "watchers":
        return (f"added {new} as a watcher" if new else f"removed watcher {old}"), "", note
    if field == "access":
        return (f"gave {new} access" if new else f"revoked the access of {old}"), "", ""
    if field == "tags":
        parts = []
        if new:
            parts.append(f"added tag{'s' if ' ' in new else ''} {new.replace(' ', ', ')}")
        if old:
            parts.append(f"removed tag{'s' if ' ' in old else ''} {old.replace(' ', ', ')}")
        return " and ".join(parts) or "changed the tags", "", note
    if field == "is_confidential":
        marked = "marked the ticket confidential" if new == "yes" else "lifted confidentiality"
        return marked, "", note
    if field == "description":
        return "edited the description", "", note
    if field == "assignee":
        if not new:
            return f"unassigned {old}", "", note
        text = f"assigned the ticket to {new}" if not old else f"reassigned {old} → {new}"
        return text, "", note
    if field == "priority" and note == "impact × urgency":
        return f"changed priority from {old} to {new}", "", "from impact × urgency"
    if old and new:
        return f"changed {label} from {old} to {new}", "", note
    if new:
        return f"set {label} to {new}", "", note
    if old:
        return f"cleared {label} (was {old})", "", note
    return f"{event.action} {label}", "", note


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "comment" or "event"
    at: datetime
    ago: str
    obj: Any
    line: EventLine | None = None
    actor: str = ""


def _timeline(
    ticket: Ticket, membership: Any, names: dict[str, str], now: datetime
) -> list[TimelineItem]:
    items = []
    for entry in selectors.ticket_timeline(ticket=ticket, viewer=membership):
        if entry.comment is not None:
            items.append(
                TimelineItem(kind="comment", at=entry.at, ago=ago(entry.at, now), obj=entry.comment)
            )
        elif entry.event is not None:
            event = entry.event
            actor = event.actor.display_name if event.actor else (event.actor_name or "System")
            items.append(
                TimelineItem(
                    kind="event",
                    at=entry.at,
                    ago=ago(entry.at, now),
                    obj=event,
                    line=describe_event(event, names),
                    actor=actor,
                )
            )
    return items


# The regions of the ticket page an HTMX answer can replace (out of band),
# besides the panels other apps contribute.
REGIONS = ("header", "details", "timeline", "links", "watchers", "attachments")


def _ticket_context(
    request: TenantRequest,
    ticket: Ticket,
    *,
    choices: DeskChoices | None = None,
    bound: dict[str, Form] | None = None,
) -> dict[str, Any]:
    membership = request.membership
    choices = choices or _choices(request, categories=True)
    bound = bound or {}
    tags = selectors.ticket_tags(ticket=ticket)
    watchers = list(selectors.ticket_watchers(ticket=ticket))
    names = {u.email.lower(): u.display_name for u in [*choices.staff, *watchers]}
    names[ticket.requester.email.lower()] = ticket.requester.display_name
    now = timezone.now()

    def field_form(name: str) -> FieldForm:
        if name in bound:
            return bound[name]  # type: ignore[return-value]
        extra = {"tag_names": tags} if FIELD_FORMS[name] is TagsForm else {}
        return FIELD_FORMS[name](choices=choices, ticket=ticket, **extra)

    watching = any(u.pk == request.user.pk for u in watchers)
    return {
        "ticket": ticket,
        "tags": tags,
        "watchers": watchers,
        "watching": watching,
        "attachments": list(selectors.ticket_attachments(ticket=ticket, viewer=membership)),
        "links": selectors.ticket_links(ticket=ticket, viewer=membership),
        "timeline": _timeline(ticket, membership, names, now),
        "panels": extensions.shown_panels(
            extensions.desk_panels, PanelRequest(membership=membership, ticket=ticket, now=now)
        ),
        "created_ago": ago(ticket.created_at, now),
        "updated_ago": ago(ticket.updated_at, now),
        "allowed_next": workflow.allowed_next(ticket.kind, ticket.status),
        "priority_hint": _priority_hint(ticket),
        "field_forms": {name: field_form(name) for name in FIELD_FORMS},
        "transition_form": bound.get("transition") or TransitionForm(ticket=ticket),
        "resolve_form": bound.get("resolve")
        or TransitionForm(ticket=ticket, auto_id="resolve-%s", initial={"status": "resolved"}),
        "reply_form": bound.get("reply") or ReplyForm(),
        "attachment_form": bound.get("attachments") or AttachmentForm(),
        "merge_form": bound.get("merge") or MergeForm(),
        "link_form": bound.get("links") or LinkForm(),
        "watcher_form": bound.get("watchers") or WatcherForm(),
        "can_resolve": Status.RESOLVED in workflow.allowed_next(ticket.kind, ticket.status),
        "is_done": ticket.status in (Status.CLOSED, Status.CANCELLED),
    }


def _priority_hint(ticket: Ticket) -> str:
    matrix = Priority(
        selectors.ticket_settings(ticket.tenant_id).priority_for(ticket.impact, ticket.urgency)
    )
    if ticket.priority_override_reason:
        return f"Set by hand. Impact × urgency gives {matrix.label}; choose it to go back."
    return "From impact × urgency. Another priority needs a reason."


@require_GET
@tenant_area("desk")
def ticket_detail(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """One ticket: its facts, conversation and history, and everything an agent does to it."""
    ticket = selectors.get_ticket_for(request.membership, key)
    if ticket.key != key:
        return redirect("tickets:desk_ticket", tenant_slug=tenant_slug, key=ticket.key)
    return render(request, "tickets/desk/ticket.html", _ticket_context(request, ticket))


def _answer(
    request: TenantRequest,
    key: str,
    *,
    ok: bool,
    bound: dict[str, Form] | None = None,
    with_reply: bool = False,
) -> HttpResponse:
    """After a change to a ticket: without JS, back to the page (or the page
    with the form's errors, 400); for HTMX, the page's regions, swapped out of
    band (the reply box only when the reply was what changed)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    status = 200 if ok else 400
    if not request.htmx:
        if ok:
            return redirect("tickets:desk_ticket", tenant_slug=request.tenant.slug, key=ticket.key)
        context = _ticket_context(request, ticket, bound=bound)
        return render(request, "tickets/desk/ticket.html", context, status=status)
    context = _ticket_context(request, ticket, bound=bound)
    context["regions"] = [*REGIONS, "reply"] if with_reply else list(REGIONS)
    return render(request, "tickets/desk/ticket_regions.html", context, status=status)


@require_POST
@tenant_area("desk")
def ticket_fields(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Change one field in place (``field`` names it): assignee, team, category,
    impact, urgency, priority (with a reason), tags, confidential or title."""
    ticket = selectors.get_ticket_for(request.membership, key)
    name = request.POST.get("field", "")
    form_class = FIELD_FORMS.get(name)
    if form_class is None:
        messages.error(request, "Choose which field to change.")
        return _answer(request, key, ok=False)
    choices = _choices(request, categories=True)
    extra = {"tag_names": selectors.ticket_tags(ticket=ticket)} if form_class is TagsForm else {}
    form = form_class(request.POST, choices=choices, ticket=ticket, **extra)
    actor = Actor.of(request.membership)
    done = _run(
        form, lambda _: services.ticket_update(actor=actor, ticket=ticket, **form.changes())
    )
    if done is not None:
        messages.success(request, f"{form.label} saved.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={name: form})


@require_POST
@tenant_area("desk")
def ticket_transition(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Move the ticket along the workflow (resolving needs a resolution code)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    slot = "resolve" if request.POST.get("form") == "resolve" else "transition"
    form = TransitionForm(
        request.POST, ticket=ticket, auto_id="resolve-%s" if slot == "resolve" else "status-%s"
    )
    done = _run(
        form,
        lambda data: services.ticket_transition(
            actor=Actor.of(request.membership),
            ticket=ticket,
            status=data["status"],
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
        ),
    )
    if done is not None:
        messages.success(request, f"{done.key} is now {done.get_status_display().lower()}.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={slot: form})


@require_POST
@tenant_area("desk")
def ticket_reply(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """A public reply or an internal note, with files."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = ReplyForm(request.POST, request.FILES)
    comment = _run(
        form,
        lambda data: services.comment_add(
            actor=Actor.of(request.membership),
            ticket=ticket,
            body=data["body"],
            is_internal=form.is_internal,
            source=Source.DESK,
            files=data["attachments"],
        ),
    )
    if comment is not None:
        messages.success(request, "Internal note added." if comment.is_internal else "Reply sent.")
        return _answer(request, key, ok=True, with_reply=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={"reply": form}, with_reply=True)


@require_POST
@tenant_area("desk")
def ticket_attachments(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Attach files to the ticket itself (not to a reply)."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = AttachmentForm(request.POST, request.FILES)
    actor = Actor.of(request.membership)

    def attach(data: dict[str, Any]) -> int:
        for upload in data["attachments"]:
            services.attachment_add(
                actor=actor, ticket=ticket, upload=upload, is_internal=data["is_internal"]
            )
        return len(data["attachments"])

    count = _run(form, attach)
    if count:
        messages.success(request, f"Attached {count} file{'s' if count != 1 else ''}.")
        return _answer(request, key, ok=True)
    _flash_errors(request, error_messages(form))
    return _answer(request, key, ok=False, bound={"attachments": form})


def _other_ticket(request: TenantRequest, form: Form, field: str) -> Ticket | None:
    """The ticket a form names by key, if the agent may see it; else a form error."""
    try:
        return selectors.get_ticket_for(request.membership, form.cleaned_data[field])
    except Http404:
        form.add_error(field, f"No ticket {form.cleaned_data[field]} that you can see.")
        return None


@require_POST
@tenant_area("desk")
def ticket_merge(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Merge this ticket (a duplicate) into another; then show that one."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = MergeForm(request.POST)
    target = _other_ticket(request, form, "target") if form.is_valid() else None
    merged = None
    if target is not None:
        merged = _run(
            form,
            lambda _: services.ticket_merge(
                actor=Actor.of(request.membership), source=ticket, target=target
            ),
        )
    if merged is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"merge": form})
    messages.success(request, f"Merged {ticket.key} into {merged.key}.")
    url = reverse("tickets:desk_ticket", kwargs={"tenant_slug": tenant_slug, "key": merged.key})
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@tenant_area("desk")
def ticket_links(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Link or unlink a parent, child, problem, incident or change."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = LinkForm(request.POST)
    other = _other_ticket(request, form, "other") if form.is_valid() else None
    done = None
    if other is not None:
        data = form.cleaned_data
        relation, adding = data["relation"], data["action"] == "add"
        # A child and an incident are the other ticket's parent and problem links.
        subject, obj = (other, ticket) if relation in ("child", "incident") else (ticket, other)
        service_relation = {"child": "parent", "incident": "problem"}.get(relation, relation)
        link = services.ticket_link if adding else services.ticket_unlink
        done = _run(
            form,
            lambda _: link(
                actor=Actor.of(request.membership),
                ticket=subject,
                relation=service_relation,
                other=obj,
            ),
        )
        if done is not None:
            verb = "Linked" if adding else "Unlinked"
            messages.success(request, f"{verb} {other.key}.")
    if done is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"links": form})
    return _answer(request, key, ok=True)


@require_POST
@tenant_area("desk")
def ticket_watchers(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """Add a member as a watcher (by e-mail), or remove one."""
    ticket = selectors.get_ticket_for(request.membership, key)
    form = WatcherForm(request.POST)
    done = None
    if form.is_valid():
        email = form.cleaned_data["email"]
        adding = form.cleaned_data["action"] == "add"
        people: QuerySet[User] = (
            core_selectors.active_member_users(tenant=request.tenant)
            if adding
            else selectors.ticket_watchers(ticket=ticket)
        )
        user = people.filter(email__iexact=email).first()
        if user is None:
            form.add_error(
                "email",
                f"{email} is not an active member of this organisation."
                if adding
                else f"{email} is not watching {ticket.key}.",
            )
        else:
            change = services.watcher_add if adding else services.watcher_remove
            done = _run(
                form,
                lambda _: change(actor=Actor.of(request.membership), ticket=ticket, user=user),
            )
            if done is not None:
                me = user.pk == request.user.pk
                if adding:
                    text = "You are watching" if me else f"{user.display_name} is watching"
                else:
                    text = "You stopped watching" if me else f"{user.display_name} stopped watching"
                messages.success(request, f"{text} {ticket.key}.")
    if done is None:
        _flash_errors(request, error_messages(form))
        return _answer(request, key, ok=False, bound={"watchers": form})
    return _answer(request, key, ok=True)
