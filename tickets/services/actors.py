"""Who makes a change: a member with their role, an automation or an
integration, and the checks every service makes of them."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from servicedesk.models import Membership, Role, Tenant, User
from tickets.models import (
    ActorKind,
    Ticket,
)
from tickets.selectors import Viewer

# --- Who acts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a member (with their role), an automation or an
    integration. Recorded on every event."""

    tenant_id: int
    user: User | None
    role: str
    kind: str = ActorKind.USER
    name: str = ""

    @classmethod
    def of(cls, membership: Membership) -> Actor:
        return cls(
            tenant_id=membership.tenant_id,
            user=membership.user,
            role=membership.role if membership.is_active else Role.REQUESTER,
        )

    @classmethod
    def system(cls, tenant: Tenant | int, name: str = "system") -> Actor:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return cls(
            tenant_id=tenant_id, user=None, role=Role.AGENT, kind=ActorKind.SYSTEM, name=name
        )

    @classmethod
    def automation(cls, tenant: Tenant | int, name: str) -> Actor:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return cls(tenant_id, None, Role.AGENT, ActorKind.AUTOMATION, name)

    @property
    def is_staff(self) -> bool:
        return Role.rank(self.role) >= Role.rank(Role.AGENT)

    @property
    def viewer(self) -> Viewer:
        return Viewer(tenant_id=self.tenant_id, user=self.user, role=self.role)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.display_name
        return self.name or self.kind


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only agents can do this.")


def _require_same_tenant(actor: Actor, ticket: Ticket) -> None:
    if ticket.tenant_id != actor.tenant_id:
        # Callers fetch tickets through the actor's tenant; this is the backstop.
        raise PermissionDenied("Not a ticket of this tenant.")
