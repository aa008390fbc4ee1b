"""The tenancy core: the scoped manager and the tenant base model.

The rule: every read of a tenant-owned row goes through its tenant.

* ``Model.objects.for_tenant(tenant)`` is the way in. A queryset from the
  default manager that reaches the database without a tenant condition raises
  :class:`UnscopedQueryError` -- a forgotten filter fails loudly (in tests and
  in production alike) instead of leaking another organisation's rows.
* ``Model.objects.unscoped()`` is the one greppable escape hatch, for
  migrations, operator commands, the platform admin and the few reads that are
  cross-tenant by nature (a user's own memberships for the tenant switcher).
* A queryset that filters on ``tenant`` itself (``filter(tenant=t)``, and
  Django's own uniqueness checks on constraints that lead with ``tenant``)
  passes too. Related managers and prefetches filter by their parent row,
  not by tenant, so they ask for it like any read:
  ``team.tickets.for_tenant(t)``, ``Prefetch("tickets", Ticket.objects.for_tenant(t))``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import AND, WhereNode

if TYPE_CHECKING:
    from servicedesk.models import Tenant


class UnscopedQueryError(RuntimeError):
    """A tenant-owned model was queried without naming a tenant."""


def _where_has_tenant_condition(node: WhereNode, model: type[models.Model]) -> bool:
    """True when an AND-ed, non-negated condition pins ``model.tenant``."""
    if node.connector != AND or node.negated:
        return False
    for child in node.children:
        if isinstance(child, WhereNode):
            if _where_has_tenant_condition(child, model):
                return True
            continue
        if isinstance(child, Exact | In):
            target = getattr(child.lhs, "target", None)
            alias_model = getattr(target, "model", None)
            if (
                target is not None
                and target.name == "tenant"
                and alias_model is not None
                and issubclass(model, alias_model)
            ):
                return True
    return False


class TenantQuerySet(models.QuerySet):
    """A queryset that refuses to run unless it is scoped to a tenant."""

    _tenant_scope_checked = False

    def for_tenant(self, tenant: Tenant | int) -> Self:
        clone = self.filter(tenant=tenant)
        clone._tenant_scope_checked = True
        return clone

    def unscoped(self) -> Self:
        """Opt out of the tenant guard. Grep for this name in review."""
        clone = self._chain()  # type: ignore[attr-defined]
        clone._tenant_scope_checked = True
        return clone

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._tenant_scope_checked = self._tenant_scope_checked
        return clone

    def _assert_scoped(self) -> None:
        if self._tenant_scope_checked:
            return
        if _where_has_tenant_condition(self.query.where, self.model):
            return
        raise UnscopedQueryError(
            f"{self.model.__name__} queried without a tenant: use "
            f"{self.model.__name__}.objects.for_tenant(tenant) (or .unscoped() with a reason)"
        )

    # Every way a queryset reaches the database passes one of these.
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._assert_scoped()
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        self._assert_scoped()
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._assert_scoped()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._assert_scoped()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._assert_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._assert_scoped()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._assert_scoped()
        return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """Default manager of tenant-owned models; see the module docstring."""


class TenantOwned(models.Model):
    """Base of every tenant-owned model: a non-null tenant and a scoped manager.

    Subclasses lead their indexes and unique constraints with ``tenant``.
    """

    tenant = models.ForeignKey("servicedesk.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    # Django's internals (FK access, deletion collection, refresh_from_db) use
    # the base manager, which stays a plain one, so they keep working.

    class Meta:
        abstract = True
