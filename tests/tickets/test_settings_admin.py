"""Ticket settings in the tenant admin area: the matrix, the reopen window, categories."""

from __future__ import annotations

import pytest

from servicedesk.models import AuditEvent, Role
from tests.tickets.factories import TicketFactory
from tickets import selectors, services
from tickets.models import Category, TicketSettings

pytestmark = pytest.mark.django_db


def matrix_post(value: int = 2, window: int = 14, **overrides) -> dict[str, object]:
    data: dict[str, object] = {f"impact{i}_urgency{u}": value for i in (1, 2, 3) for u in (1, 2, 3)}
    data["reopen_window_days"] = window
    data.update(overrides)
    return data


def url(world) -> str:
    return f"/t/{world.tenant.slug}/admin/tickets/"


def test_the_page_shows_the_default_matrix(world, login):
    response = login(world.user(Role.ADMIN)).get(url(world))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["impact1_urgency1"] == 1
    assert form.initial["impact3_urgency3"] == 5
    assert form.initial["reopen_window_days"] == 7


def test_saving_changes_new_tickets_and_is_audited(world, login, requester):
    response = login(world.user(Role.ADMIN)).post(url(world), matrix_post(value=2, window=14))
    assert response.status_code == 302
    settings = TicketSettings.objects.for_tenant(world.tenant).get()
    assert settings.reopen_window_days == 14
    ticket = services.ticket_create(actor=requester, kind="incident", title="x")
    assert ticket.priority == 2
    event = AuditEvent.objects.for_tenant(world.tenant).get(action="tickets.settings_changed")
    assert event.data["priority_matrix"] == "2 2 2 / 2 2 2 / 2 2 2"


@pytest.mark.parametrize(
    "overrides",
    [
        {"impact1_urgency1": 9},
        {"impact2_urgency3": "x"},
        {"reopen_window_days": -1},
        {"reopen_window_days": 400},
        {"reopen_window_days": ""},
    ],
)
def test_bad_values_are_form_errors_and_change_nothing(world, login, overrides):
    response = login(world.user(Role.ADMIN)).post(url(world), matrix_post(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not TicketSettings.objects.for_tenant(world.tenant).exists()


def test_categories(world, login):
    client = login(world.user(Role.ADMIN))
    assert client.post(url(world), {"name": " Network "}).status_code == 302
    duplicate = client.post(url(world), {"name": "network"})
    assert duplicate.status_code == 400
    category = Category.objects.for_tenant(world.tenant).get()
    assert category.name == "Network"
    ticket = TicketFactory(tenant=world.tenant, category=category)
    listed = selectors.category_list(tenant=world.tenant, with_counts=True).get()
    assert listed.ticket_count == 1
    response = client.post(f"{url(world)}categories/{category.pk}/delete/")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.category is None
    assert not Category.objects.for_tenant(world.tenant).exists()


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.LEAD])
def test_only_admins(world, login, role):
    client = login(world.user(role))
    assert client.get(url(world)).status_code == 403
    assert client.post(url(world), matrix_post()).status_code == 403
    assert not TicketSettings.objects.for_tenant(world.tenant).exists()
