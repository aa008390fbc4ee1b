"""Links that leave the system name the configured SITE_URL, never the
request's Host header; SITE_URL itself is checked at start-up."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from servicedesk import settings as project_settings
from servicedesk.links import absolute_reverse, absolute_url
from servicedesk.models import Role
from tests.processes import child_env, manage
from tests.servicedesk.factories import ApiTokenFactory
from tests.tickets.factories import TicketFactory
from tickets.services import Actor, ticket_create

SITE = "https://desk.example.com"
# ALLOWED_HOSTS ignores the port: this Host header passes it.
OTHER_PORT = "testserver:8666"


@pytest.fixture
def site(settings):
    settings.SITE_URL = SITE
    return SITE


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def test_the_password_reset_link_names_the_site_not_the_host_header(
    world, site, django_capture_on_commit_callbacks
):
    client = Client(HTTP_HOST=OTHER_PORT)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": world.user(Role.AGENT).email})
    assert response.status_code == 302
    (link,) = links_in(mail.outbox[0])
    assert link.startswith(f"{SITE}/"), link
    assert "8666" not in mail.outbox[0].body
    assert "testserver" not in mail.outbox[0].body


def test_the_reset_link_takes_scheme_and_port_from_the_site(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://desk.example.com:8443"
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(reverse("password_reset"), {"email": world.user(Role.AGENT).email})
    (link,) = links_in(mail.outbox[0])
    assert link.startswith("https://desk.example.com:8443/")


def test_the_reset_link_still_works(world, django_capture_on_commit_callbacks):
    # SITE_URL is http://testserver in the suite: the link opens here.
    client = Client(HTTP_HOST=OTHER_PORT)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": world.user(Role.AGENT).email})
    (link,) = links_in(mail.outbox[0])
    assert link.startswith("http://testserver/")
    page = Client().get(link.removeprefix("http://testserver"), follow=True)
    assert b"Set a new password" in page.content


def test_the_invitation_link_names_the_site(world, site, login, django_capture_on_commit_callbacks):
    client = login(world.user(Role.ADMIN))
    client.defaults["HTTP_HOST"] = OTHER_PORT
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tenant_admin:members", args=[world.tenant.slug]),
            {"email": "new@example.org", "role": "agent"},
        )
    assert response.status_code == 302
    (link,) = links_in(mail.outbox[-1])
    assert link.startswith(f"{SITE}/invitations/")


def test_ticket_mails_name_the_site(world, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(
            actor=Actor.of(world.members[Role.AGENT]),
            kind="incident",
            title="Printer",
            requester=world.user(Role.REQUESTER),
            assignee=world.user(Role.LEAD),
        )
    assert mail.outbox
    for message in mail.outbox:
        assert links_in(message), message.body
        assert all(link.startswith(f"{SITE}/t/{world.tenant.slug}/") for link in links_in(message))


def test_the_apis_page_links_name_the_site(world, site):
    token = ApiTokenFactory(
        tenant=world.tenant, user=world.user(Role.AGENT), scopes=["tickets:read"]
    )
    for _ in range(3):
        TicketFactory(tenant=world.tenant)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}", HTTP_HOST=OTHER_PORT)
    first = client.get("/api/v1/tickets/", {"page_size": 1}).json()
    assert first["next"].startswith(f"{SITE}/api/v1/tickets/?"), first["next"]
    second = client.get(first["next"].removeprefix(SITE)).json()
    assert second["previous"].startswith(f"{SITE}/api/v1/tickets/?")
    assert second["results"] != first["results"]


def test_absolute_links_are_the_site_plus_a_path(site):
    assert absolute_url("/t/ours/") == f"{SITE}/t/ours/"
    assert absolute_reverse("login") == f"{SITE}{reverse('login')}"
    for bad in ("t/ours/", "//evil.example/", "https://evil.example/"):
        with pytest.raises(ValueError, match="absolute path"):
            absolute_url(bad)


# --- the setting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://desk.example.com", "https://desk.example.com"),
        ("https://Desk.Example.COM/", "https://desk.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("HTTPS://desk.example.com:8443", "https://desk.example.com:8443"),
    ],
)
def test_a_site_url_is_an_origin(raw, expected):
    assert project_settings.site_url("SITE_URL", raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "desk.example.com",
        "ftp://desk.example.com",
        "javascript:alert(1)",
        "https://",
        "https://desk.example.com/desk",
        "https://desk.example.com//",
        "https://desk.example.com/?next=x",
        "https://desk.example.com?",
        "https://desk.example.com#top",
        "https://admin:secret@desk.example.com",
        "https://evil.example@desk.example.com",
        "https://desk.example.com:99999",
        "https://desk.example.com:0",
        "https://desk.example.com:port",
        "https://desk example.com",
        " https://desk.example.com",
        "https://desk.example.com\n",
        "https://desk.exa\tmple.com",
        "https://desk_example.com",
        "https://-desk.example.com",
        "https://desk..example.com",
    ],
)
def test_anything_else_is_refused(raw):
    with pytest.raises(ImproperlyConfigured, match="SITE_URL must look like"):
        project_settings.site_url("SITE_URL", raw)


def test_start_up_refuses_a_bad_site_url():
    result = manage("check", env=child_env(SITE_URL="https://desk.example.com/desk/"), check=False)
    assert result.returncode != 0
    assert "SITE_URL must look like" in result.stderr
