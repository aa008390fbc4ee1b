"""The SLA's part of a ticket's JSON: ``sla``, the ticket's clocks, added
to the tickets API through ``tickets.api.ticket_api_fields``.

Agents, leads and admins get the clocks; a requester's ticket has no
``sla`` at all (the field is not ``for_requesters``): due times, business
seconds left and breaches are how the desk steers its work, not a promise
the portal makes, and the portal does not show them either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from servicedesk.api_defaults import UtcDateTimeField
from servicedesk.models import Membership
from slo import selectors as sla_selectors
from slo.models import ClockState
from slo.selectors import ClockView
from tickets.api import TicketApiField, ticket_api_fields
from tickets.models import Ticket


class SlaPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SlaClockSerializer(serializers.Serializer):
    """One SLA target of a ticket (a ``slo.selectors.ClockView``) as of the
    request. Business seconds count on the policy's calendar; a clock that
    passed its due time reads breached even before the sweeper marks it."""

    state = serializers.ChoiceField(choices=ClockState.choices)
    due_at = serializers.SerializerMethodField(
        help_text="When the target falls due, in UTC; null while the clock is paused."
    )
    remaining_business_seconds = serializers.IntegerField(
        help_text="Business time left; negative once breached."
    )
    goal_business_seconds = serializers.SerializerMethodField()
    warned_at = UtcDateTimeField(allow_null=True)
    breached_at = UtcDateTimeField(allow_null=True)
    stopped_at = UtcDateTimeField(allow_null=True, help_text="When it was met or cancelled.")
    paused_seconds = serializers.SerializerMethodField(
        help_text="Wall-clock time spent paused, a pause still going on included."
    )
    policy = serializers.SerializerMethodField()

    @extend_schema_field(UtcDateTimeField(allow_null=True))
    def get_due_at(self, view: ClockView) -> str | None:
        if view.state == ClockState.PAUSED or view.due_at is None:
            return None
        return UtcDateTimeField().to_representation(view.due_at)

    def get_goal_business_seconds(self, view: ClockView) -> int:
        return int(view.goal.total_seconds())

    def get_paused_seconds(self, view: ClockView) -> int:
        paused = view.paused_total
        if view.clock.paused_at is not None:
            now = cast(datetime, self.context.get("now") or timezone.now())
            paused += max(now - view.clock.paused_at, timedelta(0))
        return int(paused.total_seconds())

    @extend_schema_field(SlaPolicySerializer(allow_null=True))
    def get_policy(self, view: ClockView) -> dict[str, Any] | None:
        if view.clock.policy_id is None:
            return None
        return {"id": view.clock.policy_id, "name": view.policy_name}


class TicketSlaSerializer(serializers.Serializer):
    """The ticket's SLA targets that have a clock; the others are absent."""

    first_response = SlaClockSerializer(required=False)
    next_response = SlaClockSerializer(required=False)
    resolution = SlaClockSerializer(required=False)


class TicketSlaField(serializers.Field):
    """A ticket's clocks (``ClockView`` list) by target."""

    def __init__(self) -> None:
        super().__init__(read_only=True, allow_null=True)

    def to_representation(self, value: list[ClockView] | None) -> dict[str, Any]:
        return {
            view.target: SlaClockSerializer(view, context=self.context).data for view in value or []
        }


# The schema of ``sla``: the clocks by target, or null for a requester.
extend_schema_field(TicketSlaSerializer(allow_null=True))(TicketSlaField)


def load_clocks(
    membership: Membership, tickets: Sequence[Ticket], now: datetime
) -> dict[int, list[ClockView]] | None:
    """The page's clocks in one query, whatever its size; none for requesters
    (their shape has no ``sla``; this is the second wall)."""
    if not membership.is_agent:
        return None
    return sla_selectors.clocks_by_ticket(
        tenant=membership.tenant_id, ticket_ids=[t.pk for t in tickets], now=now
    )


def register() -> None:
    ticket_api_fields.register(
        TicketApiField(name="sla", order=10, field=TicketSlaField, load=load_clocks)
    )
