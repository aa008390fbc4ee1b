"""An agent opens a ticket on someone's behalf."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from servicedesk import selectors as core_selectors
from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import posted
from tickets import services
from tickets.desk.common import _choices, _run
from tickets.forms import NewTicketForm
from tickets.models import Source
from tickets.services import Actor

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
