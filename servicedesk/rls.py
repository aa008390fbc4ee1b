"""Row-level security on PostgreSQL: the database's own tenant wall.

The ORM guard (``servicedesk.tenancy``) stops a query that forgets its tenant.
This is the second wall, for what the ORM guard cannot see: raw SQL, a
careless ``unscoped()``, a bug in a queryset's WHERE tree. Every table of a
``TenantOwned`` model carries one policy, ``tenant_isolation``: while the
connection's ``servicedesk.tenant_id`` setting names a tenant, rows of other
tenants are neither visible nor writable. With the setting empty (platform
work: migrations, the operator's admin, cross-tenant housekeeping) the policy
lets everything through, so the wall stands exactly where a tenant's request
is being served.

The policies are (re)applied after every ``migrate``, so a new tenant-owned
model is covered without anyone remembering to. SQLite (the embedded
default) has no row-level security; there the ORM guard stands alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import connections

from servicedesk.tenancy import TenantOwned

SETTING = "servicedesk.tenant_id"
POLICY = "tenant_isolation"

# current_setting(..., true) is NULL when never set and '' after a reset.
_MATCH = (
    f"coalesce(current_setting('{SETTING}', true), '') = '' "
    f"OR {{column}} = nullif(current_setting('{SETTING}', true), '')::bigint"
)


def tenant_owned_tables() -> list[tuple[str, str]]:
    """(table, tenant column) of every concrete tenant-owned model, but those
    that opt out with ``row_level_security = False`` (and say why)."""
    return [
        (model._meta.db_table, model._meta.get_field("tenant").column)
        for model in apps.get_models()
        if issubclass(model, TenantOwned)
        and not model._meta.proxy
        and getattr(model, "row_level_security", True)
    ]


def apply_policies(using: str = "default", **kwargs: Any) -> list[str]:
    """Enable, force and (re)create the tenant policy on every tenant-owned
    table that exists. Idempotent; a no-op off PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    quote = connection.ops.quote_name
    applied = []
    with connection.cursor() as cursor:
        for table, column in tenant_owned_tables():
            if table not in existing:
                continue
            match = _MATCH.format(column=quote(column))
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE ROW LEVEL SECURITY")
            # FORCE: the application's role owns the tables, and owners would
            # otherwise pass every policy.
            cursor.execute(f"ALTER TABLE {quote(table)} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quote(table)}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {quote(table)} USING ({match}) WITH CHECK ({match})"
            )
            applied.append(table)
    return applied


def set_current_tenant(tenant_id: int | None, using: str = "default") -> None:
    """Point the connection's policy at one tenant (``None``: no tenant)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, false)",
            [SETTING, "" if tenant_id is None else str(int(tenant_id))],
        )


@contextmanager
def tenant_context(tenant_id: int, using: str = "default") -> Iterator[None]:
    """Run a block (a Celery task, a command) with the wall around one tenant."""
    set_current_tenant(tenant_id, using)
    try:
        yield
    finally:
        set_current_tenant(None, using)


@register(Tags.database)
def check_role_cannot_bypass(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the database role would walk through the policies."""
    messages: list[CheckMessage] = []
    for alias in kwargs.get("databases") or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            row = cursor.fetchone()
        if row and (row[0] or row[1]):
            messages.append(
                CheckWarning(
                    f"Database {alias!r} is used by a role that bypasses row-level security "
                    "(superuser or BYPASSRLS); the tenant policies do not apply to it.",
                    hint="Connect as an ordinary role that owns the tables.",
                    id="servicedesk.W001",
                )
            )
    return messages
