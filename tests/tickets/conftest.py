"""Fixtures of the ticket tests: actors of every role in our tenant."""

from __future__ import annotations

import pytest

from servicedesk.models import Role
from tests.conftest import World
from tickets.services import Actor


@pytest.fixture
def actors(world: World) -> dict[str, Actor]:
    return {role: Actor.of(membership) for role, membership in world.members.items()}


@pytest.fixture
def agent(actors) -> Actor:
    return actors[Role.AGENT]


@pytest.fixture
def requester(actors) -> Actor:
    return actors[Role.REQUESTER]
