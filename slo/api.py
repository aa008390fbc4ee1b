"""REST API v1 of SLA settings: ``/api/v1/sla/…``.

Business calendars, policies and their escalations, for tenant admins
holding a token with the ``sla:admin`` scope (or their browser session).
Calendars speak the data form of ``slo.business_time``; every write goes
through ``slo.services``, whose per-field messages (per weekday for working
hours) come back as the 400 body. Related objects are named by id and
resolved inside the caller's tenant only: another tenant's id is "Not
found.", exactly like an id that does not exist.

Escalations are listed read-only inside their policy and changed through
``/api/v1/sla/escalations/`` (the service offers create and delete, so the
resource does too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from servicedesk.api_base import TenantGenericViewSet
from servicedesk.api_defaults import UtcDateTimeField
from servicedesk.models import Role, Team, Tenant, User
from servicedesk.parsers import JSONParser
from servicedesk.tenancy import TenantOwned
from slo import selectors, services
from slo.business_time import WEEKDAYS, CalendarNeverOpens
from slo.models import (
    Calendar,
    Escalation,
    EscalationAction,
    Policy,
    Target,
    Trigger,
    default_pause_statuses,
)
from tickets.models import Category, Tag

SLA_ADMIN = "sla:admin"
# The largest amount a preview adds: the longest target a policy may set.
MAX_PREVIEW_MINUTES = services.MAX_TARGET_MINUTES
# Postgres keys are 64-bit; a larger number names nothing (and must not reach the database).
MAX_ID = 2**63 - 1
# Every id in a path reaches the view, which answers the API's 404 for one
# that names nothing (DRF's default pattern leaves "1.5" to Django's HTML 404).
ANY_SEGMENT = r"[^/]+"


def _service_errors(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as the 400 body. Messages keyed by weekday
    (``business_time.parse_week``) belong to ``hours`` and go under it."""
    detail: dict[str, Any] = dict(error.message_dict)
    week = {day: detail.pop(day) for day in WEEKDAYS if day in detail}
    if week:
        hours = detail.pop("hours", None)
        if hours:
            week[api_settings.NON_FIELD_ERRORS_KEY] = hours
        detail["hours"] = week
    return serializers.ValidationError(detail)


def _json_object(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: ["Send a JSON object."]}
        )
    return data


# --- Fields that resolve inside the tenant ----------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class TenantObjectField(serializers.Field):
    """An object of the caller's tenant named by id; any other id, another
    tenant's included, is "Not found."."""

    default_error_messages: ClassVar = {"not_found": "Not found."}

    def __init__(self, model: type[TenantOwned], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> TenantOwned:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("not_found")
        text = str(data).strip()
        if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
            self.fail("not_found")
        tenant = cast(Tenant | None, self.context.get("tenant"))
        found = (
            self.model.objects.for_tenant(tenant).filter(pk=int(text)).first()
            if tenant is not None
            else None
        )
        if found is None:
            self.fail("not_found")
        return cast(TenantOwned, found)

    def to_representation(self, value: TenantOwned) -> int:
        return cast(int, value.pk)


@extend_schema_field(serializers.ListField(child=serializers.EmailField()))
class StaffEmailsField(serializers.ListField):
    """People named by e-mail, looked up among the tenant's active agents."""

    child = serializers.EmailField()
    default_error_messages: ClassVar = {
        "unknown": "No active agent of this organisation has the e-mail {email}."
    }

    def to_internal_value(self, data: Any) -> list[User]:
        emails = [e.strip().lower() for e in super().to_internal_value(data)]
        tenant = cast(Tenant | None, self.context.get("tenant"))
        if not emails:
            return []
        matches = Q()
        for email in emails:
            matches |= Q(email__iexact=email)
        found = {
            user.email.lower(): user
            for user in User.objects.filter(
                matches,
                is_active=True,
                memberships__tenant=tenant,
                memberships__is_active=True,
                memberships__role__in=[Role.AGENT, Role.LEAD, Role.ADMIN],
            )
        }
        for email in emails:
            if email not in found:
                self.fail("unknown", email=email)
        return list(dict.fromkeys(found[email] for email in emails))

    def to_representation(self, data: Any) -> list[str]:
        return sorted(user.email for user in data.all())


# --- Calendars ---------------------------------------------------------------------------

SHIFTS_HELP = (
    'Working intervals of the day as ["start", "end"] pairs of local wall-clock time; '
    'an end earlier than its start runs past midnight, "24:00" ends at midnight.'
)


def _shifts() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ListField(
            child=serializers.CharField(), min_length=2, max_length=2, help_text="[start, end]"
        ),
        help_text=SHIFTS_HELP,
    )


class WeekSerializer(serializers.Serializer):
    mon = _shifts()
    tue = _shifts()
    wed = _shifts()
    thu = _shifts()
    fri = _shifts()
    sat = _shifts()
    sun = _shifts()


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    recurring = serializers.BooleanField(
        required=False, default=False, help_text="Every year on this day and month."
    )
    name = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)


class CalendarSerializer(serializers.Serializer):
    """A business calendar. ``hours`` holds all seven weekdays (a day left
    out has no working time); ``holidays`` come back sorted, without
    duplicates, names with their spaces tidied."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(help_text="An IANA time zone, e.g. Europe/Berlin.")
    hours = WeekSerializer()
    holidays = HolidaySerializer(many=True, required=False)


CALENDAR_FIELDS = ("name", "timezone", "hours", "holidays")
CALENDAR_REQUIRED = ("name", "timezone", "hours")


def _calendar_values(data: Any, current: Calendar | None) -> dict[str, Any]:
    """The service's arguments from a request body: the body over the
    calendar as it is (PATCH), or the body alone (POST, PUT). The values
    themselves are the service's to judge."""
    body = _json_object(data)
    errors: dict[str, list[str]] = {}
    for name in sorted(set(body) - set(CALENDAR_FIELDS) - {"id"}):
        errors[name] = ["Unknown field."]
    if current is None:
        for name in CALENDAR_REQUIRED:
            if name not in body:
                errors[name] = ["This field is required."]
    if errors:
        raise serializers.ValidationError(errors)
    values: dict[str, Any] = (
        {name: getattr(current, name) for name in CALENDAR_FIELDS}
        if current is not None
        else {"holidays": []}
    )
    values.update({name: body[name] for name in CALENDAR_FIELDS if name in body})
    return {
        "name": values["name"],
        "timezone_name": values["timezone"],
        "hours": values["hours"],
        "holidays": values["holidays"],
    }


class DueInputSerializer(serializers.Serializer):
    start = UtcDateTimeField(help_text="An instant with its offset (ISO 8601).")
    minutes = serializers.IntegerField(
        min_value=0,
        max_value=MAX_PREVIEW_MINUTES,
        help_text="Business minutes to add (at most 366 days' worth).",
    )


class DueSerializer(serializers.Serializer):
    due = UtcDateTimeField(help_text="When the business minutes after start end, in UTC.")


CALENDAR_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy", "due")


@extend_schema(tags=["sla"])
class CalendarViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """The tenant's business calendars."""

    queryset = Calendar.objects.none()
    serializer_class = CalendarSerializer
    lookup_url_kwarg = "calendar_id"
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    ordering = ("name", "pk")
    # Every action, the preview included, is the tenant admin's.
    required_scopes: ClassVar = dict.fromkeys(CALENDAR_ACTIONS, SLA_ADMIN)
    minimum_role: ClassVar = dict.fromkeys(CALENDAR_ACTIONS, Role.ADMIN)

    def tenant_queryset(self) -> QuerySet[Calendar]:
        return selectors.calendar_list(tenant=self.tenant)

    def get_object(self) -> Calendar:
        return selectors.get_calendar(tenant=self.tenant, calendar_id=self.kwargs["calendar_id"])

    @extend_schema(responses={201: CalendarSerializer}, summary="Add a calendar")
    def create(self, request: Request) -> Response:
        values = _calendar_values(request.data, None)
        try:
            calendar = services.calendar_create(actor=self.membership, **values)
        except DjangoValidationError as error:
            raise _service_errors(error) from error
        return Response(CalendarSerializer(calendar).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a calendar")
    def update(self, request: Request, calendar_id: str) -> Response:
        return self._change(request, partial=False)

    @extend_schema(summary="Change some of a calendar's fields")
    def partial_update(self, request: Request, calendar_id: str) -> Response:
        return self._change(request, partial=True)

    def _change(self, request: Request, *, partial: bool) -> Response:
        calendar = self.get_object()
        values = _calendar_values(request.data, calendar if partial else None)
        try:
            calendar = services.calendar_update(actor=self.membership, calendar=calendar, **values)
        except DjangoValidationError as error:
            raise _service_errors(error) from error
        return Response(CalendarSerializer(calendar).data)

    @extend_schema(summary="Delete a calendar no policy uses")
    def destroy(self, request: Request, calendar_id: str) -> Response:
        services.calendar_delete(actor=self.membership, calendar=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=DueInputSerializer,
        responses=DueSerializer,
        summary="When a number of business minutes after an instant ends",
    )
    @action(detail=True, methods=["post"])
    def due(self, request: Request, calendar_id: str) -> Response:
        calendar = self.get_object()
        serializer = DueInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        start, minutes = serializer.validated_data["start"], serializer.validated_data["minutes"]
        try:
            due = services.preview_due(calendar=calendar, start=start, minutes=minutes)
        except CalendarNeverOpens as error:
            raise serializers.ValidationError({"minutes": [str(error)]}) from error
        except OverflowError as error:
            raise serializers.ValidationError(
                {"start": ["The result would fall outside the calendar's range of years."]}
            ) from error
        return Response(DueSerializer({"due": due}).data)


# --- Policies and escalations ------------------------------------------------------------


class EscalationSerializer(serializers.Serializer):
    """What happens when a clock of the policy warns or breaches. A blank
    ``target`` means every target of the policy."""

    id = serializers.IntegerField(read_only=True)
    policy = TenantObjectField(Policy, help_text="The policy's id.")
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    target = serializers.ChoiceField(
        choices=Target.choices, allow_blank=True, required=False, default=""
    )
    action = serializers.ChoiceField(choices=EscalationAction.choices)
    team = TenantObjectField(
        Team,
        allow_null=True,
        required=False,
        default=None,
        help_text="The team's id: whose lead to notify, or where to reassign.",
    )
    users = StaffEmailsField(
        required=False, default=list, max_length=50, help_text="Agents to notify, by e-mail."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, "Unknown field."))
        return attrs


class PolicySerializer(serializers.Serializer):
    """A policy: its conditions (empty ones match every ticket), targets in
    business minutes of its calendar (``null``: the built-in 24×7) and its
    escalations (read-only here; see ``/api/v1/sla/escalations/``).
    Policies apply in ``position`` order: the first active one that matches
    a ticket sets its targets."""

    id = serializers.IntegerField(read_only=True)
    # Length and spacing are the service's to judge, with its messages.
    name = serializers.CharField(allow_blank=True)
    position = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(required=False, default=True)
    kinds = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, max_length=10
    )
    priorities = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=10
    )
    team = TenantObjectField(Team, allow_null=True, required=False, default=None)
    category = TenantObjectField(Category, allow_null=True, required=False, default=None)
    tag = TenantObjectField(Tag, allow_null=True, required=False, default=None)
    requester_organisation = serializers.CharField(
        max_length=100, allow_blank=True, required=False, default=""
    )
    vip_only = serializers.BooleanField(required=False, default=False)
    calendar = TenantObjectField(
        Calendar,
        allow_null=True,
        required=False,
        default=None,
        help_text="The calendar's id; null for the built-in 24×7.",
    )
    first_response_minutes = serializers.IntegerField(allow_null=True, required=False, default=None)
    next_response_minutes = serializers.IntegerField(allow_null=True, required=False, default=None)
    resolution_minutes = serializers.IntegerField(allow_null=True, required=False, default=None)
    warning_percent = serializers.IntegerField(required=False, default=80)
    pause_statuses = serializers.ListField(
        child=serializers.CharField(), required=False, default=default_pause_statuses, max_length=5
    )
    escalations = EscalationSerializer(many=True, read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, "Unknown field."))
        return attrs


class MoveSerializer(serializers.Serializer):
    offset = serializers.ChoiceField(
        choices=[(-1, "Up: evaluated earlier"), (1, "Down: evaluated later")]
    )


POLICY_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy", "move")


@extend_schema(tags=["sla"])
class PolicyViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """The tenant's SLA policies, in evaluation order."""

    queryset = Policy.objects.none()
    serializer_class = PolicySerializer
    lookup_url_kwarg = "policy_id"
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    ordering = ("position", "pk")
    required_scopes: ClassVar = dict.fromkeys(POLICY_ACTIONS, SLA_ADMIN)
    minimum_role: ClassVar = dict.fromkeys(POLICY_ACTIONS, Role.ADMIN)

    def tenant_queryset(self) -> QuerySet[Policy]:
        return selectors.policy_list(tenant=self.tenant)

    def get_object(self) -> Policy:
        return selectors.get_policy(tenant=self.tenant, policy_id=self.kwargs["policy_id"])

    @extend_schema(responses={201: PolicySerializer}, summary="Add a policy (last)")
    def create(self, request: Request) -> Response:
        values = self._valid(request.data, partial=False)
        policy = services.policy_create(actor=self.membership, **values)
        return Response(self._out(policy), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Replace a policy")
    def update(self, request: Request, policy_id: str) -> Response:
        return self._change(request, partial=False)

    @extend_schema(summary="Change some of a policy's fields")
    def partial_update(self, request: Request, policy_id: str) -> Response:
        return self._change(request, partial=True)

    def _change(self, request: Request, *, partial: bool) -> Response:
        policy = self.get_object()
        values = self._valid(request.data, partial=partial)
        if partial:
            values = {name: getattr(policy, name) for name in services.POLICY_FIELDS} | values
        services.policy_update(actor=self.membership, policy=policy, **values)
        return Response(self._out(policy))

    @extend_schema(summary="Delete a policy and its escalations")
    def destroy(self, request: Request, policy_id: str) -> Response:
        services.policy_delete(actor=self.membership, policy=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=MoveSerializer,
        responses=PolicySerializer,
        summary="Move a policy one place up or down the evaluation order",
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, policy_id: str) -> Response:
        policy = self.get_object()
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.policy_move(
            actor=self.membership, policy=policy, offset=int(serializer.validated_data["offset"])
        )
        return Response(self._out(policy))

    def _valid(self, data: Any, *, partial: bool) -> dict[str, Any]:
        serializer = PolicySerializer(
            data=_json_object(data), partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _out(self, policy: Policy) -> dict[str, Any]:
        """The policy as stored now, with its escalations (one lookup)."""
        fresh = selectors.get_policy(tenant=self.tenant, policy_id=policy.pk)
        return cast(dict[str, Any], PolicySerializer(fresh).data)


ESCALATION_ACTIONS = ("list", "retrieve", "create", "destroy")
POLICY_FILTER = OpenApiParameter(
    "policy", int, OpenApiParameter.QUERY, description="Only the escalations of this policy."
)


@extend_schema(tags=["sla"])
class EscalationViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """Escalations of the tenant's policies. They are added and removed,
    not edited: to change one, add the new one and delete the old."""

    queryset = Escalation.objects.none()
    serializer_class = EscalationSerializer
    lookup_url_kwarg = "escalation_id"
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    ordering = ("pk",)
    required_scopes: ClassVar = dict.fromkeys(ESCALATION_ACTIONS, SLA_ADMIN)
    minimum_role: ClassVar = dict.fromkeys(ESCALATION_ACTIONS, Role.ADMIN)
    query_parameters: ClassVar = {"list": [POLICY_FILTER]}

    def tenant_queryset(self) -> QuerySet[Escalation]:
        policy = self.request.query_params.get("policy")
        if policy is None:
            return selectors.escalation_list(tenant=self.tenant)
        if not policy.isascii() or not policy.isdigit() or int(policy) > MAX_ID:
            raise serializers.ValidationError({"policy": ["Give a policy's id."]})
        return selectors.escalation_list(tenant=self.tenant, policy_id=int(policy))

    def get_object(self) -> Escalation:
        return selectors.get_escalation_detail(
            tenant=self.tenant, escalation_id=self.kwargs["escalation_id"]
        )

    @extend_schema(responses={201: EscalationSerializer}, summary="Add one")
    def create(self, request: Request) -> Response:
        serializer = EscalationSerializer(
            data=_json_object(request.data), context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        escalation = services.escalation_create(
            actor=self.membership, policy=values.pop("policy"), **values
        )
        fresh = selectors.get_escalation_detail(tenant=self.tenant, escalation_id=escalation.pk)
        return Response(EscalationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Delete one")
    def destroy(self, request: Request, escalation_id: str) -> Response:
        services.escalation_delete(actor=self.membership, escalation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# A SimpleRouter: no browsable API root, every route is a tenant-gated viewset.
router = SimpleRouter()
router.register("sla/calendars", CalendarViewSet, basename="sla-calendar")
router.register("sla/policies", PolicyViewSet, basename="sla-policy")
router.register("sla/escalations", EscalationViewSet, basename="sla-escalation")
