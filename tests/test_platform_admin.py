"""Django admin: the platform operators' cross-tenant tool."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.models import Role
from tests.servicedesk.factories import UserFactory

MODELS = ["user", "tenant", "membership", "team", "invitation", "auditevent"]


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.ADMIN])
def test_tenant_members_are_not_let_in(world, login, role):
    response = login(world.user(role)).get(reverse("admin:servicedesk_membership_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", MODELS)
def test_operator_sees_every_tenant(world, foreign, login, model):
    operator = UserFactory(email="ops@platform.test", is_staff=True, is_superuser=True)
    client = login(operator)
    response = client.get(reverse(f"admin:servicedesk_{model}_changelist"))
    assert response.status_code == 200
    if model in {"membership", "team", "invitation"}:
        assert world.tenant.name.encode() in response.content
        assert foreign.tenant.name.encode() in response.content


def test_operator_opens_a_tenant_owned_object(world, login):
    operator = UserFactory(email="ops@platform.test", is_staff=True, is_superuser=True)
    url = reverse("admin:servicedesk_team_change", args=[world.team.pk])
    assert login(operator).get(url).status_code == 200


@pytest.mark.parametrize("model", ["calendar", "policy", "clock", "escalationrun"])
def test_operator_reads_sla_records_of_every_tenant_and_changes_none(foreign, login, model):
    operator = UserFactory(email="ops@platform.test", is_staff=True, is_superuser=True)
    client = login(operator)
    response = client.get(reverse(f"admin:slo_{model}_changelist"))
    assert response.status_code == 200
    if model in {"calendar", "policy", "clock"}:
        assert foreign.tenant.name.encode() in response.content
    assert client.get(reverse(f"admin:slo_{model}_add")).status_code == 403
