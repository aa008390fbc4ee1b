"""A tenant's ticket settings (priority matrix, reopen window) and categories."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from servicedesk.models import Role, Tenant
from servicedesk.services import audit_record
from tickets.models import (
    Category,
    Priority,
    TicketSettings,
)
from tickets.services.actors import Actor

# --- Tenant settings and categories ------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise PermissionDenied("Only admins change the organisation's ticket settings.")


@transaction.atomic
def ticket_settings_update(
    *, actor: Actor, priority_matrix: dict[str, dict[str, int]], reopen_window_days: int
) -> TicketSettings:
    """Set the impact × urgency → priority matrix and the reopen window.
    Existing tickets keep their priority; new ones and re-rated ones follow
    the new matrix."""
    _require_admin(actor)
    matrix: dict[str, dict[str, int]] = {}
    for impact in ("1", "2", "3"):
        matrix[impact] = {}
        for urgency in ("1", "2", "3"):
            try:
                value = int(priority_matrix[impact][urgency])
            except (KeyError, TypeError, ValueError):
                value = 0
            if value not in Priority.values:
                raise ValidationError(
                    {
                        "priority_matrix": f"Impact {impact} × urgency {urgency} needs a "
                        "priority from 1 to 5."
                    }
                )
            matrix[impact][urgency] = value
    if not isinstance(reopen_window_days, int) or not 0 <= reopen_window_days <= 365:
        raise ValidationError({"reopen_window_days": "Choose between 0 and 365 days."})
    found = TicketSettings.objects.for_tenant(actor.tenant_id).select_for_update().first()
    current = found or TicketSettings(tenant_id=actor.tenant_id)
    before = (current.priority_matrix, current.reopen_window_days)
    current.priority_matrix = matrix
    current.reopen_window_days = reopen_window_days
    current.save()
    if before != (matrix, reopen_window_days):
        audit_record(
            tenant=Tenant.objects.get(pk=actor.tenant_id),
            actor=actor.user,
            action="tickets.settings_changed",
            target="ticket settings",
            reopen_window_days=reopen_window_days,
            # Rows by impact, columns by urgency: "1 2 3 / 2 3 4 / 3 4 5".
            priority_matrix=" / ".join(
                " ".join(str(matrix[i][u]) for u in ("1", "2", "3")) for i in ("1", "2", "3")
            ),
        )
    return current


@transaction.atomic
def category_create(*, actor: Actor, name: str) -> Category:
    _require_admin(actor)
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationError({"name": "Name the category."})
    categories = Category.objects.for_tenant(actor.tenant_id)
    if categories.filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is a category with this name already."})
    category = categories.create(tenant_id=actor.tenant_id, name=name)
    audit_record(
        tenant=Tenant.objects.get(pk=actor.tenant_id),
        actor=actor.user,
        action="tickets.category_created",
        target=name,
    )
    return category


@transaction.atomic
def category_delete(*, actor: Actor, category: Category) -> None:
    """Remove a category; its tickets keep everything else and lose only it."""
    _require_admin(actor)
    if category.tenant_id != actor.tenant_id:
        raise PermissionDenied("Not a category of this tenant.")
    Category.objects.for_tenant(actor.tenant_id).filter(pk=category.pk).delete()
    audit_record(
        tenant=Tenant.objects.get(pk=actor.tenant_id),
        actor=actor.user,
        action="tickets.category_deleted",
        target=category.name,
    )
