"""The ticket lifecycle hook: how other apps learn what happened to a ticket
without ``tickets`` knowing them.

A ticket service that changed a ticket publishes one ``TicketChange`` after
it recorded its events, inside its transaction. Apps subscribe from their
``AppConfig.ready``:

* ``IN_TRANSACTION`` receivers run right away, in ``order`` (then name),
  inside the service's transaction and with the ticket row locked. They are
  for invariants that must commit or roll back with the change (the SLA
  clocks). An exception aborts the whole change.
* ``AFTER_COMMIT`` receivers run once the transaction committed, each on its
  own (an exception is logged and the others still run), and get the change
  without the ticket instance: ids only, to re-read or hand to a task. They
  are for work that may lag (webhooks, automation triggers, counters); work
  that must not be lost writes an outbox row in an in-transaction receiver
  instead.

Not Django signals: the publishers are the services, the payload is typed,
and ``receivers()`` lists every subscription (a test pins them).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from django.db import transaction

from servicedesk.registry import Registry

if TYPE_CHECKING:
    from tickets.models import Ticket


class Happened(enum.StrEnum):
    """What a service did to the ticket."""

    CREATED = "created"
    UPDATED = "updated"  # fields changed: ``fields`` names them
    TRANSITIONED = "transitioned"  # the status moved (also: closed when the reopen window passed)
    COMMENTED = "commented"  # a reply or an internal note (``is_public``)
    ATTACHED = "attached"  # files added on their own, not with a comment
    LINKED = "linked"  # a parent, problem, change or duplicate link set or removed
    MERGED = "merged"  # this ticket was merged into ``other_ticket_id``
    WATCHERS_CHANGED = "watchers_changed"


class Phase(enum.StrEnum):
    IN_TRANSACTION = "in_transaction"
    AFTER_COMMIT = "after_commit"


@dataclass(frozen=True)
class TicketChange:
    """One service call's effect on one ticket.

    ``fields`` names the model fields that changed (``"tags"`` for tags,
    ``"status"`` for a transition). ``actor_kind`` is an ``ActorKind`` and
    ``actor_user_id`` the member who acted, if a person did. ``ticket`` is
    the locked instance for in-transaction receivers and ``None`` after
    commit."""

    happened: Happened
    tenant_id: int
    ticket_id: int
    actor_kind: str
    actor_user_id: int | None = None
    fields: frozenset[str] = frozenset()
    is_public: bool = True
    old_status: str = ""
    new_status: str = ""
    other_ticket_id: int | None = None
    ticket: Ticket | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Receiver:
    name: str
    order: int
    phase: Phase
    call: Callable[[TicketChange], None]
    # The kinds of change it wants; empty: every kind.
    happened: frozenset[Happened] = frozenset()

    def wants(self, change: TicketChange) -> bool:
        return not self.happened or change.happened in self.happened


_receivers: Registry[Receiver] = Registry("ticket hook receiver")


def subscribe(
    name: str,
    call: Callable[[TicketChange], None],
    *,
    order: int = 100,
    phase: Phase = Phase.IN_TRANSACTION,
    happened: Iterable[Happened] = (),
) -> None:
    """Call ``call`` for every published change of the kinds ``happened``
    (all when empty). ``name`` is unique, e.g. ``"sla.clocks"``."""
    _receivers.register(
        Receiver(name=name, order=order, phase=phase, call=call, happened=frozenset(happened))
    )


def unsubscribe(name: str) -> None:
    _receivers.unregister(name)


def receivers() -> list[Receiver]:
    """Every subscription, in the order they are called."""
    return list(_receivers)


def publish(change: TicketChange) -> None:
    """Hand ``change`` to the receivers. Called by ticket services inside
    their transaction, after the change's events are recorded."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("Ticket changes are published inside the service's transaction.")
    detached = replace(change, ticket=None)
    for receiver in _receivers:
        if not receiver.wants(change):
            continue
        if receiver.phase is Phase.IN_TRANSACTION:
            receiver.call(change)
        else:
            transaction.on_commit(_deferred(receiver, detached), robust=True)


def _deferred(receiver: Receiver, change: TicketChange) -> Callable[[], None]:
    def call() -> None:
        receiver.call(change)

    # Django names the callback when it logs the exception of a robust one.
    call.__qualname__ = f"ticket hook receiver {receiver.name!r}"
    return call
