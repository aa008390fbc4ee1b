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
``ordering_fields`` are off unless a viewset names them. Filters, ordering
and pages apply to the ``list`` action only. Errors have one shape (see
:func:`exception_handler`): validation errors are ``{"field": ["message"]}``,
everything else ``{"detail": ..., "code": ...}``.

5. The query string is checked against what the operation takes (the list's
   filters, ordering and pages, and ``query_parameters[action]``): any other
   parameter is a 400 that names the ones it takes, so a typo
   (``?stauts=new``) is never read as "no filter". Invalid values of the
   ones it takes are 400s too, per parameter.

The schema says the same (:class:`AutoSchema`, the ``DEFAULT_SCHEMA_CLASS``):
the parameters of step 5 are exactly the operation's query parameters, and
every operation documents the errors it can answer, in the shapes above.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter
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
    "AutoSchema",
    "BearerTokenAuthentication",
    "BooleanFilter",
    "CursorPagination",
    "PayloadTooLarge",
    "QueryParameterCheck",
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


# --- The query string ---------------------------------------------------------------


class StrictBooleanField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, where
    Django's ``NullBooleanField`` would read it as "not given"."""

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise DjangoValidationError("Give true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """A django-filter ``BooleanFilter`` that refuses ``?unassigned=maybe``."""

    field_class = StrictBooleanField


# The widest offsets in use anywhere (UTC-12 to UTC+14); the database
# refuses some wider ones that Python accepts.
MAX_UTC_OFFSET = timedelta(hours=14)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, refused with a message when its offset is not
    one a clock uses or it leaves the years 1-9999 once in UTC, and handed
    on in UTC."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise DjangoValidationError("Give a UTC offset between -14:00 and +14:00.")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError("Give a time between the years 1 and 9999.") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """A django-filter ``IsoDateTimeFilter`` that never hands the database
    an offset or a year it cannot take (a 400, not a 500)."""

    field_class = UtcIsoDateTimeField


UNKNOWN_PARAMETER = "unknown_parameter"


class QueryParameterCheck:
    """Refuses query parameters the operation does not take (step 5 of the
    module docstring). A view names the parameters of its actions beyond the
    list's filters and pages in ``query_parameters``; the schema documents
    them from there too."""

    #: action (or HTTP method for a plain view) -> its further query parameters.
    query_parameters: ClassVar[Mapping[str, Sequence[OpenApiParameter]]] = {}

    def query_parameter_key(self) -> str:
        action = getattr(self, "action", None)
        method = cast(Any, self).request.method or ""
        return cast(str, action) if action else method.lower()

    def lists_with_filters(self) -> bool:
        """Whether this request's filters, ordering and pages apply: the
        ``list`` action's only (for the schema as for the request)."""
        return getattr(self, "action", None) == "list"

    def accepted_query_parameters(self) -> list[str]:
        names = [p.name for p in self.query_parameters.get(self.query_parameter_key(), ())]
        if self.lists_with_filters():
            for backend_class in cast(Sequence[Any], getattr(self, "filter_backends", ())):
                backend = backend_class()
                if hasattr(backend, "get_filterset_class"):
                    # django-filter: the filterset's filters, as the schema lists them.
                    filterset = backend.get_filterset_class(self, self.get_queryset())  # type: ignore[attr-defined]
                    names += list(filterset.base_filters) if filterset else []
                else:
                    names += [p["name"] for p in backend.get_schema_operation_parameters(self)]
            paginator = getattr(self, "paginator", None)
            if paginator is not None:
                names += [p["name"] for p in paginator.get_schema_operation_parameters(self)]
        return sorted(set(names))

    def check_query_parameters(self, request: Request) -> None:
        unknown = set(request.query_params) - set(self.accepted_query_parameters())
        if unknown:
            accepted = ", ".join(self.accepted_query_parameters()) or "none"
            raise exceptions.ValidationError(
                {
                    name: [f"Unknown query parameter; this operation takes: {accepted}."]
                    for name in sorted(unknown)
                },
                code=UNKNOWN_PARAMETER,
            )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # After authentication and permissions: a stranger hears 401/403
        # before anything about the query string; a method nothing serves
        # hears 405.
        if getattr(self, (request.method or "").lower(), None) is not None:
            self.check_query_parameters(request)


class TenantAPIMixin(QueryParameterCheck):
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


# --- The schema ---------------------------------------------------------------------

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error but invalid input: a message and a stable code.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "description": "Messages, or for a nested object or list the errors of its parts.",
    "anyOf": [
        {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/FieldErrors"}]},
        },
        {
            "type": "object",
            "additionalProperties": {"$ref": "#/components/schemas/FieldErrors"},
        },
    ],
}
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Invalid input: messages by field or query parameter; errors not "
    "tied to one are under non_field_errors.",
    "additionalProperties": {"$ref": "#/components/schemas/FieldErrors"},
}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, made to tell what the base does.

    * The error answers, documented once here for every operation, in the
      shapes of :func:`servicedesk.api_defaults.exception_handler`: 400 (any
      operation: its query string is checked), 401 and 429 (a token is
      needed, and too many bad ones from an address are refused), 403 (the
      tenant's permission map; a session's CSRF check on writes), 404 (an
      operation with a key in its path), 413 and 415 (a request body).
    * Filters and ordering only where they apply: the ``list`` action.
    * The view's ``query_parameters`` for the action.
    """

    def get_filter_backends(self) -> list[Any]:
        lists_with_filters = getattr(self.view, "lists_with_filters", None)
        if lists_with_filters is not None and not lists_with_filters():
            return []
        return super().get_filter_backends()

    def get_override_parameters(self) -> list[Any]:
        declared = cast(
            Mapping[str, Sequence[OpenApiParameter]], getattr(self.view, "query_parameters", {})
        )
        key = getattr(self.view, "action", None) or self.method.lower()
        return [*super().get_override_parameters(), *declared.get(key, ())]

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for name, schema in (
            ("Error", ERROR_SCHEMA),
            ("FieldErrors", FIELD_ERRORS_SCHEMA),
            ("ValidationError", VALIDATION_ERROR_SCHEMA),
        ):
            self.registry.register_on_missing(
                ResolvedComponent(name, ResolvedComponent.SCHEMA, schema=schema, object=name)
            )
        error = {"$ref": "#/components/schemas/Error"}
        security = [s for s in operation.get("security", []) if s]
        has_path_key = any(p.get("in") == "path" for p in operation.get("parameters", []))
        has_body = "requestBody" in operation
        answers: list[tuple[str, str, dict[str, Any]]] = [
            (
                "400",
                "Invalid input or query parameters, or a request that could not be read.",
                {"anyOf": [{"$ref": "#/components/schemas/ValidationError"}, error]},
            )
        ]
        if security:
            answers.append(("401", "No credentials, or a bad token.", error))
        if isinstance(self.view, TenantAPIMixin) or (security and self.method in UNSAFE_METHODS):
            answers.append(("403", "Not open to this caller.", error))
        if has_path_key:
            answers.append(("404", "Not found (or not the caller's to see).", error))
        if has_body:
            answers.append(("413", "The request body is too large.", error))
            answers.append(("415", "A content type the operation does not read.", error))
        if any("bearerAuth" in s for s in security):
            answers.append(("429", "Too many bad tokens from this address lately.", error))
        responses = operation.setdefault("responses", {})
        for code, description, schema in answers:
            responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return operation


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
