"""Ticket pages under ``/t/<tenant_slug>/``: the agents' desk and the requesters' portal."""

from __future__ import annotations

from django.urls import URLPattern, path

from tickets import desk, files, portal, settings_admin

app_name = "tickets"

urlpatterns: list[URLPattern] = [
    # Ticket settings in the tenant admin area.
    path("admin/tickets/", settings_admin.ticket_settings, name="admin_ticket_settings"),
    path(
        "admin/tickets/categories/<int:category_id>/delete/",
        settings_admin.category_delete,
        name="admin_category_delete",
    ),
    # The desk (agents and up).
    path("desk/bulk/", desk.bulk, name="desk_bulk"),
    path("desk/views/", desk.view_create, name="desk_view_create"),
    path("desk/views/<int:view_id>/delete/", desk.view_delete, name="desk_view_delete"),
    path("desk/tickets/new/", desk.ticket_create, name="desk_ticket_create"),
    path("desk/tickets/<str:key>/", desk.ticket_detail, name="desk_ticket"),
    path("desk/tickets/<str:key>/fields/", desk.ticket_fields, name="desk_ticket_fields"),
    path(
        "desk/tickets/<str:key>/transition/",
        desk.ticket_transition,
        name="desk_ticket_transition",
    ),
    path("desk/tickets/<str:key>/reply/", desk.ticket_reply, name="desk_ticket_reply"),
    path(
        "desk/tickets/<str:key>/attachments/",
        desk.ticket_attachments,
        name="desk_ticket_attachments",
    ),
    path("desk/tickets/<str:key>/merge/", desk.ticket_merge, name="desk_ticket_merge"),
    path("desk/tickets/<str:key>/links/", desk.ticket_links, name="desk_ticket_links"),
    path("desk/tickets/<str:key>/watchers/", desk.ticket_watchers, name="desk_ticket_watchers"),
    # The portal (every member).
    path("portal/new/", portal.report, name="portal_report"),
    path("portal/tickets/<str:key>/", portal.ticket_detail, name="portal_ticket"),
    path("portal/tickets/<str:key>/reply/", portal.reply, name="portal_reply"),
    path("portal/tickets/<str:key>/reopen/", portal.reopen, name="portal_reopen"),
    path("portal/tickets/<str:key>/confirm/", portal.confirm, name="portal_confirm"),
    path("portal/tickets/<str:key>/withdraw/", portal.withdraw, name="portal_withdraw"),
    # Files, for whoever may see the ticket (and, for internal files, agents).
    path(
        "tickets/<str:key>/files/<int:attachment_id>/",
        files.attachment_download,
        name="attachment",
    ),
]
