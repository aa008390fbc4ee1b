"""The demo catalog: services and items a mid-sized organisation offers,
each with a form that asks what the team needs, and a few orders."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from catalog import services
from catalog.models import CatalogItem, ItemStatus, Service, Visibility
from servicedesk.models import Team
from servicedesk.registry import DemoSeed
from tickets.demo.cast import Cast
from tickets.services import notifications_muted

SERVICES: list[dict[str, Any]] = [
    {
        "name": "End-user computing",
        "description": "Laptops, phones, peripherals and the software on them.",
        "team": "service-desk",
        "criticality": 3,
    },
    {
        "name": "Identity and access",
        "description": "Accounts, groups, VPN and multi-factor sign-in.",
        "team": "platform",
        "criticality": 1,
    },
    {
        "name": "E-mail and collaboration",
        "description": "Mailboxes, shared mailboxes, calendars and chat.",
        "team": "platform",
        "criticality": 2,
    },
    {
        "name": "Storage",
        "description": "File shares, home drives and backup.",
        "team": "platform",
        "criticality": 2,
    },
]

LAPTOP_MODELS = [
    {"value": "standard-14", "label": "Standard 14″ (16 GB, included in the budget)"},
    {"value": "performance-16", "label": "Performance 16″ (32 GB, €1,900)"},
    {"value": "mac-14", "label": "MacBook Pro 14″ (€2,400)"},
]

ITEMS: list[dict[str, Any]] = [
    {
        "name": "New laptop",
        "category": "Hardware",
        "icon": "computer-desktop",
        "service": "End-user computing",
        "team": "service-desk",
        "short_description": "A laptop for a new joiner or to replace one that is four years old.",
        "description": "Standard laptops ship within three working days. Anything above "
        "€1,000 needs a short business justification.",
        "form_schema": [
            {
                "key": "model",
                "type": "choice",
                "label": "Model",
                "choices": LAPTOP_MODELS,
                "required": True,
                "default": "standard-14",
            },
            {
                "key": "cost",
                "type": "number",
                "label": "Expected cost (€)",
                "min": 0,
                "max": 10000,
                "integer": True,
                "default": 950,
                "help": "From the price list; the standard model is €950.",
            },
            {
                "key": "justification",
                "type": "long_text",
                "label": "Business justification",
                "required": True,
                "help": "Why the standard model will not do.",
                "show_when": {"field": "cost", "op": "gt", "value": 1000},
            },
            {"key": "needed_by", "type": "date", "label": "Needed by"},
            {
                "key": "return_old",
                "type": "yes_no",
                "label": "Will you return an old laptop?",
                "default": True,
            },
        ],
    },
    {
        "name": "Software licence",
        "category": "Software",
        "icon": "cube",
        "service": "End-user computing",
        "team": "service-desk",
        "short_description": "A licence for a product on the approved software list.",
        "form_schema": [
            {
                "key": "product",
                "type": "choice",
                "label": "Product",
                "required": True,
                "choices": [
                    "Adobe Acrobat Pro",
                    "JetBrains All Products",
                    "Microsoft Visio",
                    "Figma Professional",
                    "Tableau Creator",
                ],
            },
            {
                "key": "seats",
                "type": "number",
                "label": "Seats",
                "min": 1,
                "max": 50,
                "integer": True,
                "default": 1,
                "required": True,
            },
            {
                "key": "cost_centre",
                "type": "text",
                "label": "Cost centre",
                "required": True,
                "help": "Four digits, as on your payslip.",
            },
        ],
    },
    {
        "name": "VPN access",
        "category": "Access",
        "icon": "lock-closed",
        "service": "Identity and access",
        "team": "platform",
        "short_description": "Remote access to the internal network. Your manager approves it.",
        "form_schema": [
            {
                "key": "access_level",
                "type": "choice",
                "label": "Access level",
                "required": True,
                "choices": [
                    {"value": "standard", "label": "Standard (intranet, file shares)"},
                    {"value": "admin", "label": "Administrative (servers, consoles)"},
                ],
            },
            {
                "key": "manager",
                "type": "person",
                "label": "Your manager",
                "require_when": {"field": "access_level", "op": "eq", "value": "admin"},
                "help": "Administrative access needs a named manager.",
            },
            {
                "key": "until",
                "type": "date",
                "label": "Access until",
                "help": "Leave empty for as long as you work here.",
            },
        ],
    },
    {
        "name": "Shared mailbox",
        "category": "E-mail",
        "icon": "inbox-stack",
        "service": "E-mail and collaboration",
        "team": "platform",
        "short_description": "A mailbox a team reads together, such as invoices@ or support@.",
        "form_schema": [
            {
                "key": "address",
                "type": "text",
                "label": "Address wanted",
                "required": True,
                "help": "The part before the @.",
            },
            {"key": "owner", "type": "person", "label": "Owner", "required": True},
            {
                "key": "members",
                "type": "long_text",
                "label": "Who else reads it",
                "help": "One name or e-mail address per line.",
            },
            {
                "key": "external",
                "type": "yes_no",
                "label": "Receives mail from outside?",
                "default": False,
            },
        ],
    },
    {
        "name": "Storage quota increase",
        "category": "Storage",
        "icon": "circle-stack",
        "service": "Storage",
        "team": "platform",
        "short_description": "More room on a file share or your home drive.",
        "form_schema": [
            {"key": "share", "type": "text", "label": "Share or drive", "required": True},
            {
                "key": "extra_gb",
                "type": "number",
                "label": "Extra space (GB)",
                "min": 1,
                "max": 5000,
                "integer": True,
                "required": True,
            },
            {
                "key": "reason",
                "type": "long_text",
                "label": "Why it is needed",
                "show_when": {"field": "extra_gb", "op": "gt", "value": 500},
                "required": True,
            },
        ],
    },
    {
        "name": "New starter bundle",
        "category": "People",
        "icon": "user-plus",
        "service": "Identity and access",
        "team": "service-desk",
        "short_description": "Account, laptop and access for someone joining — in one request.",
        "form_schema": [
            {"key": "full_name", "type": "text", "label": "Their full name", "required": True},
            {"key": "start_date", "type": "date", "label": "First day", "required": True},
            {
                "key": "role",
                "type": "choice",
                "label": "Role",
                "choices": ["Engineering", "Finance", "Sales", "Operations", "Other"],
                "required": True,
            },
            {
                "key": "equipment",
                "type": "multi_choice",
                "label": "Equipment",
                "choices": ["Laptop", "Monitor", "Headset", "Phone"],
            },
            {"key": "manager", "type": "person", "label": "Their manager", "required": True},
        ],
    },
    {
        "name": "Server access (agents)",
        "category": "Access",
        "icon": "server-stack",
        "service": "Identity and access",
        "team": "platform",
        "visibility": Visibility.AGENTS,
        "short_description": "Shell access to a production host, for on-call staff.",
        "form_schema": [
            {"key": "host", "type": "text", "label": "Host or group", "required": True},
            {"key": "reason", "type": "long_text", "label": "Reason", "required": True},
        ],
    },
]


def seed_demo_catalog(seed: DemoSeed) -> int:
    """The demo seeder: the services and items (once), and an order of a
    few of them by requesters when the tenant is new; the items created."""
    tenant = seed.tenant
    if CatalogItem.objects.for_tenant(tenant).exists():
        return 0
    teams = {team.slug: team for team in Team.objects.for_tenant(tenant)}
    with transaction.atomic():
        by_name: dict[str, Service] = {}
        for spec in SERVICES:
            by_name[spec["name"]] = services.service_create(
                tenant=tenant,
                name=spec["name"],
                description=spec["description"],
                criticality=spec["criticality"],
                owner_team=teams.get(spec["team"]),
            )
        items = {}
        for spec in ITEMS:
            fields = {k: v for k, v in spec.items() if k not in {"service", "team"}}
            items[spec["name"]] = services.item_create(
                tenant=tenant,
                status=ItemStatus.PUBLISHED,
                service=by_name[spec["service"]],
                team=teams.get(spec["team"]),
                **fields,
            )
    cast = Cast.of(tenant)
    if cast is not None and seed.tickets:
        _orders(cast, items)
    return len(items)


# Who orders what when the tenant is new: (which requester, item, answers);
# ``"manager"`` is filled with a lead of the tenant.
DEMO_ORDERS: list[tuple[int, str, dict[str, Any]]] = [
    (
        0,
        "New laptop",
        {
            "model": "performance-16",
            "cost": 1900,
            "justification": "I compile the data platform locally; the standard model "
            "takes 40 minutes per build.",
        },
    ),
    (-1, "VPN access", {"access_level": "admin", "manager": None}),
    (0, "Software licence", {"product": "Microsoft Visio", "seats": 1, "cost_centre": "4410"}),
]


def _orders(cast: Cast, items: dict[str, CatalogItem]) -> None:
    manager = (cast.leads or cast.staff)[0].user_id
    with notifications_muted():
        for who, name, answers in DEMO_ORDERS:
            filled = {k: manager if k == "manager" else v for k, v in answers.items()}
            services.order_place(membership=cast.requesters[who], item=items[name], answers=filled)
