"""The invitation row is the e-mail's outbox: delivered once, retried with
backoff while the mail server refuses, never a 500 for the admin."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from servicedesk import services, tasks
from servicedesk.models import AuditEvent, Invitation, Role


@pytest.fixture
def admin_client(world, login):
    return login(world.user(Role.ADMIN))


@pytest.fixture
def refusing_mail_server(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(kwargs.get("recipient_list"))
        raise smtplib.SMTPRecipientsRefused({"x": (550, b"no")})

    monkeypatch.setattr(services, "send_mail", refuse)
    return calls


def invite(admin_client, world, email="new@example.org"):
    return admin_client.post(
        reverse("tenant_admin:members", args=[world.tenant.slug]),
        {"email": email, "role": "agent"},
    )


def owed(email):
    return Invitation.objects.unscoped().get(email=email)


def test_sent_once_and_marked(world, admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world)
    invitation = owed("new@example.org")
    assert invitation.email_sent_at is not None
    assert invitation.email_attempts == 1
    assert len(mail.outbox) == 1
    # A second delivery (a retried task, the sweeper) sends nothing more.
    assert services.invitation_deliver(invitation_id=invitation.pk) is False
    assert tasks.deliver_owed_invitations() == 0
    assert len(mail.outbox) == 1


def test_refused_mail_is_recorded_not_raised(
    world, admin_client, django_capture_on_commit_callbacks, refusing_mail_server
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, world)
    assert response.status_code == 302
    invitation = owed("new@example.org")
    assert invitation.email_sent_at is None
    assert invitation.email_attempts == 1
    assert invitation.email_error.startswith("SMTPRecipientsRefused")
    page = admin_client.get(reverse("tenant_admin:members", args=[world.tenant.slug]))
    assert b"not delivered" in page.content


def test_sweeper_retries_with_backoff_then_gives_up(world, refusing_mail_server):
    invitation = Invitation.objects.create(tenant=world.tenant, email="late@example.org")
    start = timezone.now()
    assert services.invitations_owed(now=start) == [invitation.pk]
    services.invitation_deliver(invitation_id=invitation.pk, now=start)
    # Next try after 2**1 minutes, then 2**2, ...
    assert services.invitations_owed(now=start + timedelta(minutes=1)) == []
    assert services.invitations_owed(now=start + timedelta(minutes=2)) == [invitation.pk]
    moment = start
    for attempt in range(1, services.INVITATION_EMAIL_ATTEMPTS):
        moment += timedelta(minutes=2**attempt)
        assert services.invitations_owed(now=moment) == [invitation.pk]
        services.invitation_deliver(invitation_id=invitation.pk, now=moment)
    invitation.refresh_from_db()
    assert invitation.email_attempts == services.INVITATION_EMAIL_ATTEMPTS
    assert services.invitations_owed(now=moment + timedelta(days=1)) == []
    assert len(refusing_mail_server) == services.INVITATION_EMAIL_ATTEMPTS


def test_sweeper_delivers_what_the_request_could_not(world, monkeypatch):
    invitation = Invitation.objects.create(tenant=world.tenant, email="queued@example.org")
    assert tasks.deliver_owed_invitations() == 1
    invitation.refresh_from_db()
    assert invitation.email_sent_at is not None
    assert mail.outbox[0].to == ["queued@example.org"]
    assert "http://testserver/invitations/" in mail.outbox[0].body


def test_withdrawn_or_expired_invitations_are_not_mailed(world):
    withdrawn = Invitation.objects.create(
        tenant=world.tenant, email="w@example.org", revoked_at=timezone.now()
    )
    expired = Invitation.objects.create(
        tenant=world.tenant, email="e@example.org", created_at=timezone.now() - timedelta(days=30)
    )
    assert withdrawn.pk not in services.invitations_owed()
    assert expired.pk not in services.invitations_owed()
    assert services.invitation_deliver(invitation_id=withdrawn.pk) is False
    assert services.invitation_deliver(invitation_id=expired.pk) is False
    assert mail.outbox == []


def test_send_again(world, admin_client, django_capture_on_commit_callbacks, monkeypatch):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world)
    invitation = owed("new@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("tenant_admin:invitation_resend", args=[world.tenant.slug, invitation.pk])
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.for_tenant(world.tenant).filter(action="invitation.resent").exists()


def test_send_again_refuses_an_expired_invitation(world, admin_client):
    invitation = Invitation.objects.create(
        tenant=world.tenant, email="old@example.org", created_at=timezone.now() - timedelta(days=8)
    )
    response = admin_client.post(
        reverse("tenant_admin:invitation_resend", args=[world.tenant.slug, invitation.pk]),
        follow=True,
    )
    assert b"invite the person again" in response.content
    assert mail.outbox == []


def test_a_broker_outage_leaves_the_invitation_owed(
    world, admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_invitation, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, world)
    assert response.status_code == 302
    assert services.invitations_owed() == [owed("new@example.org").pk]
