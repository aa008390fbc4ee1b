"""Django admin for platform operators: SLA settings and clocks across
tenants, read-only. Tenants edit their calendars and policies in their own
admin area, through the services; the operator looks (a stuck sweeper shows
as clocks whose sweep time has long passed, or escalation runs never done)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from servicedesk.admin import ReadOnlyOperatorAdmin
from slo.models import Calendar, Clock, EscalationRun, Policy


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyOperatorAdmin):
    list_display = ("name", "tenant", "timezone", "updated_at")
    list_select_related = ("tenant",)
    search_fields = ("name",)


@admin.register(Policy)
class PolicyAdmin(ReadOnlyOperatorAdmin):
    list_display = (
        "name",
        "tenant",
        "position",
        "is_active",
        "first_response_minutes",
        "resolution_minutes",
    )
    list_filter = ("is_active",)
    list_select_related = ("tenant",)


@admin.register(Clock)
class ClockAdmin(ReadOnlyOperatorAdmin):
    list_display = ("ticket", "tenant", "target", "state", "due_at", "sweep_at")
    list_filter = ("state", "target")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("ticket")


@admin.register(EscalationRun)
class EscalationRunAdmin(ReadOnlyOperatorAdmin):
    list_display = ("escalation", "tenant", "trigger", "cycle", "fired_at", "done_at", "outcome")
    list_filter = ("trigger",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("escalation")
