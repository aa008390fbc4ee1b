"""Downloading a ticket's files: who may, and how the browser is told to
treat what people uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory
from tickets import services
from tickets.models import Attachment, Ticket
from tickets.services import Actor

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def ticket(requester) -> Ticket:
    return services.ticket_create(actor=requester, kind="incident", title="Screen flickers")


def download_url(ticket: Ticket, attachment: Attachment, slug: str = "ours") -> str:
    return reverse("tickets:attachment", args=[slug, ticket.key, attachment.pk])


def attach(actor: Actor, ticket: Ticket, name: str, data: bytes, **kw) -> Attachment:
    return services.attachment_add(actor=actor, ticket=ticket, upload=ContentFile(data, name), **kw)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_requester_downloads_with_safe_headers(world, login, requester, ticket):
    attachment = attach(requester, ticket, "screen.png", PNG)
    response = login(requester.user).get(download_url(ticket, attachment))
    assert response.status_code == 200
    assert body_of(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="screen.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Length"] == str(len(PNG))


def test_the_type_is_sniffed_never_claimed(world, login, requester, ticket):
    upload = ContentFile(b"<html><body><script>alert(document.cookie)</script></body></html>",
                         "cat.png")  # fmt: skip
    upload.content_type = "image/png"  # type: ignore[attr-defined]  # the browser's claim
    attachment = services.attachment_add(actor=requester, ticket=ticket, upload=upload)
    response = login(requester.user).get(download_url(ticket, attachment))
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_binary_junk_is_an_octet_stream(world, login, requester, ticket):
    attachment = attach(requester, ticket, "blob.svg", b"\xff\xfe\x00\x81" * 100)
    response = login(requester.user).get(download_url(ticket, attachment))
    assert response["Content-Type"] == "application/octet-stream"


def test_names_outside_ascii_are_encoded_for_the_header(world, login, requester, ticket):
    attachment = attach(requester, ticket, 'Bericht "März" ✓.txt', b"text")
    response = login(requester.user).get(download_url(ticket, attachment))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert "\n" not in disposition
    assert "%E2%9C%93" in disposition


def test_internal_files_are_for_agents_only(world, login, agent, requester, ticket):
    services.comment_add(actor=agent, ticket=ticket, body="logs", is_internal=True,
                         files=[ContentFile(b"secret", "server.log")])  # fmt: skip
    attachment = Attachment.objects.for_tenant(world.tenant).get(is_internal=True)
    url = download_url(ticket, attachment)
    assert login(requester.user).get(url).status_code == 404
    for role in (Role.AGENT, Role.LEAD, Role.ADMIN):
        response = login(world.user(role)).get(url)
        assert response.status_code == 200, role
        assert body_of(response) == b"secret"


def test_strangers_get_the_same_not_found(world, foreign, login, requester, ticket):
    attachment = attach(requester, ticket, "screen.png", PNG)
    url = download_url(ticket, attachment)
    colleague = MembershipFactory(tenant=world.tenant, role=Role.REQUESTER).user
    assert login(colleague).get(url).status_code == 404
    assert login(foreign.user(Role.ADMIN)).get(url).status_code == 404
    # Our tenant's file, asked for under the foreign tenant's address.
    foreign_admin = login(foreign.user(Role.ADMIN))
    assert foreign_admin.get(download_url(ticket, attachment, slug="theirs")).status_code == 404
    anonymous = login(None).get(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_a_file_is_found_only_under_its_own_ticket(world, foreign, login, requester, ticket):
    other = services.ticket_create(actor=requester, kind="incident", title="Other")
    attachment = attach(requester, other, "other.txt", b"other")
    me = login(requester.user)
    assert me.get(download_url(ticket, attachment)).status_code == 404
    assert me.get(download_url(other, attachment)).status_code == 200
    theirs = services.ticket_create(actor=Actor.of(foreign.members[Role.REQUESTER]),
                                    kind="incident", title="Theirs")  # fmt: skip
    foreign_file = attach(Actor.of(foreign.members[Role.REQUESTER]), theirs, "x.txt", b"x")
    # A foreign file id never resolves here, under our key or theirs.
    assert me.get(download_url(theirs, foreign_file)).status_code == 404
    assert me.get(download_url(ticket, foreign_file)).status_code == 404
    admin = login(world.user(Role.ADMIN))
    assert admin.get(download_url(ticket, foreign_file)).status_code == 404
    missing = reverse("tickets:attachment", args=["ours", ticket.key, 999_999_999])
    assert me.get(missing).status_code == 404


def test_a_file_gone_from_disk_is_not_found_not_an_error(world, login, requester, ticket):
    attachment = attach(requester, ticket, "gone.txt", b"soon gone")
    attachment.file.storage.delete(attachment.file.name)
    assert login(requester.user).get(download_url(ticket, attachment)).status_code == 404


def test_downloads_change_nothing_and_refuse_posts(world, login, requester, ticket):
    attachment = attach(requester, ticket, "a.txt", b"a")
    me = login(requester.user)
    assert me.post(download_url(ticket, attachment)).status_code == 405
    assert me.head(download_url(ticket, attachment)).status_code == 200
