"""Saved queue views: own or shared with a team."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from servicedesk.models import Team
from tickets.models import SavedView
from tickets.services.actors import Actor, _require_staff
from tickets.services.common import _check_team

# --- Saved views -----------------------------------------------------------------------------


@transaction.atomic
def saved_view_create(
    *, actor: Actor, name: str, query: str, team: Team | None = None
) -> SavedView:
    """Save a queue filter under a name, for oneself or shared with a team
    one belongs to. ``query`` has been validated by the queue's filter form."""
    _require_staff(actor)
    if actor.user is None:
        raise PermissionDenied("Saved views belong to a person.")
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ValidationError({"name": "Name the view."})
    if team is not None:
        _check_team(actor.tenant_id, team)
        if not team.members.filter(pk=actor.user.pk).exists():
            raise ValidationError({"team": "You can share a view only with a team you are in."})
    views = SavedView.objects.for_tenant(actor.tenant_id)
    if views.filter(owner=actor.user, name=name).exists():
        raise ValidationError({"name": "You already have a view with this name."})
    return views.create(
        tenant_id=actor.tenant_id, owner=actor.user, team=team, name=name, query=query[:1000]
    )


@transaction.atomic
def saved_view_delete(*, actor: Actor, view: SavedView) -> None:
    if view.tenant_id != actor.tenant_id or view.owner_id != getattr(actor.user, "pk", None):
        raise PermissionDenied("Only the owner deletes a saved view.")
    SavedView.objects.for_tenant(actor.tenant_id).filter(pk=view.pk).delete()
