"""Ticket settings in the tenant admin area: the priority matrix, the reopen
window and the categories agents file tickets under."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from servicedesk.access import TenantRequest, tenant_area
from servicedesk.forms import posted, submit
from tickets import selectors, services
from tickets.models import Level, Priority

LEVELS = [(level.value, level.label) for level in Level]


def matrix_field_name(impact: int, urgency: int) -> str:
    return f"impact{impact}_urgency{urgency}"


class TicketSettingsForm(forms.Form):
    reopen_window_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        label="Reopen window (days)",
        help_text="A requester's reply reopens a resolved ticket within this many days; "
        "after it, the ticket closes by itself.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for impact, impact_label in LEVELS:
            for urgency, urgency_label in LEVELS:
                self.fields[matrix_field_name(impact, urgency)] = forms.TypedChoiceField(
                    choices=Priority.choices,
                    coerce=int,
                    label=f"Impact {impact_label.lower()}, urgency {urgency_label.lower()}",
                )

    def matrix_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (label, [self[matrix_field_name(impact, urgency)] for urgency, _ in LEVELS])
            for impact, label in LEVELS
        ]

    def matrix(self) -> dict[str, dict[str, int]]:
        return {
            str(impact): {
                str(urgency): self.cleaned_data[matrix_field_name(impact, urgency)]
                for urgency, _ in LEVELS
            }
            for impact, _ in LEVELS
        }


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100, label="New category")


@require_http_methods(["GET", "POST"])
@tenant_area("admin")
def ticket_settings(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    actor = services.Actor.of(request.membership)
    current = selectors.ticket_settings(request.tenant)
    initial: dict[str, Any] = {"reopen_window_days": current.reopen_window_days}
    for impact, _ in LEVELS:
        for urgency, _ in LEVELS:
            initial[matrix_field_name(impact, urgency)] = current.priority_for(impact, urgency)
    is_settings = request.method == "POST" and "reopen_window_days" in request.POST
    form = TicketSettingsForm(posted(request) if is_settings else None, initial=initial)
    category_form = CategoryForm(posted(request) if not is_settings else None)
    if request.method == "POST":
        if is_settings:
            saved = submit(
                form,
                lambda data: services.ticket_settings_update(
                    actor=actor,
                    priority_matrix=form.matrix(),
                    reopen_window_days=data["reopen_window_days"],
                ),
            )
            if saved:
                messages.success(request, "Ticket settings saved.")
                return redirect("tickets:admin_ticket_settings", tenant_slug=tenant_slug)
        else:
            created = submit(
                category_form,
                lambda data: services.category_create(actor=actor, name=data["name"]),
            )
            if created:
                messages.success(request, f"Category “{created.name}” added.")
                return redirect("tickets:admin_ticket_settings", tenant_slug=tenant_slug)
    return render(
        request,
        "tickets/admin/settings.html",
        {
            "form": form,
            "category_form": category_form,
            "levels": LEVELS,
            "categories": selectors.category_list(tenant=request.tenant, with_counts=True),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@tenant_area("admin")
def category_delete(request: TenantRequest, tenant_slug: str, category_id: int) -> HttpResponse:
    category = selectors.get_category(tenant=request.tenant, category_id=category_id)
    services.category_delete(actor=services.Actor.of(request.membership), category=category)
    messages.success(request, f"Category “{category.name}” removed.")
    return redirect("tickets:admin_ticket_settings", tenant_slug=tenant_slug)
