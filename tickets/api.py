"""REST API v1 of tickets: ``/api/v1/tickets/``.

Tickets are addressed by their key (``INC-42``). People are e-mail
addresses, teams are slugs; both resolve inside the caller's tenant only.
Reads go through the same selectors as the desk and the portal, writes
through the same services, so a requester's token sees what the requester
sees in the portal (own and watched tickets, no internal notes) and nothing
more: a requester's ticket JSON is :class:`RequesterTicketSerializer`, the
facts of the portal's request page, not the desk's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from servicedesk.api_base import BooleanFilter, IsoDateTimeFilter, TenantGenericViewSet
from servicedesk.links import absolute_url
from servicedesk.models import Membership, Role, Team, User
from servicedesk.parsers import JSONParser
from servicedesk.registry import Registry
from tickets import selectors, services
from tickets.forms import MAX_FILES
from tickets.models import (
    Attachment,
    Comment,
    Level,
    Priority,
    ResolutionCode,
    Source,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
    parse_ticket_key,
)

READ = "tickets:read"
WRITE = "tickets:write"


def _actor(membership: Membership) -> services.Actor:
    return services.Actor.of(membership)


# --- Fields that resolve inside the tenant ----------------------------------------------


@extend_schema_field(OpenApiTypes.EMAIL)
class MemberEmailField(serializers.Field):
    """A person named by e-mail, looked up among the tenant's active members."""

    default_error_messages: ClassVar = {
        "invalid": "Enter an e-mail address.",
        "unknown": "No active {who} with this e-mail in this organisation.",
    }

    def __init__(self, *, staff: bool = False, **kwargs: Any) -> None:
        self.staff = staff
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> User | None:
        if data in (None, ""):
            return None
        if not isinstance(data, str) or len(data) > 254 or "@" not in data or "\x00" in data:
            self.fail("invalid")
        membership = cast(Membership | None, self.context.get("membership"))
        roles = [Role.AGENT, Role.LEAD, Role.ADMIN] if self.staff else list(Role.values)
        user = (
            User.objects.filter(
                email__iexact=data.strip(),
                is_active=True,
                memberships__tenant_id=membership.tenant_id,
                memberships__is_active=True,
                memberships__role__in=roles,
            ).first()
            if membership is not None
            else None
        )
        if user is None:
            self.fail("unknown", who="agent" if self.staff else "member")
        return user

    def to_representation(self, value: User) -> str:
        return value.email


@extend_schema_field(OpenApiTypes.STR)
class TeamSlugField(serializers.Field):
    """A team named by slug, looked up in the caller's tenant."""

    default_error_messages: ClassVar = {"unknown": "No team with this slug."}

    def to_internal_value(self, data: Any) -> Team | None:
        if data in (None, ""):
            return None
        membership = cast(Membership | None, self.context.get("membership"))
        team = (
            Team.objects.for_tenant(membership.tenant_id).filter(slug=str(data)[:50]).first()
            if membership is not None and isinstance(data, str)
            else None
        )
        if team is None:
            self.fail("unknown")
        return team

    def to_representation(self, value: Team) -> str:
        return value.slug


# --- Output ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketApiField:
    """A field another app adds to the ticket's JSON (the SLA's ``sla``).

    ``load`` reads what the field shows for a page of tickets at once (a
    fixed number of queries), keyed by ticket id, or returns ``None`` when
    this caller gets nothing (the field is then null). ``field`` builds the
    read-only serializer field that turns one ticket's loaded value into
    JSON; the OpenAPI schema is that field's.

    ``for_requesters``: whether a requester's ticket JSON carries the field
    too. It shows a requester what the portal shows, so a field is the
    desk's alone unless its app shows the same on the portal's request page.
    """

    name: str
    order: int
    field: Callable[[], serializers.Field]
    load: Callable[[Membership, Sequence[Ticket], datetime], Mapping[int, Any] | None]
    for_requesters: bool = False


ticket_api_fields: Registry[TicketApiField] = Registry("ticket API field")


class ContributedValue(serializers.Field):
    """Hands a contributed field the value its ``load`` read for this ticket."""

    def __init__(self, contribution: TicketApiField) -> None:
        self.contribution = contribution
        self.inner = contribution.field()
        super().__init__(source="*", read_only=True)

    def bind(self, field_name: str, parent: serializers.BaseSerializer) -> None:
        super().bind(field_name, parent)
        self.inner.bind(field_name, parent)

    def to_representation(self, ticket: Ticket) -> Any:
        loaded = cast(dict[str, Any], self.context.get("contributed", {})).get(
            self.contribution.name
        )
        if loaded is None:
            return None
        return self.inner.to_representation(loaded.get(ticket.pk))


class ContributedValueSchema(OpenApiSerializerFieldExtension):
    """The schema of a contributed field is its own field's."""

    target_class = ContributedValue

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        return auto_schema._map_serializer_field(self.target.inner, direction)


def contributed_fields(*, for_requesters: bool) -> dict[str, serializers.Field]:
    """The fields other apps add: all of them for staff, for requesters those
    the app says the portal shows."""
    return {
        f.name: ContributedValue(f)
        for f in ticket_api_fields
        if f.for_requesters or not for_requesters
    }


def contributed_context(
    membership: Membership, tickets: Sequence[Ticket], now: datetime
) -> dict[str, Any]:
    """What the contributed fields show for these tickets (``load`` of each
    field this caller's shape has: a requester's only those for requesters)."""
    return {
        "contributed": {
            f.name: f.load(membership, tickets, now)
            for f in ticket_api_fields
            if membership.is_agent or f.for_requesters
        }
    }


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the API shows it to agents, leads and admins.

    Other apps add fields (``TicketApiField``): the SLA's ``sla``. The view
    loads them for the whole page at once into the serializer context.
    """

    number = serializers.CharField(source="key", read_only=True)
    requester = serializers.EmailField(source="requester.email", read_only=True)
    # Null while nobody (no team, no category) is set: DRF stops at the None.
    assignee = serializers.EmailField(source="assignee.email", read_only=True, allow_null=True)
    team = serializers.CharField(source="team.slug", read_only=True, allow_null=True)
    category = serializers.CharField(source="category.name", read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    confidential = serializers.BooleanField(source="is_confidential", read_only=True)
    # Declared: a read-only model field loses allow_blank, and "" is what an
    # unresolved ticket has.
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Ticket
        fields: ClassVar = [
            "number",
            "kind",
            "title",
            "description",
            "status",
            "impact",
            "urgency",
            "priority",
            "priority_override_reason",
            "requester",
            "assignee",
            "team",
            "category",
            "tags",
            "confidential",
            "source",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "resolution_code",
            "resolution_notes",
            "reopen_count",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **contributed_fields(for_requesters=False)}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, ticket: Ticket) -> list[str]:
        # Prefetched by the selectors (tenant-scoped): no query per ticket.
        return sorted(tag.name for tag in ticket.tags.all())


class RequesterShape(serializers.ModelSerializer):
    """A shape of what the portal shows a requester. Its schema says
    ``additionalProperties: false``: the shape is all there is, which also
    tells it apart from the staff's in a ``oneOf``."""


class RequesterShapeSchema(OpenApiSerializerExtension):
    target_class = RequesterShape
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


def for_caller(
    name: str,
    staff: type[serializers.Serializer],
    requester: type[RequesterShape],
    *,
    many: bool | None = None,
) -> PolymorphicProxySerializer:
    """What a route answers: the desk's shape for staff or the portal's for
    requesters, by the caller's role. ``many`` as drf-spectacular takes it
    (``None``: a list action's answer is a page of them)."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[staff, requester],
        resource_type_field_name=None,
        many=many,
    )


class RequesterTicketSerializer(RequesterShape):
    """A ticket as a requester's token sees it: the facts of the portal's
    request page (``templates/tickets/_partials/portal_request.html``) and
    no more -- no priority and its reasons, no tags, no category, no SLA, no
    staff e-mail addresses. People are named as the portal names them.

    Fields other apps add join only when they say the portal shows them
    (``TicketApiField.for_requesters``). The conversation is
    ``…/comments/``, the public part of it only.
    """

    number = serializers.CharField(source="key", read_only=True)
    requester_name = serializers.CharField(source="requester.display_name", read_only=True)
    handled_by = serializers.SerializerMethodField(
        help_text="The assignee's name, else the team's; null while neither is set."
    )
    resolution_notes = serializers.SerializerMethodField(
        help_text="How it was solved, while the ticket is resolved; empty otherwise."
    )

    class Meta:
        model = Ticket
        fields: ClassVar = [
            "number",
            "kind",
            "title",
            "description",
            "status",
            "requester_name",
            "handled_by",
            "created_at",
            "updated_at",
            "resolution_notes",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), **contributed_fields(for_requesters=True)}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_handled_by(self, ticket: Ticket) -> str | None:
        if ticket.assignee is not None:
            return ticket.assignee.display_name
        return ticket.team.name if ticket.team is not None else None

    def get_resolution_notes(self, ticket: Ticket) -> str:
        return ticket.resolution_notes if ticket.status == Status.RESOLVED else ""


def ticket_serializer_class(membership: Membership) -> type[serializers.ModelSerializer]:
    """The ticket's shape for this caller: the desk's for staff, the portal's
    for requesters."""
    return TicketSerializer if membership.is_agent else RequesterTicketSerializer


TICKET_FOR_CALLER = for_caller("TicketForCaller", TicketSerializer, RequesterTicketSerializer)


class CommentSerializer(serializers.ModelSerializer):
    internal = serializers.BooleanField(source="is_internal", read_only=True)
    author = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields: ClassVar = ["id", "body", "internal", "author", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.EMAIL)
    def get_author(self, comment: Comment) -> str | None:
        return comment.author.email if comment.author else None


class RequesterCommentSerializer(RequesterShape):
    """A reply as the portal shows it to a requester: who wrote it by name
    (staff e-mail addresses stay with the desk), whether the support team
    wrote it, never an internal note."""

    author_name = serializers.SerializerMethodField()
    from_support = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields: ClassVar = ["id", "body", "author_name", "from_support", "created_at"]
        read_only_fields = fields

    def get_author_name(self, comment: Comment) -> str:
        return comment.author.display_name if comment.author else "Support"

    def get_from_support(self, comment: Comment) -> bool:
        support = cast(set[int], self.context.get("support_ids", set()))
        return comment.author_id in support


COMMENT_FOR_CALLER = for_caller("CommentForCaller", CommentSerializer, RequesterCommentSerializer)


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields: ClassVar = ["id", "filename", "size", "content_type", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: Attachment) -> str:
        membership = cast(Membership, self.context["membership"])
        path = reverse(
            "tickets:attachment",
            kwargs={
                "tenant_slug": membership.tenant.slug,
                "key": self.context["ticket_key"],
                "attachment_id": attachment.pk,
            },
        )
        return absolute_url(path)


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    old = serializers.CharField(source="old_value", read_only=True)
    new = serializers.CharField(source="new_value", read_only=True)

    class Meta:
        model = TicketEvent
        fields: ClassVar = [
            "id",
            "action",
            "field",
            "old",
            "new",
            "note",
            "actor",
            "actor_kind",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor(self, event: TicketEvent) -> str:
        return event.actor.email if event.actor else event.actor_name


class RequesterEventSerializer(RequesterShape):
    """What happened to the request, as the portal's timeline tells it: the
    status moves, who made them by name (``null`` for the system or an
    automation), and no notes (the desk's words)."""

    old = serializers.CharField(source="old_value", read_only=True)
    new = serializers.CharField(source="new_value", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields: ClassVar = ["id", "action", "field", "old", "new", "actor_name", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor_name(self, event: TicketEvent) -> str | None:
        if event.actor is not None:
            return event.actor.display_name
        return event.actor_name if event.actor_kind == "user" else None


# --- Input -----------------------------------------------------------------------------


class TicketCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TicketKind.choices, default=TicketKind.INCIDENT)
    title = serializers.CharField(max_length=services.TITLE_MAX)
    description = serializers.CharField(
        max_length=services.BODY_MAX, required=False, allow_blank=True, default=""
    )
    impact = serializers.ChoiceField(choices=Level.choices, default=Level.LOW)
    urgency = serializers.ChoiceField(choices=Level.choices, default=Level.LOW)
    requester = MemberEmailField(required=False, allow_null=True, help_text="Agents only.")
    assignee = MemberEmailField(staff=True, required=False, allow_null=True)
    team = TeamSlugField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=services.TAG_MAX,
        required=False,
        default=list,
    )
    confidential = serializers.BooleanField(required=False, default=False)


class TicketUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=services.TITLE_MAX, required=False)
    description = serializers.CharField(
        max_length=services.BODY_MAX, required=False, allow_blank=True
    )
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    priority_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    assignee = MemberEmailField(staff=True, required=False, allow_null=True)
    team = TeamSlugField(required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=services.TAG_MAX, required=False
    )
    confidential = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            # A typo must not pass silently; status moves through /transition/.
            raise serializers.ValidationError(
                {
                    name: "Use POST …/transition/ to change the status."
                    if name == "status"
                    else "Unknown or read-only field."
                    for name in sorted(unknown)
                }
            )
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_MAX)
    internal = serializers.BooleanField(required=False, default=False)


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    resolution_code = serializers.ChoiceField(
        choices=ResolutionCode.choices, required=False, allow_blank=True, default=""
    )
    resolution_notes = serializers.CharField(
        max_length=services.BODY_MAX, required=False, allow_blank=True, default=""
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AttachmentUploadSerializer(serializers.Serializer):
    # Several parts named "file" are several files, as the desk's form takes
    # them (not the last one alone, which is what a plain FileField keeps).
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False, max_length=1000),
        min_length=1,
        max_length=MAX_FILES,
        help_text=f"One or more files (at most {MAX_FILES}), each a part named file.",
    )
    internal = serializers.BooleanField(required=False, default=False)


# --- Filters ---------------------------------------------------------------------------


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    assignee = django_filters.CharFilter(field_name="assignee__email", lookup_expr="iexact")
    requester = django_filters.CharFilter(field_name="requester__email", lookup_expr="iexact")
    team = django_filters.CharFilter(field_name="team__slug")
    tag = django_filters.CharFilter(method="filter_tag")
    unassigned = BooleanFilter(field_name="assignee", lookup_expr="isnull")
    confidential = BooleanFilter(field_name="is_confidential")
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="filter_text", max_length=200, label="Text search")

    class Meta:
        model = Ticket
        fields: ClassVar[list[str]] = []

    def filter_tag(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return selectors.apply_filters(
            tickets, selectors.QueueFilters(tag=value, sort="")
        ).order_by()

    def filter_text(self, tickets: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        membership = cast(Membership, getattr(self.request, "membership", None))
        return selectors.apply_filters(
            tickets,
            selectors.QueueFilters(text=value, sort=""),
            viewer=selectors.Viewer.of(membership),
        ).order_by()


# --- The viewset -----------------------------------------------------------------------

KEY_PARAMETER = OpenApiParameter(
    "number",
    str,
    OpenApiParameter.PATH,
    description="The ticket's key, e.g. INC-42.",
    pattern=r"^[A-Za-z]{3}-[0-9]{1,10}$",
)


# The key names one ticket: a parameter of the detail routes only (list and
# create have no key in their path).
@extend_schema(tags=["tickets"])
@extend_schema_view(
    list=extend_schema(responses=TICKET_FOR_CALLER),
    **{
        name: extend_schema(parameters=[KEY_PARAMETER])
        for name in (
            "partial_update",
            "comments",
            "events",
            "attachments",
            "transition",
        )
    },
    retrieve=extend_schema(parameters=[KEY_PARAMETER], responses=TICKET_FOR_CALLER),
)
class TicketViewSet(  # type: ignore[misc]
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantGenericViewSet,
):
    """Tickets of the caller's tenant that the caller may see."""

    queryset = Ticket.objects.none()
    serializer_class = TicketSerializer
    lookup_field = "number"
    # Any segment reaches the view, which answers the API's 404 for one that
    # is no key; a tighter pattern here would leave it to Django's HTML page.
    lookup_value_regex = r"[^/]+"
    filterset_class = TicketFilter
    ordering_fields: ClassVar = ["created_at", "updated_at", "priority"]
    ordering = ("-created_at", "-pk")
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    required_scopes: ClassVar = {
        "list": READ,
        "retrieve": READ,
        "events": READ,
        "comments": READ,
        "create": WRITE,
        "partial_update": WRITE,
        "comment_create": WRITE,
        "attachments": WRITE,
        "transition": WRITE,
    }
    minimum_role: ClassVar = {
        "list": Role.REQUESTER,
        "retrieve": Role.REQUESTER,
        "events": Role.REQUESTER,
        "comments": Role.REQUESTER,
        "create": Role.REQUESTER,
        "partial_update": Role.AGENT,
        "comment_create": Role.REQUESTER,
        "attachments": Role.REQUESTER,
        "transition": Role.REQUESTER,
    }

    def api_action(self, request: Request) -> str | None:
        action_name = super().api_action(request)
        if action_name == "comments" and request.method == "POST":
            return "comment_create"
        return action_name

    def tenant_queryset(self) -> QuerySet[Ticket]:
        return selectors.with_list_relations(
            selectors.visible_tickets(self.membership), self.membership.tenant_id
        )

    def get_object(self) -> Ticket:
        return selectors.get_ticket_for(self.membership, self.kwargs["number"])

    def list(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        tickets = list(queryset) if page is None else page
        now = timezone.now()
        context = {
            **self.get_serializer_context(),
            **contributed_context(self.membership, tickets, now),
            "now": now,
        }
        serializer_class = ticket_serializer_class(self.membership)
        data = serializer_class(tickets, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request: Request, number: str) -> Response:
        # The visible tickets with their relations: one lookup, not a check and a re-read.
        parsed = parse_ticket_key(number)
        ticket = (
            self.tenant_queryset().filter(kind=parsed[0], number=parsed[1]).first()
            if parsed
            else None
        )
        if ticket is None:
            raise Http404("No such ticket")
        return Response(self._data(ticket))

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["ticket_key"] = self.kwargs.get("number", "")
        return context

    @extend_schema(
        request=TicketCreateSerializer,
        responses={201: TICKET_FOR_CALLER},
        parameters=[],
        summary="Open a ticket",
    )
    def create(self, request: Request) -> Response:
        data = self._valid(TicketCreateSerializer, request.data)
        ticket = services.ticket_create(
            actor=_actor(self.membership),
            kind=data["kind"],
            title=data["title"],
            description=data["description"],
            impact=data["impact"],
            urgency=data["urgency"],
            requester=data.get("requester"),
            assignee=data.get("assignee"),
            team=data.get("team"),
            tags=data["tags"],
            is_confidential=data["confidential"],
            source=Source.API,
        )
        return Response(self._out(ticket), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TicketUpdateSerializer, responses=TicketSerializer, summary="Change fields (agents)"
    )
    def partial_update(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._valid(TicketUpdateSerializer, request.data)
        changes: dict[str, Any] = {}
        for name in ("title", "description", "impact", "urgency", "assignee", "team"):
            if name in data:
                changes[name] = data[name]
        if "confidential" in data:
            changes["is_confidential"] = data["confidential"]
        services.ticket_update(
            actor=_actor(self.membership),
            ticket=ticket,
            priority=data.get("priority"),
            priority_reason=data.get("priority_reason", ""),
            tags=data.get("tags"),
            **changes,
        )
        return Response(self._out(ticket))

    @extend_schema(
        methods=["GET"],
        responses=for_caller(
            "CommentForCaller", CommentSerializer, RequesterCommentSerializer, many=True
        ),
        summary="The conversation",
    )
    @extend_schema(
        methods=["POST"],
        request=CommentCreateSerializer,
        responses={201: COMMENT_FOR_CALLER},
        summary="Reply (or add an internal note, agents only)",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        if request.method == "POST":
            data = self._valid(CommentCreateSerializer, request.data)
            comment = services.comment_add(
                actor=_actor(self.membership),
                ticket=ticket,
                body=data["body"],
                is_internal=data["internal"],
                source=Source.API,
            )
            return Response(self._comments([comment])[0], status=status.HTTP_201_CREATED)
        comments = list(selectors.ticket_comments(ticket=ticket, viewer=self.membership))
        return Response(self._comments(comments))

    def _comments(self, comments: Sequence[Comment]) -> Any:
        """The comments in the caller's shape; for a requester, which authors
        are the support team (one query), as the portal badges them."""
        if self.membership.is_agent:
            return CommentSerializer(comments, many=True).data
        authors = {c.author_id for c in comments if c.author_id is not None}
        support = (
            set(
                selectors.staff_members(tenant=self.membership.tenant_id)
                .filter(pk__in=authors)
                .values_list("pk", flat=True)
            )
            if authors
            else set()
        )
        return RequesterCommentSerializer(
            comments, many=True, context={"support_ids": support}
        ).data

    @extend_schema(
        responses=for_caller(
            "EventForCaller", EventSerializer, RequesterEventSerializer, many=True
        ),
        summary="The audit trail",
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        events = selectors.ticket_events(ticket=ticket, viewer=self.membership)
        shape = EventSerializer if self.membership.is_agent else RequesterEventSerializer
        return Response(shape(events, many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer(many=True)},
        summary="Attach files",
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
    )
    def attachments(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._valid(AttachmentUploadSerializer, request.data)
        actor = _actor(self.membership)
        # All or none: a file the service refuses leaves none of the others.
        with transaction.atomic():
            attachments = [
                services.attachment_add(
                    actor=actor, ticket=ticket, upload=upload, is_internal=data["internal"]
                )
                for upload in data["file"]
            ]
        return Response(
            AttachmentSerializer(
                attachments, many=True, context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=TransitionSerializer,
        responses=TICKET_FOR_CALLER,
        summary="Move along the workflow",
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, number: str) -> Response:
        ticket = self.get_object()
        data = self._valid(TransitionSerializer, request.data)
        services.ticket_transition(
            actor=_actor(self.membership),
            ticket=ticket,
            status=data["status"],
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
            note=data["note"],
        )
        return Response(self._out(ticket))

    def _valid(self, serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return cast(dict[str, Any], serializer.validated_data)

    def _out(self, ticket: Ticket) -> dict[str, Any]:
        return ticket_json(self.membership, ticket)

    def _data(self, ticket: Ticket) -> dict[str, Any]:
        return _ticket_data(self.membership, ticket)


def ticket_json(membership: Membership, ticket: Ticket) -> dict[str, Any]:
    """The ticket as it is now, after a write, in the caller's shape: what
    an API that opens or changes a ticket answers. ``ticket`` came through
    the visibility check already, so the re-read goes by key alone -- a
    cheaper query than the visibility filter."""
    fresh = selectors.with_list_relations(
        Ticket.objects.for_tenant(membership.tenant_id).filter(pk=ticket.pk),
        membership.tenant_id,
    ).get()
    return _ticket_data(membership, fresh)


def _ticket_data(membership: Membership, ticket: Ticket) -> dict[str, Any]:
    """One ticket's JSON, with what other apps add to it."""
    now = timezone.now()
    context = {**contributed_context(membership, [ticket], now), "now": now}
    serializer_class = ticket_serializer_class(membership)
    return cast(dict[str, Any], serializer_class(ticket, context=context).data)


# A SimpleRouter: no browsable API root, every route is a tenant-gated viewset.
router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
