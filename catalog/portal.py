"""The catalog in the portal: browse what may be ordered, fill an item's
form (conditions redraw it live with HTMX, or on a round trip without JS)
and order it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from catalog import presenters, selectors, services
from catalog.models import CatalogItem
from servicedesk import formschema
from servicedesk.access import TenantRequest, tenant_area

MAX_QUERY = 100


@require_http_methods(["GET", "HEAD"])
@tenant_area("portal")
def catalog_home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Every item the member may order, by category; narrowed by a search
    of names and descriptions and by a category."""
    items = selectors.orderable_items(request.membership).only(
        "pk", "name", "category", "short_description", "icon"
    )
    everything = list(items)
    all_categories = sorted({item.category for item in everything})
    query = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]
    category = request.GET.get("category", "")
    shown = [
        item
        for item in everything
        if (not category or item.category == category) and _matches(item, query)
    ]
    return render(
        request,
        "catalog/portal/home.html",
        {
            "groups": selectors.categories(shown),
            "categories": all_categories,
            "category": category if category in all_categories else "",
            "query": query,
            "count": len(shown),
            "total": len(everything),
        },
    )


def _matches(item: CatalogItem, query: str) -> bool:
    """Every word of the query in the item's name, category or summary (a
    tenant's catalog is a page of items, read in full already)."""
    if not query:
        return True
    text = f"{item.name} {item.category} {item.short_description}".casefold()
    return all(word in text for word in query.casefold().split())


def _form_context(
    request: TenantRequest,
    item: CatalogItem,
    raw: dict[str, Any] | None,
    errors: dict[str, list[str]] | None,
) -> dict[str, Any]:
    schema = item.schema()
    return {
        "item": item,
        "inputs": presenters.form_inputs(
            schema, raw, errors, selectors.pickable_people(request.membership.tenant_id)
        ),
        "errors": errors or {},
        "form_errors": (errors or {}).get("__all__", []),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@tenant_area("portal")
def item_detail(request: TenantRequest, tenant_slug: str, item_id: int) -> HttpResponse:
    """An item's page with its form; a POST orders it (or, from the no-JS
    "Update the form" button, redraws the form for the answers so far)."""
    item = selectors.get_orderable_item(request.membership, item_id)
    if request.method != "POST":
        return render(request, "catalog/portal/item.html", _form_context(request, item, None, None))
    schema = item.schema()
    raw = formschema.answers_from_post(schema, request.POST, presenters.PREFIX)
    if "refresh" in request.POST:
        return render(request, "catalog/portal/item.html", _form_context(request, item, raw, None))
    try:
        ticket = services.order_place(membership=request.membership, item=item, answers=raw)
    except formschema.AnswersInvalid as invalid:
        context = _form_context(request, item, raw, invalid.errors)
        return render(request, "catalog/portal/item.html", context, status=400)
    except ValidationError as error:
        context = _form_context(request, item, raw, {"__all__": error.messages})
        return render(request, "catalog/portal/item.html", context, status=400)
    messages.success(
        request, f"Thanks — we received your order as {ticket.key}. Follow it here and by e-mail."
    )
    return redirect("tickets:portal_ticket", tenant_slug=tenant_slug, key=ticket.key)


@require_POST
@tenant_area("portal")
def item_form(request: TenantRequest, tenant_slug: str, item_id: int) -> HttpResponse:
    """The form's fields redrawn for the answers so far (HTMX, on a change
    of a field another field's condition reads). Nothing is saved."""
    item = selectors.get_orderable_item(request.membership, item_id)
    raw = formschema.answers_from_post(item.schema(), request.POST, presenters.PREFIX)
    return render(request, "catalog/portal/_fields.html", _form_context(request, item, raw, None))
