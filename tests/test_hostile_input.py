"""Hostile input at every entry point of the foundation: never a 500, never
a partial write, and whatever is stored is rendered inert."""

from __future__ import annotations

import pytest
from django.urls import reverse

from servicedesk.models import AuditEvent, Invitation, Membership, Role, Team

HUGE_ID = "9" * 30
SCRIPT = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def snapshot(world):
    tenant = world.tenant
    return (
        Team.objects.for_tenant(tenant).count(),
        Invitation.objects.for_tenant(tenant).count(),
        tuple(
            Membership.objects.for_tenant(tenant).order_by("pk").values_list("role", "is_active")
        ),
        AuditEvent.objects.for_tenant(tenant).count(),
    )


@pytest.mark.parametrize(
    ("name", "path", "data"),
    [
        ("nul in team name", "tenant_admin:teams", {"name": "a\x00b"}),
        ("team name too long", "tenant_admin:teams", {"name": "n" * 10_000}),
        ("team slug not a slug", "tenant_admin:teams", {"name": "ok", "slug": "../../etc"}),
        ("nul in e-mail", "tenant_admin:members", {"email": "a\x00@b.example", "role": "agent"}),
        (
            "header injection in e-mail",
            "tenant_admin:members",
            {"email": "a@b.example\r\nBcc: all@b.example", "role": "agent"},
        ),
        (
            "e-mail too long",
            "tenant_admin:members",
            {"email": "a" * 300 + "@b.example", "role": "agent"},
        ),
    ],
)
def test_hostile_form_posts_are_form_errors(world, login, name, path, data):
    client = login(world.user(Role.ADMIN))
    before = snapshot(world)
    response = client.post(reverse(path, args=[world.tenant.slug]), data)
    assert response.status_code == 400, name
    assert b"errorlist" in response.content
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "url",
    [
        f"/t/ours/admin/members/{HUGE_ID}/",
        f"/t/ours/admin/members/{HUGE_ID}/active/",
        f"/t/ours/admin/invitations/{HUGE_ID}/revoke/",
        "/t/ours/admin/teams/" + "x" * 5000 + "/",
        "/t/" + "y" * 5000 + "/portal/",
        "/invitations/" + "z" * 5000 + "/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_absurd_keys_in_urls_are_not_found(world, login, url, method):
    response = getattr(login(world.user(Role.ADMIN)), method)(url)
    assert response.status_code in (404, 405, 410)


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "user": HUGE_ID},
        {"action": "add", "user": "-1"},
        {"action": "add", "user": "1 OR 1=1"},
        {"action": "lead", "lead": "[]"},
        {"action": "\x00"},
    ],
)
def test_hostile_team_member_posts(world, login, data):
    client = login(world.user(Role.ADMIN))
    before = set(world.team.members.values_list("pk", flat=True))
    response = client.post(
        reverse("tenant_admin:team_members", args=[world.tenant.slug, world.team.slug]),
        data,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert set(world.team.members.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    "query", [{"q": "a\x00b"}, {"q": "%' OR 1=1 --"}, {"page": HUGE_ID}, {"role": SCRIPT}]
)
def test_hostile_member_filters(world, login, query):
    response = login(world.user(Role.ADMIN)).get(
        reverse("tenant_admin:members", args=[world.tenant.slug]), query
    )
    assert response.status_code == 200
    assert b"<script>alert(1)" not in response.content


def test_markup_in_names_is_rendered_inert(world, login):
    client = login(world.user(Role.ADMIN))
    client.post(
        reverse("tenant_admin:teams", args=[world.tenant.slug]),
        {"name": SCRIPT[:100], "slug": "xss"},
    )
    agent = world.user(Role.AGENT)
    agent.full_name = SCRIPT[:150]
    agent.save()
    for url in (
        reverse("tenant_admin:teams", args=[world.tenant.slug]),
        reverse("tenant_admin:team", args=[world.tenant.slug, "xss"]),
        reverse("tenant_admin:members", args=[world.tenant.slug]),
        reverse("tenant_admin:overview", args=[world.tenant.slug]),
        reverse("desk", args=[world.tenant.slug]),
    ):
        body = client.get(url).content
        assert b"<script>alert(1)" not in body, url
        assert b"onerror=" not in body.replace(b"onerror=&quot;", b""), url
        assert b"&lt;script&gt;" in body, url


def test_oversized_body_is_refused(world, login, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = login(world.user(Role.ADMIN))
    response = client.post(
        reverse("tenant_admin:teams", args=[world.tenant.slug]),
        {"name": "n", "description": "d" * 20_000},
    )
    assert response.status_code == 400
    assert not Team.objects.for_tenant(world.tenant).filter(name="n").exists()
