"""The classes ``REST_FRAMEWORK`` in the settings names: Bearer-token
authentication (with its OpenAPI description), cursor pagination, the
ordering filter and the exception handler.

They live apart from :mod:`servicedesk.api_base` on purpose. DRF imports the
classes its settings name while it defines ``APIView`` and ``GenericAPIView``
(they are class attributes there), so a module that subclasses those, as
``api_base`` does, would be imported half-built and the import would fail.
Code imports these names from ``servicedesk.api_base``, which re-exports them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions, filters, pagination, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from servicedesk.links import absolute_url
from servicedesk.models import ApiToken, User
from servicedesk.services import api_token_authenticate

# --- Authentication -----------------------------------------------------------------


class TokenFailureThrottle:
    """Counts failed Bearer authentications per client address and refuses
    that address's Bearer calls with 429 once ``API_TOKEN_FAILURE_LIMIT``
    failed within ``API_TOKEN_FAILURE_WINDOW`` (from the first failure on).

    While refused, even a valid token from that address is not looked at:
    otherwise the refusal would still tell a guess that hit from one that
    missed. The address is the one django-axes uses for sign-ins (it honours
    ``TRUSTED_PROXY_COUNT``); the counts live in the cache (Redis in
    production, so shared by every process). A limit of 0 turns it off.
    """

    key_prefix = "api-token-failures"

    def __init__(self, request: Request) -> None:
        # Imported here: axes.helpers reads axes' settings on import.
        from axes.helpers import get_client_ip_address

        self.limit = int(settings.API_TOKEN_FAILURE_LIMIT)
        self.window = max(1, int(settings.API_TOKEN_FAILURE_WINDOW.total_seconds()))
        address = get_client_ip_address(request._request) or "unknown"
        self.key = f"{self.key_prefix}:{address}"
        self.address = address

    def check(self) -> None:
        """Raise 429 when this address has used up its failures."""
        if self.limit <= 0:
            return
        try:
            counts = cache.get_many([self.key, f"{self.key}:until"])
        except Exception:
            # The cache (Redis) is down: the API keeps answering, unthrottled,
            # rather than refusing every token until it is back.
            logging.getLogger(__name__).warning("token throttle unavailable", exc_info=True)
            return
        if counts.get(self.key, 0) < self.limit:
            return
        until = counts.get(f"{self.key}:until") or time.time() + self.window
        raise exceptions.Throttled(
            wait=max(1, until - time.time()),
            detail="Too many failed token attempts from this address; try again later.",
        )

    def record_failure(self) -> None:
        if self.limit <= 0:
            return
        try:
            self._count_failure()
        except Exception:  # the cache is down; see ``check``
            logging.getLogger(__name__).warning("token throttle unavailable", exc_info=True)

    def _count_failure(self) -> None:
        if cache.add(self.key, 1, timeout=self.window):
            cache.set(f"{self.key}:until", time.time() + self.window, timeout=self.window)
            failures = 1
        else:
            try:
                failures = cache.incr(self.key)
            except ValueError:  # the window ended in between
                cache.add(self.key, 1, timeout=self.window)
                failures = 1
        if failures == self.limit:
            logging.getLogger("django.security.ApiTokenThrottled").warning(
                "%s failed API token attempts from %s; refusing it for up to %s s",
                failures,
                self.address,
                self.window,
            )


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer sd_…``: an API token issued in a tenant's admin area
    (or by ``manage.py create_api_token``).

    On success ``request.user`` is the token's owner and ``request.auth`` the
    :class:`~servicedesk.models.ApiToken`, with ``membership`` set. Another
    scheme (``Basic …``) is left to the authenticators after this one; a
    Bearer header that is malformed, unknown, revoked or expired is a 401,
    and too many of those from one client address a 429 for a while (see
    :class:`TokenFailureThrottle`).
    Being first in the settings, this class also makes DRF answer anonymous
    calls with 401 and ``WWW-Authenticate: Bearer`` instead of 403.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if isinstance(header, str):
            parts = header.split()
            if not parts or parts[0].lower() != self.keyword.lower():
                return None
        throttle = TokenFailureThrottle(request)
        throttle.check()
        try:
            return self.authenticate_bearer(header)
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise

    def authenticate_bearer(self, header: object) -> tuple[User, ApiToken]:
        if not isinstance(header, str):
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        parts = header.split()
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed("No token after “Bearer”.")
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed("The token must not contain spaces.")
        token = api_token_authenticate(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


# Registered by being defined; it lives here, next to the class it documents,
# so that it exists whenever the authentication class is in use.
class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``BearerTokenAuthentication`` in the schema as ``bearerAuth``."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 - the scheme's name, not a secret
        )
        definition["description"] = (
            "An API token from the organisation's admin area (Admin → API tokens), "
            "sent as `Authorization: Bearer sd_…`."
        )
        return cast(dict[str, Any], definition)


# --- Pagination ---------------------------------------------------------------------


class CursorPagination(pagination.CursorPagination):
    """Stable pages over lists that grow while they are read.

    A viewset chooses its order with ``ordering`` (newest first by default);
    clients may reorder only by the viewset's ``ordering_fields``. A
    ``page_size`` that is not a whole number from 1 to ``max_page_size``, or
    a cursor this class did not write, is a 400 that says so: quietly
    serving the default page instead would hide the client's mistake.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        page = super().paginate_queryset(queryset, request, view)
        # The next/previous links name SITE_URL, not the request's Host header.
        self.base_url = absolute_url(request.get_full_path())
        return page

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]},
                code="invalid",
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["Not a cursor of this list; follow next or previous."]},
                code="invalid",
            ) from None

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        # DRF honours the view's ``ordering`` only through an OrderingFilter;
        # a viewset that dropped the filter backends keeps its order too.
        backends = getattr(view, "filter_backends", None) or []
        if not any(hasattr(backend, "get_ordering") for backend in backends):
            ordering = getattr(view, "ordering", None)
            if ordering:
                return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = cast(list[dict[str, Any]], super().get_schema_operation_parameters(view))
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters


class OrderingFilter(filters.OrderingFilter):
    """``?ordering=`` by the viewset's ``ordering_fields`` only, comma-separated,
    ``-`` for descending. A term the viewset does not offer is a 400 naming
    the ones it does (DRF drops it silently); a viewset without
    ``ordering_fields`` takes no ``ordering`` at all."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param)
        if raw is not None and raw.strip():
            offered = self.offered_terms(view)
            terms = [term.strip() for term in raw.split(",")]
            wrong = [term for term in terms if term not in offered]
            if wrong:
                raise exceptions.ValidationError(
                    {
                        self.ordering_param: [
                            f"Cannot order by {', '.join(wrong)}; choose from "
                            f"{', '.join(offered) or 'nothing'}."
                        ]
                    },
                    code="invalid",
                )
        return super().get_ordering(request, queryset, view)

    @staticmethod
    def offered_terms(view: Any) -> list[str]:
        fields = [f if isinstance(f, str) else f[0] for f in getattr(view, "ordering_fields", ())]
        return [term for field in fields for term in (field, f"-{field}")]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        offered = self.offered_terms(view)
        if not offered:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, comma-separated; "
                "a leading - for descending.",
                "schema": {"type": "array", "items": {"type": "string", "enum": offered}},
                "style": "form",
                "explode": False,
            }
        ]


# --- Errors ---------------------------------------------------------------------------


class UtcDateTimeField(serializers.DateTimeField):
    """An instant in UTC (``…Z``). Input must say its offset: a wall-clock
    time alone could be any of several instants."""

    default_error_messages: ClassVar = {
        "naive": "Give the time with its offset, e.g. 2026-03-06T16:30:00+01:00 or …Z."
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _validation_detail(error: DjangoValidationError) -> dict[str, Any]:
    """A service's ValidationError as ``{"field": [messages]}``."""
    detail = get_error_detail(error)
    non_field_key = api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, Mapping):
        return {
            (non_field_key if key == NON_FIELD_ERRORS else key): value
            for key, value in detail.items()
        }
    return {non_field_key: detail}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, widened to what services and Django raise, with one shape.

    * ``django.core.exceptions.ValidationError`` (what services raise) -> 400
      ``{"field": ["message", …]}``, non-field errors under ``non_field_errors``;
      DRF's own validation errors get the same shape (never a bare list).
    * ``Http404`` -> 404 and ``PermissionDenied`` -> 403, as DRF does.
    * A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` -> 413; other requests
      Django deems suspicious (too many fields) -> 400. Malformed JSON is
      DRF's ``ParseError``, a 400.
    * Every other error body is ``{"detail": "message", "code": "stable_code"}``.

    Anything else is left to Django: a 500, logged.
    """
    # Imported here: rest_framework.views imports this module (see the docstring).
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, SuspiciousOperation):
        # Django would log these to django.security and answer 400; so do we.
        logging.getLogger(f"django.security.{type(exc).__name__}").warning("%s", exc)
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()
        else:
            exc = exceptions.ParseError("The request could not be read.", code="bad_request")
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, Mapping):
            response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    elif isinstance(response.data, Mapping) and "detail" in response.data:
        codes = exc.get_codes()
        response.data = {
            "detail": response.data["detail"],
            "code": codes if isinstance(codes, str) else exc.default_code,
        }
    return response
