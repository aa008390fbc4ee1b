"""Django admin for platform operators (``is_staff``), across all tenants.

Tenant admins use ``/t/<slug>/admin/`` instead. This is one of the few places
where reads are unscoped by design.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from servicedesk import services
from servicedesk.models import ApiToken, AuditEvent, Invitation, Membership, Team, Tenant, User


class OperatorAdmin(admin.ModelAdmin):
    """Base for tenant-owned models: the operator sees every tenant."""

    list_select_related = ("tenant",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.unscoped().select_related("tenant")


class ReadOnlyOperatorAdmin(OperatorAdmin):
    """For records the operator may read but not write: trails, outboxes,
    and data that changes only through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Platform", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)
    list_filter = ("is_staff", "is_superuser", "is_active")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "timezone", "is_active", "created_at")
    search_fields = ("slug", "name")
    list_filter = ("is_active",)


@admin.register(Membership)
class MembershipAdmin(OperatorAdmin):
    list_display = ("user", "tenant", "role", "is_active")
    list_filter = ("role", "is_active", "tenant")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(OperatorAdmin):
    list_display = ("name", "slug", "tenant", "lead")
    list_filter = ("tenant",)
    search_fields = ("name", "slug")
    raw_id_fields = ("lead", "members")


@admin.register(Invitation)
class InvitationAdmin(OperatorAdmin):
    list_display = ("email", "tenant", "role", "created_at", "accepted_at", "revoked_at")
    list_filter = ("tenant", "role")
    search_fields = ("email",)
    readonly_fields = ("nonce",)


@admin.register(ApiToken)
class ApiTokenAdmin(OperatorAdmin):
    """Tokens are issued in the tenant's admin area or by ``create_api_token``
    (only there can the secret be shown); here they are read and revoked."""

    list_display = ("name", "tenant", "user", "prefix", "created_at", "expires_at", "revoked_at")
    list_filter = ("tenant",)
    search_fields = ("name", "prefix", "user__email")
    exclude = ("key_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.api_token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyOperatorAdmin):
    # Append-only: the operator reads the trail, never rewrites it.
    list_display = ("created_at", "tenant", "actor", "action", "target")
    list_filter = ("tenant", "action")
    search_fields = ("target", "action")
