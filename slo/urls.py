"""SLA pages under ``/t/<tenant_slug>/``: the SLA settings of the admin area
and the desk's page of a ticket's clocks."""

from __future__ import annotations

from django.urls import URLPattern, path

from slo import admin_views, desk_views

app_name = "slo"

urlpatterns: list[URLPattern] = [
    path("desk/tickets/<str:key>/sla/", desk_views.ticket_sla, name="desk_ticket_sla"),
    path("admin/sla/", admin_views.policies, name="admin_policies"),
    path("admin/sla/policies/new/", admin_views.policy_create, name="admin_policy_create"),
    path("admin/sla/policies/<int:policy_id>/", admin_views.policy_detail, name="admin_policy"),
    path(
        "admin/sla/policies/<int:policy_id>/move/",
        admin_views.policy_move,
        name="admin_policy_move",
    ),
    path(
        "admin/sla/policies/<int:policy_id>/delete/",
        admin_views.policy_delete,
        name="admin_policy_delete",
    ),
    path(
        "admin/sla/policies/<int:policy_id>/escalations/",
        admin_views.escalation_create,
        name="admin_escalation_create",
    ),
    path(
        "admin/sla/escalations/<int:escalation_id>/delete/",
        admin_views.escalation_delete,
        name="admin_escalation_delete",
    ),
    path("admin/sla/calendars/", admin_views.calendars, name="admin_calendars"),
    path("admin/sla/calendars/new/", admin_views.calendar_create, name="admin_calendar_create"),
    path(
        "admin/sla/calendars/<int:calendar_id>/",
        admin_views.calendar_detail,
        name="admin_calendar",
    ),
    path(
        "admin/sla/calendars/<int:calendar_id>/delete/",
        admin_views.calendar_delete,
        name="admin_calendar_delete",
    ),
]
