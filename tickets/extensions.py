"""What other apps add to the ticket pages and the desk's queues, without
``tickets`` knowing them: panels on the ticket page (desk and portal),
columns and sorts of the queue, queues of their own, and how their entries
of the ticket's log read in the timeline.

Apps register from their ``AppConfig.ready``; the pages ask these
registries what to show, in ``order``. Every contribution works on a whole
page at once (a column's ``values`` gets all the page's tickets), so a page
costs a fixed number of queries however many rows or panels it has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from servicedesk.registry import Registry
from tickets.models import TICKET_KEY

if TYPE_CHECKING:
    from servicedesk.models import Membership
    from tickets.models import Ticket, TicketEvent
    from tickets.selectors import Viewer


# --- Ticket page panels ------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRequest:
    """What a panel is built for: who looks, at which ticket, when."""

    membership: Membership
    ticket: Ticket
    now: datetime


@dataclass(frozen=True)
class TicketPanel:
    """A card on a ticket page. ``context`` returns what ``template`` reads
    (as ``panel``), or ``None`` to show nothing for this reader. The desk
    swaps panels in place after a change, so a panel's template gives its
    root element ``id="ticket-<name>"`` and ``hx-swap-oob`` when ``oob``."""

    name: str
    order: int
    template: str
    context: Callable[[PanelRequest], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: Mapping[str, Any]


desk_panels: Registry[TicketPanel] = Registry("desk ticket panel")
portal_panels: Registry[TicketPanel] = Registry("portal ticket panel")


def shown_panels(panels: Registry[TicketPanel], request: PanelRequest) -> list[ShownPanel]:
    shown = []
    for panel in panels:
        context = panel.context(request)
        if context is not None:
            shown.append(ShownPanel(template=panel.template, context=context))
    return shown


@dataclass(frozen=True)
class PortalAction:
    """A way into another app from the portal's front page, beside "Report
    a problem" (the catalog's "Order something"): a label and the URL name
    of its page, reversed with the tenant's slug."""

    name: str
    order: int
    label: str
    url_name: str


portal_actions: Registry[PortalAction] = Registry("portal action")


@dataclass(frozen=True)
class ReportAside:
    """A card beside the portal's new-ticket form (the knowledge base's
    suggestions). ``template`` renders with the page's context (``form``)."""

    name: str
    order: int
    template: str


report_asides: Registry[ReportAside] = Registry("portal report aside")


# --- The desk's queues -------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """A queue of the desk. ``condition`` selects its tickets among those the
    viewer sees (``team_ids``: the viewer's teams); a ``counted`` queue's
    condition must hold open tickets only, since the side list counts over
    the open ones. ``alert`` marks a non-zero count; ``empty`` is what the
    queue says when it holds nothing."""

    name: str
    order: int
    label: str
    condition: Callable[[Viewer, Sequence[int], datetime], Q]
    counted: bool = True
    default_sort: str = ""
    alert: bool = False
    empty: str = "Nothing here. All caught up."


queues: Registry[Queue] = Registry("desk queue")


@dataclass(frozen=True)
class Sort:
    """An order of the queue: ``name`` sorts as ``label`` says and ``-name``
    the other way. ``order_by(flipped)`` gives the ordering (``flipped`` for
    ``-name``), reading what ``annotate`` adds; ``first`` is which way
    (``"ascending"`` or ``"descending"``) a column header sorted by it
    points after its first click."""

    name: str
    order: int
    label: str
    reversed_label: str
    order_by: Callable[[bool], tuple[Any, ...]]
    annotate: Callable[[QuerySet[Ticket]], QuerySet[Ticket]] | None = None
    first: str = "descending"


sorts: Registry[Sort] = Registry("queue sort")


@dataclass(frozen=True)
class QueueColumn:
    """A column of the queue's rows. ``values`` takes the page's tickets and
    returns what ``template`` shows for each (as ``value``), keyed by ticket
    id, in a fixed number of queries. ``sort`` names the ``Sort`` its header
    links to."""

    name: str
    order: int
    header: str
    template: str
    values: Callable[[Membership, Sequence[Ticket], datetime], Mapping[int, Any]]
    sort: str = ""
    title: str = ""


queue_columns: Registry[QueueColumn] = Registry("queue column")


@dataclass(frozen=True)
class Cell:
    column: QueueColumn
    value: Any


def row_cells(
    membership: Membership, tickets: Sequence[Ticket], now: datetime
) -> dict[int, list[Cell]]:
    """Each ticket's contributed cells, in column order."""
    cells: dict[int, list[Cell]] = {ticket.pk: [] for ticket in tickets}
    for column in queue_columns:
        values = column.values(membership, tickets, now)
        for ticket in tickets:
            cells[ticket.pk].append(Cell(column=column, value=values.get(ticket.pk)))
    return cells


# --- The timeline ------------------------------------------------------------------------


@dataclass(frozen=True)
class EventLine:
    """One entry of the ticket's log as the timeline says it: ``text`` (after
    the actor's name), a ticket it refers to (shown as a link after the
    text), a note, and a ``tone`` (a CSS modifier: the SLA's "sla" and
    "sla-breached")."""

    text: str
    ref: str = ""
    note: str = ""
    tone: str = ""

    def __post_init__(self) -> None:
        # Only a well-formed key becomes a link (the template reverses a URL from it).
        if self.ref and not TICKET_KEY.match(self.ref):
            object.__setattr__(self, "text", f"{self.text} {self.ref}")
            object.__setattr__(self, "ref", "")


@dataclass(frozen=True)
class EventRenderer:
    """How the log's entries with ``action`` read, for an app that records
    entries of its own (the SLA's "sla" entries)."""

    name: str  # the event action
    order: int
    render: Callable[[TicketEvent], EventLine]


event_renderers: Registry[EventRenderer] = Registry("timeline event renderer")
