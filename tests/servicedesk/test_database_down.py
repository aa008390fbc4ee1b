"""A database that cannot be reached (a restart, a failover) answers 503
with ``Retry-After``, wherever in the request it is found: the sender is
told to try again, not that the server broke."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from servicedesk.models import Role
from tests.servicedesk.factories import ApiTokenFactory
from tickets import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_gone(monkeypatch):
    def gone(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    monkeypatch.setattr(selectors, "visible_tickets", gone)


def test_the_api_answers_503_json_to_try_again(world, database_gone):
    token = ApiTokenFactory(
        tenant=world.tenant, user=world.user(Role.AGENT), scopes=["tickets:read"]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}", raise_request_exception=False)
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The database is unavailable; try again shortly.",
        "code": "unavailable",
    }


def test_a_page_answers_503_to_try_again(world, login, database_gone):
    client = login(world.user(Role.AGENT))
    client.raise_request_exception = False
    response = client.get(f"/t/{world.tenant.slug}/desk/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again in a few seconds" in response.content.decode()


def test_any_other_failure_is_still_a_500(world, login, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "visible_tickets", broken)
    client = login(world.user(Role.AGENT))
    client.raise_request_exception = False
    response = client.get(f"/t/{world.tenant.slug}/desk/")
    assert response.status_code == 500
    assert "Retry-After" not in response
