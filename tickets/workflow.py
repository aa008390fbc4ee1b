"""The ticket workflow: which status may follow which, per kind.

One table, read by the service layer for every caller (desk, portal, API,
automation), so no path can move a ticket where another could not.
"""

from __future__ import annotations

from tickets.models import Status, TicketKind

S = Status

# Incidents, requests and changes:
#   new -> in_progress <-> pending -> resolved -> closed; cancelled from any open state.
# A resolved ticket goes back to in_progress when it is reopened.
BASE: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.PENDING, S.RESOLVED, S.CANCELLED}),
    S.PENDING: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Problems add known_error: the root cause is known and a workaround
# documented, the fix still to come.
PROBLEM: dict[str, frozenset[str]] = {
    **BASE,
    S.IN_PROGRESS: BASE[S.IN_PROGRESS] | {S.KNOWN_ERROR},
    S.PENDING: BASE[S.PENDING] | {S.KNOWN_ERROR},
    S.KNOWN_ERROR: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CANCELLED}),
}

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    TicketKind.INCIDENT: BASE,
    TicketKind.REQUEST: BASE,
    TicketKind.CHANGE: BASE,
    TicketKind.PROBLEM: PROBLEM,
}

# Statuses a kind can be in at all (known_error belongs to problems only).
STATUSES: dict[str, frozenset[str]] = {
    kind: frozenset(table) for kind, table in TRANSITIONS.items()
}

# Ordered as a person reads the flow, for messages and menus.
ORDER = [s.value for s in Status]


def allowed_next(kind: str, status: str) -> list[str]:
    """The statuses a ticket of ``kind`` may move to from ``status``, in flow order."""
    targets = TRANSITIONS[kind].get(status, frozenset())
    return [s for s in ORDER if s in targets]


def can_move(kind: str, status: str, target: str) -> bool:
    return target in TRANSITIONS[kind].get(status, frozenset())
