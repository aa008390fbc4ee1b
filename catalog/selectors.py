"""What a member may see of the catalog: published items of their
audience, and the orders behind the tickets they may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.http import Http404

from catalog.models import CatalogItem, ItemStatus, Order, ServiceStatus, Visibility
from servicedesk.models import Membership, User


def orderable_items(membership: Membership) -> QuerySet[CatalogItem]:
    """The published items this member may order: everyone's, and the
    agents-only ones for agents. Neither a retired service's items."""
    items = CatalogItem.objects.for_tenant(membership.tenant_id).filter(status=ItemStatus.PUBLISHED)
    if not membership.is_agent:
        items = items.filter(visibility=Visibility.REQUESTERS).filter(
            Q(service__isnull=True) | Q(service__visibility=Visibility.REQUESTERS)
        )
    return items.exclude(service__status=ServiceStatus.RETIRED)


def get_orderable_item(membership: Membership, item_id: int) -> CatalogItem:
    """The item if this member may order it; the same 404 for another
    tenant's, a draft and one of another audience."""
    item = orderable_items(membership).select_related("service", "team").filter(pk=item_id).first()
    if item is None:
        raise Http404("No such catalog item")
    return item


def categories(items: Iterable[CatalogItem]) -> list[tuple[str, list[CatalogItem]]]:
    grouped: dict[str, list[CatalogItem]] = {}
    for item in items:
        grouped.setdefault(item.category, []).append(item)
    return sorted(grouped.items())


def orders_by_ticket(tenant_id: int, ticket_ids: Iterable[int]) -> dict[int, Order]:
    """The orders behind these tickets (one query), keyed by ticket id."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    orders = Order.objects.for_tenant(tenant_id).filter(ticket_id__in=ids).select_related("item")
    return {order.ticket_id: order for order in orders}


def people_names(tenant_id: int, ids: Iterable[int]) -> dict[int, str]:
    """Names of these users among the tenant's members (one query)."""
    wanted = set(ids)
    if not wanted:
        return {}
    users = User.objects.filter(pk__in=wanted, memberships__tenant_id=tenant_id).only(
        "pk", "full_name", "email"
    )
    return {user.pk: user.display_name for user in users}


def pickable_people(tenant_id: int) -> list[tuple[int, str]]:
    """Active members a person field may name, by name."""
    memberships = (
        Membership.objects.for_tenant(tenant_id)
        .filter(is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return [(m.user_id, m.user.display_name) for m in memberships]


def is_member(tenant_id: int, user_id: int) -> bool:
    return (
        Membership.objects.for_tenant(tenant_id)
        .filter(user_id=user_id, is_active=True, user__is_active=True)
        .exists()
    )
