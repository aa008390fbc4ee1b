"""Django admin for platform operators: tickets across tenants, read-only.

Operators look; they do not work tickets (that is the desk's job, through
the services, with an audit trail). The audit trail itself is never edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from servicedesk.admin import ReadOnlyOperatorAdmin
from tickets.models import Notification, Ticket, TicketEvent


@admin.register(Ticket)
class TicketAdmin(ReadOnlyOperatorAdmin):
    list_display = ("key", "title", "tenant", "status", "priority", "created_at")
    list_filter = ("kind", "status", "priority", "tenant")
    search_fields = ("title",)
    list_select_related = ("tenant",)
    show_full_result_count = False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyOperatorAdmin):
    list_display = ("ticket", "tenant", "action", "field", "actor_kind", "created_at")
    list_filter = ("action", "actor_kind")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("ticket")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyOperatorAdmin):
    list_display = ("subject", "tenant", "recipient", "sent_at", "attempts", "last_error")
    list_filter = ("sent_at",)
    list_select_related = ("tenant",)
    show_full_result_count = False
