"""Who follows a ticket, and who may see a confidential one (django-guardian grants)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from servicedesk.models import Role, Team, User
from tickets.hooks import Happened
from tickets.models import (
    Ticket,
    Watcher,
)
from tickets.selectors import (
    CONFIDENTIAL_PERMISSION,
    staff_members,
    ticket_watchers,
)
from tickets.services.actors import Actor, _require_same_tenant
from tickets.services.common import _active_member, _check_team, _publish, _record
from tickets.services.notifications import _muted

# --- Watchers and confidentiality ---------------------------------------------------------


def _watchers(ticket: Ticket, *, staff_only: bool = False) -> list[User]:
    if _muted.get():
        return []  # only mail needs them
    users = ticket_watchers(ticket=ticket)
    if staff_only:
        users = users.filter(pk__in=staff_members(tenant=ticket.tenant_id).values("pk"))
    return list(users)


@transaction.atomic
def watcher_add(*, actor: Actor, ticket: Ticket, user: User, now: datetime | None = None) -> Ticket:
    """Someone starts following the ticket. Agents add anyone in the
    tenant; a requester adds only themselves to a ticket they can see."""
    _require_same_tenant(actor, ticket)
    if not actor.is_staff and user != actor.user:
        raise PermissionDenied("You can only follow a ticket yourself.")
    _active_member(ticket.tenant_id, user, "user", staff=False)
    _, created = Watcher.objects.for_tenant(ticket.tenant_id).get_or_create(
        tenant_id=ticket.tenant_id, ticket=ticket, user=user
    )
    if created:
        _record(ticket, actor, "changed", field="watchers", new=user, at=now)
        if ticket.is_confidential and _is_staff_member(ticket.tenant_id, user):
            _grant_confidential(ticket, [user])
        _publish(ticket, actor, Happened.WATCHERS_CHANGED, fields=frozenset({"watchers"}))
    return ticket


@transaction.atomic
def watcher_remove(*, actor: Actor, ticket: Ticket, user: User) -> Ticket:
    _require_same_tenant(actor, ticket)
    if not actor.is_staff and user != actor.user:
        raise PermissionDenied("You can only stop following a ticket yourself.")
    removed, _ = (
        Watcher.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket, user=user).delete()
    )
    if removed:
        _record(ticket, actor, "changed", field="watchers", old=user)
        _publish(ticket, actor, Happened.WATCHERS_CHANGED, fields=frozenset({"watchers"}))
    return ticket


def _is_staff_member(tenant_id: int, user: User) -> bool:
    return staff_members(tenant=tenant_id).filter(pk=user.pk).exists()


def _grant_confidential(ticket: Ticket, users: Iterable[User]) -> None:
    for user in users:
        assign_perm(f"tickets.{CONFIDENTIAL_PERMISSION}", user, ticket)


@transaction.atomic
def confidential_grant(
    *,
    actor: Actor,
    ticket: Ticket,
    user: User | None = None,
    team: Team | None = None,
    now: datetime | None = None,
) -> list[User]:
    """Let an agent (or every agent of a team, e.g. security) see the
    confidential ticket. Leads and admins grant."""
    _require_same_tenant(actor, ticket)
    if Role.rank(actor.role) < Role.rank(Role.LEAD):
        raise PermissionDenied("Only leads and admins grant access to confidential tickets.")
    users: list[User] = []
    if user is not None:
        _active_member(ticket.tenant_id, user, "user", staff=True)
        users.append(user)
    if team is not None:
        _check_team(ticket.tenant_id, team)
        users += [u for u in team.members.all() if _is_staff_member(ticket.tenant_id, u)]
    _grant_confidential(ticket, users)
    for granted in users:
        _record(ticket, actor, "changed", field="access", new=granted, note="granted", at=now)
    return users


@transaction.atomic
def confidential_revoke(*, actor: Actor, ticket: Ticket, user: User) -> None:
    _require_same_tenant(actor, ticket)
    if Role.rank(actor.role) < Role.rank(Role.LEAD):
        raise PermissionDenied("Only leads and admins change access to confidential tickets.")
    remove_perm(f"tickets.{CONFIDENTIAL_PERMISSION}", user, ticket)
    _record(ticket, actor, "changed", field="access", old=user, note="revoked")
