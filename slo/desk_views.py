"""The SLA's page of the desk: how a ticket's clocks were counted."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from servicedesk.access import TenantRequest, tenant_area
from slo import selectors as sla_selectors
from slo.engine import TARGETS
from slo.presenters import clock_line, explanation_lines
from tickets import selectors as ticket_selectors


@require_GET
@tenant_area("desk")
def ticket_sla(request: TenantRequest, tenant_slug: str, key: str) -> HttpResponse:
    """How the ticket's SLA clocks were counted: their running and paused
    stretches, what happened to them and why each is due when it is,
    replayed from the ticket's log. The ticket page asks (HTMX) for one
    clock's (``target``) when its explanation is opened; without JS this is
    a page of its own."""
    ticket = ticket_selectors.get_ticket_for(request.membership, key)
    now = timezone.now()
    explanations = [
        explanation_lines(e)
        for e in sla_selectors.ticket_clock_explanations(ticket=ticket, now=now)
    ]
    if request.htmx:
        target = request.GET.get("target", "")
        chosen = next((e for e in explanations if e.target == target), None)
        return render(request, "slo/_partials/desk_sla_explanation.html", {"explanation": chosen})
    if ticket.key != key:
        return redirect("slo:desk_ticket_sla", tenant_slug=tenant_slug, key=ticket.key)
    lines = {v.target: clock_line(v) for v in sla_selectors.ticket_clocks(ticket=ticket, now=now)}
    replayed = {e.target: e for e in explanations}
    # A stored clock the replay no longer finds (its policy went away) is still listed.
    targets = [t for t in TARGETS if t in lines or t in replayed]
    context = {
        "ticket": ticket,
        "clocks": [(lines.get(t), replayed.get(t)) for t in targets],
    }
    return render(request, "slo/desk/ticket_sla.html", context)
