"""What the SLA adds to the ticket pages, the desk's queues and the tenant
admin's member page, registered from ``SloConfig.ready``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, Q

from servicedesk import registry
from slo import admin_views, presenters
from slo import selectors as sla_selectors
from slo.rules import SLA_ACTION
from tickets import extensions
from tickets.models import OPEN_STATUSES
from tickets.selectors import Viewer


def _breaching_soon(viewer: Viewer, team_ids: Sequence[int], now: datetime) -> Q:
    # Reads the partial index of counting clocks by due time (one range scan
    # per tenant), not the clocks of every open ticket.
    due_soon = sla_selectors.breaching_soon_ids(tenant=viewer.tenant_id, now=now)
    return Q(status__in=OPEN_STATUSES) & Q(pk__in=due_soon)


def _by_due(flipped: bool) -> tuple[object, ...]:
    due = F(sla_selectors.SLA_DUE)
    first = due.desc(nulls_last=True) if flipped else due.asc(nulls_last=True)
    return (first, "priority", "-pk")


def register() -> None:
    registry.member_panels.register(
        registry.MemberPanel(
            name="sla_profile",
            order=10,
            template="slo/admin/_member_sla_profile.html",
            context=admin_views.member_profile_context,
            handle=admin_views.member_profile_post,
        )
    )
    within = presenters.business_duration(sla_selectors.BREACHING_SOON)
    extensions.queues.register(
        extensions.Queue(
            name="breaching",
            order=20,
            label="Breaching soon",
            condition=_breaching_soon,
            # A queue that is about time sorts by it unless told otherwise.
            default_sort="due",
            alert=True,
            empty=f"No open ticket has breached its SLA or is due within {within}.",
        )
    )
    extensions.sorts.register(
        extensions.Sort(
            name="due",
            order=40,
            label="SLA due, soonest first",
            reversed_label="SLA due, latest first",
            order_by=_by_due,
            annotate=sla_selectors.with_sla_due,
            first="ascending",
        )
    )
    extensions.queue_columns.register(
        extensions.QueueColumn(
            name="sla",
            order=10,
            header="SLA",
            template="slo/_partials/desk_sla_badge.html",
            values=presenters.queue_badges,
            sort="due",
            title="Sort by SLA due time",
        )
    )
    extensions.desk_panels.register(
        extensions.TicketPanel(
            name="sla",
            order=10,
            template="slo/_partials/desk_ticket_sla.html",
            context=presenters.ticket_panel,
        )
    )
    extensions.event_renderers.register(
        extensions.EventRenderer(name=SLA_ACTION, order=10, render=presenters.sla_event_line)
    )
