"""The catalog's API: the items the caller may order, with their forms, and
ordering one (``POST …/order/`` with ``{"answers": {"field_key": value}}``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from catalog import selectors, services
from catalog.models import CatalogItem
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


router = SimpleRouter()
router.register("catalog/items", CatalogItemViewSet, basename="catalog-item")
