"""Django admin for platform operators: SLA settings and clocks across
tenants, read-only. Tenants edit their calendars and policies in their own
admin area, through the services; the operator looks (a stuck sweeper shows
as clocks whose sweep time has long passed, or escalation runs never done)."""

from __future__ import annotations

from django.contrib import admin

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
    list_select_related = ("tenant", "ticket")
    show_full_result_count = False


@admin.register(EscalationRun)
class EscalationRunAdmin(ReadOnlyOperatorAdmin):
    list_display = ("escalation", "tenant", "trigger", "cycle", "fired_at", "done_at", "outcome")
    list_filter = ("trigger",)
    list_select_related = ("tenant", "escalation")
    show_full_result_count = False
