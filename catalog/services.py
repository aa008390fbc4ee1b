"""Every write of the catalog: items with forms checked before they are
saved, and orders that open a request ticket with the answers kept whole."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalog import selectors
from catalog.models import CatalogItem, ItemStatus, Order, Service
from servicedesk import formschema
from servicedesk.models import Membership, Team, Tenant
from tickets import services as ticket_services
from tickets.models import Source, Ticket, TicketKind

ROUTER = "catalog"

ITEM_FIELDS = frozenset(
    {
        "name",
        "category",
        "short_description",
        "description",
        "icon",
        "service",
        "team",
        "sla_hint",
        "status",
        "visibility",
        "form_schema",
    }
)


def _refuse_taken_name(model: type[CatalogItem] | type[Service], row: Any, what: str) -> None:
    """Names are unique in a tenant, whatever their case."""
    taken = model.objects.for_tenant(row.tenant_id).filter(name__iexact=row.name)
    if row.pk is not None:
        taken = taken.exclude(pk=row.pk)
    if taken.exists():
        raise ValidationError({"name": f"{what} of this name exists."})


def _check_item(item: CatalogItem) -> None:
    try:
        formschema.parse_schema(item.form_schema)
    except ValidationError as error:
        raise ValidationError({"form_schema": error.messages}) from None
    for name, value in (("service", item.service), ("team", item.team)):
        if value is not None and value.tenant_id != item.tenant_id:
            raise ValidationError({name: "Choose one of this organisation's."})
    item.full_clean(exclude=["tenant", "service", "team"], validate_unique=False)
    _refuse_taken_name(CatalogItem, item, "An item")


@transaction.atomic
def item_create(*, tenant: Tenant, **fields: Any) -> CatalogItem:
    unknown = set(fields) - ITEM_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "No such setting."))
    item = CatalogItem(tenant=tenant, **fields)
    _check_item(item)
    item.save()
    return item


@transaction.atomic
def item_update(*, item: CatalogItem, now: datetime | None = None, **changes: Any) -> CatalogItem:
    """Change an item; a changed form gets a new version (orders placed
    under the old one keep theirs)."""
    unknown = set(changes) - ITEM_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "No such setting."))
    item = CatalogItem.objects.for_tenant(item.tenant_id).select_for_update().get(pk=item.pk)
    form_changed = "form_schema" in changes and changes["form_schema"] != item.form_schema
    for name, value in changes.items():
        setattr(item, name, value)
    _check_item(item)
    if form_changed:
        item.schema_version += 1
    item.updated_at = now or timezone.now()
    item.save()
    return item


@transaction.atomic
def service_create(*, tenant: Tenant, owner_team: Team | None = None, **fields: Any) -> Service:
    service = Service(tenant=tenant, owner_team=owner_team, **fields)
    if owner_team is not None and owner_team.tenant_id != tenant.pk:
        raise ValidationError({"owner_team": "Choose one of this organisation's teams."})
    service.full_clean(exclude=["tenant", "owner_team"], validate_unique=False)
    _refuse_taken_name(Service, service, "A service")
    service.save()
    return service


SERVICE_FIELDS = frozenset(
    {"name", "description", "kind", "owner_team", "status", "criticality", "visibility"}
)


@transaction.atomic
def service_update(*, service: Service, **changes: Any) -> Service:
    unknown = set(changes) - SERVICE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "No such setting."))
    service = Service.objects.for_tenant(service.tenant_id).select_for_update().get(pk=service.pk)
    for name, value in changes.items():
        setattr(service, name, value)
    owner = service.owner_team
    if owner is not None and owner.tenant_id != service.tenant_id:
        raise ValidationError({"owner_team": "Choose one of this organisation's teams."})
    service.full_clean(exclude=["tenant", "owner_team"], validate_unique=False)
    _refuse_taken_name(Service, service, "A service")
    service.save()
    return service


def check_answers(item: CatalogItem, raw: Any) -> dict[str, Any]:
    """The answers as the item's form takes them, or ``AnswersInvalid``."""
    tenant_id = item.tenant_id
    return formschema.validate_answers(
        item.schema(), raw, people=lambda user_id: selectors.is_member(tenant_id, user_id)
    )


@transaction.atomic
def order_place(
    *,
    membership: Membership,
    item: CatalogItem,
    answers: Mapping[str, Any] | Any,
    source: str = Source.PORTAL,
    now: datetime | None = None,
) -> Ticket:
    """Order ``item``: a request ticket for the member, with the answers
    stored as given (typed, under the form's version), routed to the
    item's team."""
    if item.tenant_id != membership.tenant_id:
        raise PermissionDenied("Not an item of this tenant.")
    # Re-read what the member may order now, locked against a concurrent
    # edit of its form (the answers must match the version stored).
    current = (
        selectors.orderable_items(membership)
        .select_for_update(of=("self",))
        .filter(pk=item.pk)
        .first()
    )
    if current is None or current.status != ItemStatus.PUBLISHED:
        raise ValidationError("This item can no longer be ordered.")
    checked = check_answers(current, answers)
    now = now or timezone.now()
    ticket = ticket_services.ticket_create(
        actor=ticket_services.Actor.of(membership),
        kind=TicketKind.REQUEST,
        title=current.name,
        description=f"Ordered from the catalog: {current.name}.",
        source=source,
        now=now,
    )
    if current.team_id is not None:
        ticket_services.ticket_update(
            actor=ticket_services.Actor.system(membership.tenant_id, ROUTER),
            ticket=ticket,
            team=current.team,
            now=now,
        )
        ticket.refresh_from_db()
    Order.objects.create(
        tenant_id=membership.tenant_id,
        ticket=ticket,
        item=current,
        ordered_by=membership.user,
        answers=checked,
        form_schema=current.form_schema,
        schema_version=current.schema_version,
        created_at=now,
    )
    return ticket
