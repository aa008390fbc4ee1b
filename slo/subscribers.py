"""What the SLA does when a ticket changes: its clocks follow the ticket's
log inside the same transaction (``tickets.hooks``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from slo.services import clocks_sync
from tickets import hooks
from tickets.hooks import Happened, TicketChange

# Changes the clocks follow: the facts policy conditions read.
SLA_FIELDS = frozenset({"priority", "team", "category", "tags"})

_held: ContextVar[bool] = ContextVar("sla_clocks_held", default=False)


@contextmanager
def clocks_held() -> Iterator[None]:
    """Ticket changes made inside leave the clocks alone. Only for a bulk
    load that folds each ticket's whole log into its clocks afterwards (the
    demo seed, ``slo.demo_data.fold_history``): the clocks then are what
    following every change would have made them."""
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)


def sync_clocks(change: TicketChange) -> None:
    """Fold the change's events into the ticket's clocks. Field changes that
    no policy reads, and internal notes (which are no response), leave the
    clocks as they are, without reading the log."""
    if _held.get():
        return
    if change.happened is Happened.UPDATED and not SLA_FIELDS & change.fields:
        return
    if change.happened is Happened.COMMENTED and not change.is_public:
        return
    if change.ticket is None:
        raise RuntimeError("The SLA follows ticket changes inside their transaction.")
    clocks_sync(ticket=change.ticket)


def subscribe() -> None:
    hooks.subscribe(
        "sla.clocks",
        sync_clocks,
        order=10,
        happened=(
            Happened.CREATED,
            Happened.UPDATED,
            Happened.TRANSITIONED,
            Happened.COMMENTED,
            Happened.MERGED,
        ),
    )
