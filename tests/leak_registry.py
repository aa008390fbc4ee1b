"""What the cross-tenant leak matrix needs to know about the routes.

Every URL keyword argument names an object; ``FOREIGN_VALUES`` says how to
fetch the *foreign* tenant's object for it. A new route whose keyword is not
here fails the matrix until its factory is registered, so no route is left
out by accident. A route may be left out only in ``EXCLUDED``, with a reason.

``foreign_markers`` lists text that must never appear in a response to one of
our users; ``foreign_fingerprint`` captures the foreign tenant's state, which
no request of ours may change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servicedesk.models import AuditEvent, Invitation, Membership, Role, Team
from tests.conftest import World

FOREIGN_VALUES: dict[str, Callable[[World], Any]] = {
    "tenant_slug": lambda w: w.tenant.slug,
    "membership_id": lambda w: w.members[Role.AGENT].pk,
    "team_slug": lambda w: w.team.slug,
    "invitation_id": lambda w: w.invitation.pk,
}

# Route name (or namespace followed by ":") -> why the matrix does not walk it.
EXCLUDED: dict[str, str] = {
    "admin:": "Django admin is the platform operators' cross-tenant tool; it admits only "
    "is_staff users (tested in test_platform_admin).",
    "invitation_accept": "Addressed by a signed token, not an id; the token names its "
    "invitation and tenant (tested in servicedesk/test_invitations).",
    "password_reset_confirm": "Addressed by a signed per-user token; carries no tenant data.",
}


def foreign_markers(world: World) -> list[str]:
    return [
        world.tenant.name,
        world.team.name,
        world.invitation.email,
        *(m.user.email for m in world.members.values()),
    ]


def foreign_fingerprint(world: World) -> tuple[Any, ...]:
    tenant = world.tenant
    return (
        tuple(
            Membership.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "role", "is_active")
        ),
        tuple(Team.objects.for_tenant(tenant).order_by("pk").values_list("pk", "name", "lead_id")),
        tuple(
            Team.members.through.objects.filter(team__tenant=tenant)
            .order_by("pk")
            .values_list("team_id", "user_id")
        ),
        tuple(
            Invitation.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("pk", "accepted_at", "revoked_at")
        ),
        AuditEvent.objects.for_tenant(tenant).count(),
    )
