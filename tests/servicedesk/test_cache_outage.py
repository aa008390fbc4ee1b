"""A cache outage (Redis down) slows what the cache speeds up and stops
nothing: pages still render their markdown, and API tokens still work,
unthrottled, until it is back."""

from __future__ import annotations

import json

import pytest
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.test import Client

from servicedesk.markup import render_markdown
from servicedesk.models import Role
from tests.servicedesk.factories import ApiTokenFactory

pytestmark = pytest.mark.django_db


class DownCache(BaseCache):
    """A cache whose server does not answer, as Django's Redis backend
    behaves then: every call raises."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)

    def _down(self, *args: object, **kwargs: object) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = delete = incr = get_many = set_many = clear = touch = has_key = _down


@pytest.fixture
def cache_down(settings):
    # Django drops its cache connections when the setting changes.
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.DownCache"}}
    with pytest.raises(ConnectionError):
        caches["default"].get("anything")


def test_markdown_renders_without_its_cache(cache_down):
    assert str(render_markdown("**bold** and `code`")) == (
        "<p><strong>bold</strong> and <code>code</code></p>\n"
    )


def test_api_tokens_work_without_the_throttles_cache(world, cache_down):
    token = ApiTokenFactory(
        tenant=world.tenant, user=world.user(Role.AGENT), scopes=["tickets:read", "tickets:write"]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    created = client.post(
        "/api/v1/tickets/",
        json.dumps(
            {
                "kind": "incident",
                "title": "Redis is down",
                "requester": world.user(Role.REQUESTER).email,
            }
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    wrong = Client(HTTP_AUTHORIZATION="Bearer sd_not-a-token").get("/api/v1/tickets/")
    assert wrong.status_code == 401
