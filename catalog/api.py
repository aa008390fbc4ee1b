"""The catalog's API: the items the caller may order, with their forms, and
ordering one (``POST …/order/`` with ``{"answers": {"field_key": value}}``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from catalog import selectors, services
from catalog.models import CatalogItem, Service
from servicedesk import formschema
from servicedesk.api_base import TenantGenericViewSet
from servicedesk.models import Role
from servicedesk.parsers import JSONParser
from tickets import api as tickets_api
from tickets.models import Source

ANY_SEGMENT = r"[^/]+"
ITEM_ACTIONS = ("list", "retrieve", "order")


class CatalogItemSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="service.name", allow_null=True, default=None)
    team = serializers.CharField(source="team.slug", allow_null=True, default=None)
    form_schema = serializers.JSONField(
        help_text="The order form: an ordered list of fields (key, type, label, help, "
        "required, default, choices, min, max, integer, show_when, require_when)."
    )

    class Meta:
        model = CatalogItem
        fields = (
            "id",
            "name",
            "category",
            "short_description",
            "description",
            "icon",
            "service",
            "team",
            "form_schema",
            "schema_version",
        )
        read_only_fields = fields


class OrderSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        default=dict,
        help_text='The form\'s answers: {"field_key": value}.',
    )


@extend_schema(tags=["catalog"])
class CatalogItemViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    """Published items the caller may order (requesters: those for everyone)."""

    queryset = CatalogItem.objects.none()
    serializer_class = CatalogItemSerializer
    lookup_url_kwarg = "item_id"
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    ordering = ("category", "name", "pk")
    required_scopes: ClassVar = {
        "list": tickets_api.READ,
        "retrieve": tickets_api.READ,
        "order": tickets_api.WRITE,
    }
    minimum_role: ClassVar = dict.fromkeys(ITEM_ACTIONS, Role.REQUESTER)

    def tenant_queryset(self) -> QuerySet[CatalogItem]:
        return selectors.orderable_items(self.membership).select_related("service", "team")

    def get_object(self) -> CatalogItem:
        item_id = str(self.kwargs["item_id"])
        if not item_id.isdigit() or len(item_id) > 12:
            raise Http404("No such catalog item")
        return selectors.get_orderable_item(self.membership, int(item_id))

    @extend_schema(
        request=OrderSerializer,
        responses={201: tickets_api.TICKET_FOR_CALLER},
        summary="Order an item: opens a request ticket with the answers",
    )
    @action(detail=True, methods=["post"])
    def order(self, request: Request, item_id: str) -> Response:
        item = self.get_object()
        serializer = OrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answers: dict[str, Any] = serializer.validated_data["answers"]
        try:
            ticket = services.order_place(
                membership=self.membership, item=item, answers=answers, source=Source.API
            )
        except formschema.AnswersInvalid as invalid:
            raise serializers.ValidationError({"answers": invalid.errors}) from invalid
        return Response(
            tickets_api.ticket_json(self.membership, ticket), status=status.HTTP_201_CREATED
        )


# --- The tenant admin's side ------------------------------------------------------------

CATALOG_ADMIN = "catalog:admin"
ADMIN_ACTIONS = ("list", "retrieve", "create", "partial_update")


class ServiceRefField(serializers.Field):
    """A service of the caller's tenant, by id."""

    default_error_messages: ClassVar = {"unknown": "No service with this id."}

    def to_internal_value(self, data: Any) -> Service | None:
        if data in (None, ""):
            return None
        membership = self.context.get("membership")
        if isinstance(data, bool) or not str(data).isdigit() or len(str(data)) > 12:
            self.fail("unknown")
        service = (
            Service.objects.for_tenant(membership.tenant_id).filter(pk=int(data)).first()
            if membership is not None
            else None
        )
        if service is None:
            self.fail("unknown")
        return service

    def to_representation(self, value: Service) -> int:
        return value.pk


extend_schema_field({"type": "integer", "nullable": True})(ServiceRefField)


class AdminServiceSerializer(serializers.ModelSerializer):
    owner_team = tickets_api.TeamSlugField(
        required=False, allow_null=True, help_text="The owning team's slug."
    )

    class Meta:
        model = Service
        fields = (
            "id",
            "name",
            "description",
            "kind",
            "owner_team",
            "status",
            "criticality",
            "visibility",
        )
        read_only_fields = ("id",)


class AdminItemSerializer(serializers.ModelSerializer):
    service = ServiceRefField(required=False, allow_null=True, help_text="A service's id.")
    team = tickets_api.TeamSlugField(
        required=False, allow_null=True, help_text="The fulfilling team's slug."
    )
    form_schema = serializers.JSONField(
        required=False,
        help_text="The order form (see the catalog items' list); checked when saved.",
    )

    class Meta:
        model = CatalogItem
        fields = (
            "id",
            "name",
            "category",
            "short_description",
            "description",
            "icon",
            "service",
            "team",
            "sla_hint",
            "status",
            "visibility",
            "form_schema",
            "schema_version",
        )
        read_only_fields = ("id", "schema_version")


class _AdminViewSet(  # type: ignore[misc]
    mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet
):
    lookup_value_regex = ANY_SEGMENT
    parser_classes = (JSONParser,)
    filter_backends = ()
    http_method_names = ["get", "post", "patch", "head", "options"]  # noqa: RUF012
    required_scopes: ClassVar = dict.fromkeys(ADMIN_ACTIONS, CATALOG_ADMIN)
    minimum_role: ClassVar = dict.fromkeys(ADMIN_ACTIONS, Role.ADMIN)

    def _valid(self, data: Any, *, partial: bool) -> dict[str, Any]:
        serializer = self.get_serializer(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    not_found = "Not found"

    def get_object(self) -> Any:
        """The tenant's object of the URL's id; the same 404 for a foreign,
        an unknown and a malformed one."""
        value = str(self.kwargs[self.lookup_url_kwarg or "pk"])
        found = (
            self.tenant_queryset().filter(pk=int(value)).first()
            if value.isdigit() and len(value) <= 12
            else None
        )
        if found is None:
            raise Http404(self.not_found)
        return found


@extend_schema(tags=["catalog admin"])
class AdminServiceViewSet(_AdminViewSet):
    """The tenant's services (tenant admins)."""

    queryset = Service.objects.none()
    serializer_class = AdminServiceSerializer
    lookup_url_kwarg = "service_id"
    ordering = ("name", "pk")
    not_found = "No such service"

    def tenant_queryset(self) -> QuerySet[Service]:
        return Service.objects.for_tenant(self.membership.tenant_id).select_related("owner_team")

    @extend_schema(responses={201: AdminServiceSerializer}, summary="Add a service")
    def create(self, request: Request) -> Response:
        values = self._valid(request.data, partial=False)
        service = services.service_create(tenant=self.membership.tenant, **values)
        return Response(AdminServiceSerializer(service).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a service")
    def partial_update(self, request: Request, service_id: str) -> Response:
        service = self.get_object()
        values = self._valid(request.data, partial=True)
        service = services.service_update(service=service, **values)
        return Response(AdminServiceSerializer(service).data)


@extend_schema(tags=["catalog admin"])
class AdminItemViewSet(_AdminViewSet):
    """Every catalog item of the tenant, drafts and retired ones included
    (tenant admins). A changed form gets a new version; orders keep theirs."""

    queryset = CatalogItem.objects.none()
    serializer_class = AdminItemSerializer
    lookup_url_kwarg = "item_id"
    ordering = ("category", "name", "pk")
    not_found = "No such catalog item"

    def tenant_queryset(self) -> QuerySet[CatalogItem]:
        return CatalogItem.objects.for_tenant(self.membership.tenant_id).select_related(
            "service", "team"
        )

    @extend_schema(responses={201: AdminItemSerializer}, summary="Add a catalog item")
    def create(self, request: Request) -> Response:
        values = self._valid(request.data, partial=False)
        item = services.item_create(tenant=self.membership.tenant, **values)
        return Response(AdminItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a catalog item (its form, its status…)")
    def partial_update(self, request: Request, item_id: str) -> Response:
        item = self.get_object()
        values = self._valid(request.data, partial=True)
        item = services.item_update(item=item, **values)
        return Response(AdminItemSerializer(item).data)


router = SimpleRouter()
router.register("catalog/items", CatalogItemViewSet, basename="catalog-item")
router.register("catalog/admin/services", AdminServiceViewSet, basename="catalog-admin-service")
router.register("catalog/admin/items", AdminItemViewSet, basename="catalog-admin-item")
