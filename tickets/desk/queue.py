"""The queue: its filters, sort and columns (apps add theirs through
``tickets.extensions``), the 30-second poll of its rows, bulk actions and
saved views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import error_messages
from servicedesk.models import User
from tickets import extensions, selectors, services
from tickets.desk.common import (
    PER_PAGE,
    ROWS_TARGET,
    _choices,
    _clean_next,
    _desk_url,
    _flash_errors,
    _run,
    ago,
)
from tickets.forms import (
    BulkForm,
    DeskChoices,
    QueueFilterForm,
    QueueQuery,
    SavedViewForm,
)
from tickets.models import (
    Priority,
    Status,
    Ticket,
    parse_ticket_key,
)
from tickets.services import Actor, BulkChange

# --- The queue -------------------------------------------------------------------------

KEY_SLOT = "KEY-0"


def _ticket_url_maker(tenant_slug: str) -> Callable[[str], str]:
    """``key -> the desk URL of that ticket``, from one ``reverse()``
    (a ticket key is URL-safe: letters, a dash, digits)."""
    prefix, _, suffix = reverse(
        "tickets:desk_ticket", kwargs={"tenant_slug": tenant_slug, "key": KEY_SLOT}
    ).rpartition(KEY_SLOT)
    return lambda key: f"{prefix}{key}{suffix}"


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
    ).defer("description")  # a row shows no description: don't fetch fifty of them
    paginator = Paginator(tickets, PER_PAGE)
    if query.queue in counts and query.filters == selectors.QueueFilters(sort=query.filters.sort):
        # Unfiltered, the queue holds what the side list counted already.
        paginator.count = counts[query.queue]
    page = paginator.get_page(params.get("page"))
    rows = list(page.object_list)
    # The apps' columns (the SLA's badge): a fixed number of queries per page.
    cells = extensions.row_cells(membership, rows, now)
    # One reverse() for the page, not one per row.
    url_of = _ticket_url_maker(request.tenant.slug)
    for ticket in rows:
        ticket.desk_url = url_of(ticket.key)  # type: ignore[attr-defined]
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
