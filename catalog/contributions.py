"""What the catalog adds to the ticket pages and the ticket API: the order
behind a request, with its answers as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import presenters, selectors
from servicedesk.models import Membership
from tickets import api as tickets_api
from tickets import extensions
from tickets.models import Ticket, TicketKind


def _panel(request: extensions.PanelRequest) -> dict[str, Any] | None:
    if request.ticket.kind != TicketKind.REQUEST:
        return None  # only requests are ordered: no query for the others
    order = selectors.orders_by_ticket(request.ticket.tenant_id, [request.ticket.pk]).get(
        request.ticket.pk
    )
    if order is None:
        return None
    return {"view": presenters.order_view(order)}


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the answer's field label
    value = serializers.CharField(help_text="The answer as the form shows it.")
    raw = serializers.JSONField(help_text="The answer as stored, typed by its field.")


class OrderSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="order.item_id")
    item_name = serializers.CharField(source="order.item.name")
    schema_version = serializers.IntegerField(source="order.schema_version")
    answers = serializers.SerializerMethodField()

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, view: presenters.OrderView) -> list[dict[str, Any]]:
        answers = view.order.answers
        return [
            {"key": r.key, "label": r.label, "value": r.value, "raw": answers.get(r.key)}
            for r in view.rows
        ]

    class Meta:
        ref_name = "CatalogOrderAnswers"


class CatalogOrderField(serializers.Field):
    """The catalog order behind a request, or null for any other ticket."""

    def __init__(self) -> None:
        super().__init__(
            read_only=True,
            allow_null=True,
            help_text="The catalog order this request came from, with its answers; null otherwise.",
        )

    def to_representation(self, value: presenters.OrderView | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return dict(OrderSerializer(value, context=self.context).data)


extend_schema_field(OrderSerializer(allow_null=True))(CatalogOrderField)


def _order_field() -> serializers.Field:
    return CatalogOrderField()


def _load_orders(
    membership: Membership, tickets: Sequence[Ticket], now: datetime
) -> Mapping[int, presenters.OrderView]:
    requests = [t.pk for t in tickets if t.kind == TicketKind.REQUEST]
    orders = selectors.orders_by_ticket(membership.tenant_id, requests)
    return presenters.order_views(membership.tenant_id, list(orders.values()))


def register() -> None:
    extensions.portal_actions.register(
        extensions.PortalAction(
            name="catalog", order=10, label="Order something", url_name="catalog:portal_catalog"
        )
    )
    for panels in (extensions.desk_panels, extensions.portal_panels):
        panels.register(
            extensions.TicketPanel(
                name="catalog_order",
                order=5,
                template="catalog/_partials/order_answers.html",
                context=_panel,
            )
        )
    tickets_api.ticket_api_fields.register(
        tickets_api.TicketApiField(
            name="catalog_order",
            order=20,
            field=_order_field,
            load=_load_orders,
            for_requesters=True,
        )
    )
