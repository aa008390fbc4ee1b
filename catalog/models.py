"""The service catalog: the services a tenant runs, the items requesters may
order from it, each with its own form, and the orders placed.

Every write goes through ``catalog.services``; reads through
``catalog.selectors``, which decide what a member may see.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from servicedesk import formschema
from servicedesk.tenancy import TenantOwned


class Visibility(models.TextChoices):
    REQUESTERS = "requesters", "Everyone in the organisation"
    AGENTS = "agents", "Agents only"


class ServiceStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    PLANNED = "planned", "Planned"
    RETIRED = "retired", "Retired"


class Criticality(models.IntegerChoices):
    CRITICAL = 1, "Critical"
    HIGH = 2, "High"
    MEDIUM = 3, "Medium"
    LOW = 4, "Low"


class Service(TenantOwned):
    """A business or technical service. Catalog items and, later,
    configuration items point at it: a plain model others reference."""

    class Kind(models.TextChoices):
        BUSINESS = "business", "Business service"
        TECHNICAL = "technical", "Technical service"

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BUSINESS)
    owner_team = models.ForeignKey(
        "servicedesk.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.OPERATIONAL
    )
    criticality = models.PositiveSmallIntegerField(
        choices=Criticality.choices, default=Criticality.MEDIUM
    )
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.REQUESTERS
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="service_tenant_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


# The icons an item may show, from the vendored Heroicons set (outline).
ICONS: dict[str, str] = {
    "computer-desktop": "Computer",
    "device-phone-mobile": "Phone",
    "key": "Key",
    "lock-closed": "Lock",
    "envelope": "Mail",
    "inbox-stack": "Mailbox",
    "circle-stack": "Storage",
    "server-stack": "Server",
    "cloud": "Cloud",
    "user-plus": "New person",
    "user-group": "Team",
    "shield-check": "Security",
    "wifi": "Network",
    "printer": "Printer",
    "cube": "Software",
    "wrench-screwdriver": "Tools",
    "document-text": "Document",
    "shopping-cart": "Order",
}


class CatalogItem(TenantOwned):
    """Something a requester may order, with the form that asks what exactly."""

    name = models.CharField(max_length=100)
    category = models.CharField(max_length=60)
    short_description = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    icon = models.CharField(max_length=32, choices=list(ICONS.items()), default="shopping-cart")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="items"
    )
    team = models.ForeignKey(
        "servicedesk.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The SLA policy an order should fall under, by name: the SLA's own
    # matching rules decide (a request of this category, team or tag).
    sla_hint = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.DRAFT)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.REQUESTERS
    )
    # The order form, as ``servicedesk.formschema`` reads it, and its version:
    # every change of the form bumps it, and each order keeps the form it
    # was placed with.
    form_schema = models.JSONField(default=list, blank=True)
    schema_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["category", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "name"], name="catalog_item_tenant_name")
        ]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "category"], name="catalog_item_published")
        ]

    def __str__(self) -> str:
        return self.name

    def schema(self) -> formschema.Schema:
        """The item's form (checked on every save by the services)."""
        return formschema.parse_schema(self.form_schema)


class Order(TenantOwned):
    """One order of an item: the request ticket it opened, and the answers
    given, stored with the form they answered so they read the same forever."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="catalog_order"
    )
    item = models.ForeignKey(CatalogItem, on_delete=models.PROTECT, related_name="orders")
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField(default=dict)
    form_schema = models.JSONField(default=list)
    schema_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["tenant", "item"], name="catalog_order_item")]

    def __str__(self) -> str:
        return f"{self.item} for {self.ticket_id}"

    def schema(self) -> formschema.Schema:
        return formschema.parse_schema(self.form_schema)
