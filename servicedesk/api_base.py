"""The base of every tenant-scoped API view: tenant, wall, permission map.

A viewset of a tenant's data subclasses :class:`TenantGenericViewSet` (plus
DRF's model mixins it wants) and supplies three things::

    class TicketViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                        TenantGenericViewSet):
        queryset = Ticket.objects.none()  # the model, for the schema and the router
        required_scopes = {"list": "tickets:read", "create": "tickets:write"}
        minimum_role = {"list": Role.REQUESTER, "create": Role.AGENT}
        ordering = ("-created_at", "-pk")

        def tenant_queryset(self) -> QuerySet[Ticket]:
            return selectors.ticket_list(membership=self.membership)

What the base does for every request, in this order:

1. Authentication (``BearerTokenAuthentication``, then the browser's
   session). Anonymous or a bad token: 401 with ``WWW-Authenticate: Bearer``.
2. The tenant -- never from a request parameter:

   * a token names its tenant; the membership is the owner's active one there;
   * a browser session uses the tenant last opened under ``/t/<slug>/``
     (``session["last_tenant"]``, kept by ``TenantMiddleware``), or, when none
     was opened yet, the user's only active membership. Anything else
     (several tenants and none opened, a tenant no longer open to the user)
     is a 403 that says what to do.

   ``request.tenant`` and ``request.membership`` are set (also as
   ``self.tenant`` and ``self.membership``), the PostgreSQL row-level wall is
   raised around the tenant (``servicedesk.rls``) and times are shown in the
   tenant's zone. Both are undone when the request ends, however it ends.
3. The permission map, which fails closed. The action (``list``, ``create``,
   a custom ``@action``'s name; for :class:`TenantAPIView` the HTTP method,
   ``get``, ``post``...) must appear in both maps or the request is a 403.
   An entry ``"<action>:<method>"`` (``"comments:post"``) governs that one
   method of the action, and an ``@action`` that answers several methods
   needs one for each unsafe method:

   * ``required_scopes[action]``: the scope a token needs (an entry of
     ``servicedesk.models.API_SCOPES``), or ``None`` for "any valid token".
     A browser session holds every scope;
   * ``minimum_role[action]``: the least role (``servicedesk.models.Role``)
     the member needs, for tokens and sessions alike.

   Then the usual ``permission_classes`` (default ``IsAuthenticated``).
4. ``get_queryset()`` is owned here and returns ``tenant_queryset()``;
   subclasses may not override ``get_queryset``. ``get_object()`` looks the
   key up inside that queryset, so another tenant's id is a 404, never a 403.

Lists are cursor-paginated (``?page_size=``, at most 200) in the viewset's
``ordering``; ``filterset_fields``/``filterset_class`` (django-filter) and
``ordering_fields`` are off unless a viewset names them. Errors have one
shape (see :func:`exception_handler`): validation errors are
``{"field": ["message"]}``, everything else ``{"detail": ..., "code": ...}``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from servicedesk.api_defaults import (
    BearerTokenAuthentication,
    CursorPagination,
    PayloadTooLarge,
    exception_handler,
)
from servicedesk.models import API_SCOPES, ApiToken, Membership, Role, Tenant, User
from servicedesk.rls import set_current_tenant
from servicedesk.selectors import memberships_for_user

__all__ = [
    "BearerTokenAuthentication",
    "CursorPagination",
    "PayloadTooLarge",
    "TenantAPIMixin",
    "TenantAPIRequest",
    "TenantAPIView",
    "TenantGenericViewSet",
    "exception_handler",
    "has_scope",
    "resolve_api_tenant",
]


class TenantAPIRequest(Request):
    """A request that passed the tenant base: for type checkers."""

    user: User
    tenant: Tenant
    membership: Membership


def _deny(message: str, code: str) -> exceptions.PermissionDenied:
    return exceptions.PermissionDenied(message, code=code)


def resolve_api_tenant(request: Request) -> tuple[Tenant, Membership]:
    """The tenant and membership an authenticated API request acts in.

    From the token, or for the browser's session from the tenant it last
    opened (or its only one); never from a request parameter. Raises a 403
    that tells the caller what to do when no single tenant can be chosen.
    """
    token = request.auth
    if isinstance(token, ApiToken):
        if token.membership is None:  # set by api_token_authenticate
            raise _deny("This token is not tied to an active membership.", "no_tenant")
        return token.tenant, token.membership
    if not isinstance(request.successful_authenticator, SessionAuthentication):
        # Only a token or the browser's session can name a tenant.
        raise _deny("Use an API token to call this endpoint.", "no_tenant")
    memberships = list(memberships_for_user(cast(User, request.user)))
    last = request.session.get("last_tenant")
    if last:
        chosen = next((m for m in memberships if m.tenant.slug == last), None)
        if chosen is None:
            raise _deny(
                "The organisation you opened last is no longer open to you; "
                "open another one in the browser first.",
                "no_tenant",
            )
        return chosen.tenant, chosen
    if len(memberships) == 1:
        return memberships[0].tenant, memberships[0]
    if not memberships:
        raise _deny("You are not a member of any organisation.", "no_tenant")
    raise _deny(
        "You belong to several organisations: open the one you mean in the browser "
        "(/t/<organisation>/) first, or call the API with that organisation's token.",
        "no_tenant",
    )


def has_scope(request: Request, scope: str | None) -> bool:
    """Whether the request may act within ``scope``: a token only with the
    scope granted to it, the browser's session always (its role still applies)."""
    if scope is None:
        return True
    token = request.auth
    if isinstance(token, ApiToken):
        return scope in token.scopes
    return isinstance(request.successful_authenticator, SessionAuthentication)


class TenantAPIMixin:
    """Tenant resolution, row-level wall and fail-closed permission map for a
    DRF view; see the module docstring. Use :class:`TenantGenericViewSet` or
    :class:`TenantAPIView` rather than this mixin directly."""

    #: action -> scope a token needs (``None``: any valid token). Missing: denied.
    required_scopes: ClassVar[Mapping[str, str | None]] = {}
    #: action -> least role the member needs. Missing: denied.
    minimum_role: ClassVar[Mapping[str, str]] = {}
    #: what clients may pass to ``?ordering=``; nothing unless a viewset says so.
    ordering_fields: ClassVar[Sequence[str]] = ()

    request: Request
    _tenant_entered = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__qualname__
        if "get_queryset" in cls.__dict__:
            raise ImproperlyConfigured(
                f"{name}: implement tenant_queryset(), not get_queryset(); the base "
                "class owns get_queryset so that no API view reads outside its tenant."
            )
        if set(cls.required_scopes) != set(cls.minimum_role):
            raise ImproperlyConfigured(
                f"{name}: required_scopes and minimum_role must name the same actions; "
                f"differing: {sorted(set(cls.required_scopes) ^ set(cls.minimum_role))}"
            )
        unknown_scopes = {s for s in cls.required_scopes.values() if s and s not in API_SCOPES}
        if unknown_scopes:
            raise ImproperlyConfigured(
                f"{name}: unknown API scopes {sorted(unknown_scopes)}; register them with "
                "servicedesk.models.register_api_scope first."
            )
        unknown_roles = set(cls.minimum_role.values()) - set(Role.values)
        if unknown_roles:
            raise ImproperlyConfigured(f"{name}: unknown roles {sorted(unknown_roles)}")

    # --- what subclasses use ---------------------------------------------------------

    @property
    def tenant(self) -> Tenant:
        return cast(TenantAPIRequest, self.request).tenant

    @property
    def membership(self) -> Membership:
        return cast(TenantAPIRequest, self.request).membership

    def tenant_queryset(self) -> QuerySet[Any]:
        """The rows this view may show or change, read through ``self.tenant``
        (usually a selector). Every subclass that reads models implements it."""
        raise NotImplementedError(f"{type(self).__qualname__} must implement tenant_queryset()")

    def get_queryset(self) -> QuerySet[Any]:
        queryset = getattr(self, "queryset", None)
        if getattr(self, "swagger_fake_view", False) and queryset is not None:
            # drf-spectacular inspects the view without a tenant; it needs the model only.
            return cast(QuerySet[Any], queryset)
        return self.tenant_queryset()

    # --- the request cycle -----------------------------------------------------------

    def api_action(self, request: Request) -> str | None:
        """The key of the permission maps, or None when no handler serves the
        method (DRF then answers 405)."""
        action = getattr(self, "action", None)
        if action:
            return cast(str, action)
        if hasattr(self, "action_map"):  # a viewset with no route for this method
            return None
        method = (request.method or "").lower()
        if method == "head":
            method = "get"
        http_method_names = cast(Sequence[str], getattr(self, "http_method_names", ()))
        if method not in http_method_names or not hasattr(self, method):
            return None
        return method

    def check_permissions(self, request: Request) -> None:
        # DRF's initial() calls this right after authentication. The tenant has
        # to be known before any permission (the map, a role, an object rule)
        # can be judged, and an anonymous caller hears 401 before anything else.
        if not (request.user and request.user.is_authenticated):
            self.permission_denied(request)  # type: ignore[attr-defined]
        self.enter_tenant(request)
        self.check_action_access(request)
        super().check_permissions(request)  # type: ignore[misc]

    def permission_key(self, request: Request) -> str | None:
        """The entry of the maps that governs this request.

        ``"<action>:<method>"`` (``"comments:post"``) when the maps have it;
        otherwise the action. An extra action that answers several methods
        needs the qualified entry for its unsafe ones: a plain ``"comments"``
        entry written with GET in mind must not let POST through.
        """
        action = self.api_action(request)
        if action is None:
            return None
        method = (request.method or "").lower()
        qualified = f"{action}:{method}"
        if qualified in self.required_scopes:
            return qualified
        action_map = cast(Mapping[str, str], getattr(self, "action_map", {}))
        methods = {m for m, a in action_map.items() if a == action} - {"head", "options"}
        if len(methods) > 1 and method not in {"get", "head", "options"}:
            return qualified
        return action

    def check_action_access(self, request: Request) -> None:
        """The fail-closed permission map: scope for tokens, role for everyone."""
        action = self.permission_key(request)
        if action is None:
            return  # nothing serves this method: DRF answers 405 without running anything
        if action not in self.required_scopes or action not in self.minimum_role:
            raise _deny("This action is not open to API clients.", "action_not_allowed")
        scope = self.required_scopes[action]
        if not has_scope(request, scope):
            raise _deny(f"This token lacks the scope “{scope}”.", "missing_scope")
        minimum = self.minimum_role[action]
        if not self.membership.has_role(minimum):
            raise _deny(f"This needs the {Role(minimum).label} role or higher.", "role_required")

    def enter_tenant(self, request: Request) -> None:
        tenant, membership = resolve_api_tenant(request)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        self._tenant_entered = True
        set_current_tenant(tenant.pk)
        timezone.activate(zoneinfo.ZoneInfo(tenant.timezone))

    def leave_tenant(self) -> None:
        if self._tenant_entered:
            self._tenant_entered = False
            # The connection and the thread serve other requests next.
            set_current_tenant(None)
            timezone.deactivate()

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Not in finalize_response: DRF skips that when the handler raises an
        # exception it does not handle, and the wall must come down then too.
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            self.leave_tenant()


class TenantGenericViewSet(TenantAPIMixin, GenericViewSet):  # type: ignore[misc]
    """Base of every viewset over a tenant's data; see the module docstring."""

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        # Serializers resolve related ids inside this tenant only.
        context["tenant"] = getattr(self.request, "tenant", None)
        context["membership"] = getattr(self.request, "membership", None)
        return context


class TenantAPIView(TenantAPIMixin, APIView):  # type: ignore[misc]
    """Base of a plain ``APIView`` in a tenant: the maps are keyed by HTTP
    method (``{"get": "tickets:read", "post": "tickets:write"}``)."""
