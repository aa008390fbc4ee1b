"""What the knowledge base adds to the ticket pages (``tickets.extensions``):
suggested articles on the desk's ticket page, and suggestions beside the
portal's new-ticket form. Both load with HTMX after the page, so neither
costs the page a query; without JS each is a link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tickets import extensions
from tickets.extensions import PanelRequest


def desk_panel(request: PanelRequest) -> Mapping[str, Any]:
    return {"ticket": request.ticket}


def register() -> None:
    extensions.desk_panels.register(
        extensions.TicketPanel(
            name="kb",
            order=40,
            template="kb/_partials/desk_ticket_kb.html",
            context=desk_panel,
        )
    )
    extensions.portal_actions.register(
        extensions.PortalAction(
            name="kb", order=20, label="Browse the knowledge base", url_name="kb:portal_list"
        )
    )
    extensions.report_asides.register(
        extensions.ReportAside(name="kb", order=10, template="kb/_partials/report_suggest.html")
    )
