"""The API keeps the contract its OpenAPI schema states.

Schemathesis reads ``/api/schema/`` -- the app's own -- and, for every
operation it lists, generates requests from the schema and sends them
in-process (WSGI) as an admin, an agent and a requester of our tenant, each
with a token holding every scope. Each answer must be documented: its
status code, its content type, its body against the response schema, its
headers; and never a 5xx. A new route joins by being in the schema.

The ids in paths name real objects of our tenant (a ticket of the
requester's, the SLA calendar, policy and escalation), so the detail routes
are exercised past their 404. Every request runs in a savepoint that is
rolled back, so each example meets the same data whatever ran before it,
and Hypothesis is derandomized: a run in CI is the run on a laptop.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog import services as catalog
from kb import services as kb_services
from servicedesk.models import API_SCOPES, Role
from slo import services as sla
from tests.servicedesk.factories import ApiTokenFactory
from tickets.models import Level
from tickets.services import Actor, comment_add, notifications_muted, ticket_create

# Loaded while the module is collected, so that every operation is a test
# of its own (and pytest-xdist spreads them). Outside a test the test
# environment's hosts are not set up yet; the schema view needs none else.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CALLERS = [Role.ADMIN, Role.AGENT, Role.REQUESTER]


@pytest.fixture
def wsgi_in_test_transaction():
    """Requests through the WSGI handler keep the test's connection open.

    The handler closes "old" connections when a request starts and ends,
    and inside the test's transaction the connection looks old (autocommit
    off): Django's test client unhooks the same receivers for that reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def contract_world(world, settings, wsgi_in_test_transaction):
    """Our tenant with something for every route to reach: a ticket of the
    requester's with a reply, an unassigned one, and an SLA calendar,
    policy and escalation. Returns the path parameters and the tokens."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    admin = world.members[Role.ADMIN]
    agent = Actor.of(world.members[Role.AGENT])
    requester = world.user(Role.REQUESTER)
    calendar = sla.calendar_create(
        actor=admin,
        name="Office hours",
        timezone_name="Europe/Berlin",
        hours={day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        holidays=[],
    )
    policy = sla.policy_create(
        actor=admin, name="Standard", calendar=calendar, resolution_minutes=2400
    )
    escalation = sla.escalation_create(
        actor=admin, policy=policy, trigger="breach", action="notify_team_lead", team=world.team
    )
    with notifications_muted():
        ticket = ticket_create(
            actor=agent,
            kind="incident",
            title="Printer on fire",
            description="Smoke everywhere",
            impact=Level.HIGH,
            requester=requester,
            team=world.team,
            assignee=world.user(Role.AGENT),
            tags=["printer"],
        )
        comment_add(actor=agent, ticket=ticket, body="On our way")
        ticket_create(
            actor=Actor.of(world.members[Role.REQUESTER]),
            kind="request",
            title="A new mouse",
            description="",
        )
    service = catalog.service_create(tenant=world.tenant, name="Telephony")
    item = catalog.item_create(
        tenant=world.tenant,
        name="Desk phone",
        category="Hardware",
        short_description="A handset",
        service=service,
        status="published",
        form_schema=[{"key": "extension", "type": "number", "label": "Extension", "integer": True}],
    )
    with notifications_muted():
        catalog.order_place(
            membership=world.members[Role.REQUESTER], item=item, answers={"extension": 4711}
        )
    tokens = {
        role: ApiTokenFactory(
            tenant=world.tenant, user=world.user(role), scopes=list(API_SCOPES)
        ).secret
        for role in CALLERS
    }
    article = kb_services.article_create(
        actor=world.members[Role.AGENT],
        fields=kb_services.ArticleFields(title="Printer fires", body="Unplug it", tags=["printer"]),
    )
    path_values = {
        "article_id": article.pk,
        "number": ticket.key,
        "calendar_id": calendar.pk,
        "policy_id": policy.pk,
        "escalation_id": escalation.pk,
        "item_id": item.pk,
        "service_id": service.pk,
    }
    return path_values, tokens


@pytest.mark.parametrize("role", CALLERS)
@schema.parametrize()
@settings(
    max_examples=4,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case, role, contract_world):
    path_values, tokens = contract_world
    if case.path_parameters and zlib.crc32(repr(case.path_parameters).encode()) % 3:
        # Two examples in three name the real object; the rest keep what
        # was generated (a 404, or a 400 for an id no key can be).
        case.path_parameters = {
            name: path_values.get(name, value) for name, value in case.path_parameters.items()
        }
    # Failed tokens are counted per address in the cache; no case may
    # inherit another's count.
    cache.clear()
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS)
        transaction.set_rollback(True)


def _operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, its query parameters) of every operation in the schema."""
    return [
        (method.upper(), path, [p["name"] for p in op.get("parameters", []) if p["in"] == "query"])
        for path, item in schema.raw_schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize(("method", "path", "documented"), _operations(), ids=lambda v: str(v))
def test_an_operation_takes_the_query_parameters_it_documents_and_no_other(
    client, contract_world, method, path, documented
):
    path_values, tokens = contract_world
    url = path.format(**path_values)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tokens[Role.ADMIN]}"}

    def refused_as_unknown(name: str) -> bool:
        with transaction.atomic():
            response = client.generic(method, f"{url}?{name}=1", **headers)
            transaction.set_rollback(True)
        messages = response.json().get(name, []) if response.status_code == 400 else []
        return any("Unknown query parameter" in str(m) for m in messages)

    assert refused_as_unknown("not_a_parameter"), f"{method} {path} took an unknown parameter"
    for name in documented:
        assert not refused_as_unknown(name), f"{method} {path} refused its own {name}"
