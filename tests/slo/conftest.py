"""Fixtures of the SLA tests: actors of our tenant, a business calendar and
policies shaped like a real desk's."""

from __future__ import annotations

from datetime import datetime

import pytest

from servicedesk.models import Role
from slo import services as sla
from slo.models import Calendar, Policy
from tests.conftest import World
from tickets.services import Actor

WEEKDAYS_9_TO_5 = {
    "mon": [["09:00", "17:00"]],
    "tue": [["09:00", "17:00"]],
    "wed": [["09:00", "17:00"]],
    "thu": [["09:00", "17:00"]],
    "fri": [["09:00", "17:00"]],
    "sat": [],
    "sun": [],
}


@pytest.fixture
def admin(world: World):
    return world.members[Role.ADMIN]


@pytest.fixture
def agent(world: World) -> Actor:
    return Actor.of(world.members[Role.AGENT])


@pytest.fixture
def requester(world: World) -> Actor:
    return Actor.of(world.members[Role.REQUESTER])


@pytest.fixture
def office_hours(admin) -> Calendar:
    return sla.calendar_create(
        actor=admin,
        name="Berlin office",
        timezone_name="Europe/Berlin",
        hours=WEEKDAYS_9_TO_5,
        holidays=[{"date": "2026-12-25", "recurring": True, "name": "Christmas Day"}],
    )


@pytest.fixture
def business_policy(admin, office_hours) -> Policy:
    """P3–P5 incidents and requests: 8 business hours to respond, 5 business
    days to resolve, a next response within 4 business hours."""
    return sla.policy_create(
        actor=admin,
        name="Standard",
        priorities=[3, 4, 5],
        calendar=office_hours,
        first_response_minutes=8 * 60,
        next_response_minutes=4 * 60,
        resolution_minutes=5 * 8 * 60,
    )


@pytest.fixture
def urgent_policy(admin) -> Policy:
    """P1–P2 on the built-in 24×7 calendar."""
    return sla.policy_create(
        actor=admin,
        name="Urgent",
        priorities=[1, 2],
        first_response_minutes=15,
        resolution_minutes=4 * 60,
    )


def berlin(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))  # type: ignore[misc]
