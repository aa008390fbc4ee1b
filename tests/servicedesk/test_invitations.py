"""Invite by e-mail with a signed, expiring, single-use link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from servicedesk import services
from servicedesk.models import AuditEvent, Invitation, Membership, Role
from tests.servicedesk.factories import PASSWORD, UserFactory


def invite(client, world, email, role="agent", capture=None):
    url = reverse("tenant_admin:members", args=[world.tenant.slug])
    return client.post(url, {"email": email, "role": role})


def link_from_mail() -> str:
    match = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0).split("testserver", 1)[1]


@pytest.fixture
def admin_client(world, login):
    return login(world.user(Role.ADMIN))


def test_new_person_accepts_and_lands_in_the_desk(
    world, admin_client, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin_client, world, "New.Person@Example.org", role="agent")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.org"]
    assert world.tenant.name in mail.outbox[0].subject
    link = link_from_mail()

    page = client.get(link)
    assert page.status_code == 200
    assert b"Create your account" in page.content

    bad = client.post(link, {"full_name": "New", "password1": "short", "password2": "short"})
    assert bad.status_code == 400
    assert b"too short" in bad.content
    assert (
        not Membership.objects.for_tenant(world.tenant)
        .filter(user__email="new.person@example.org")
        .exists()
    )

    done = client.post(
        link,
        {"full_name": "New Person", "password1": "a-long-pass-42", "password2": "a-long-pass-42"},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("desk", args=[world.tenant.slug])
    membership = Membership.objects.for_tenant(world.tenant).get(
        user__email="new.person@example.org"
    )
    assert membership.role == Role.AGENT
    assert client.get(reverse("desk", args=[world.tenant.slug])).status_code == 200
    actions = set(AuditEvent.objects.for_tenant(world.tenant).values_list("action", flat=True))
    assert {"invitation.created", "invitation.accepted"} <= actions


def test_reused_link_is_refused(world, admin_client, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "once@example.org")
    link = link_from_mail()
    client.post(
        link, {"full_name": "Once", "password1": "a-long-pass-42", "password2": "a-long-pass-42"}
    )
    client.logout()
    again = client.get(link)
    assert again.status_code == 410
    assert b"already been used" in again.content
    again_post = client.post(
        link, {"full_name": "Twice", "password1": "a-long-pass-42", "password2": "a-long-pass-42"}
    )
    assert again_post.status_code == 410
    assert (
        Membership.objects.for_tenant(world.tenant).filter(user__email="once@example.org").count()
        == 1
    )


def test_expired_link_is_refused(
    world, admin_client, client, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "late@example.org")
    link = link_from_mail()
    Invitation.objects.for_tenant(world.tenant).filter(email="late@example.org").update(
        created_at=timezone.now() - timedelta(days=8)
    )
    response = client.get(link)
    assert response.status_code == 410
    assert b"expired" in response.content


def test_expired_signature_is_refused(world, client, settings):
    invitation = Invitation.objects.create(tenant=world.tenant, email="x@example.org", role="agent")
    token = services.invitation_token(invitation)
    settings.INVITATION_MAX_AGE = timedelta(seconds=-1)
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 410
    assert b"expired" in response.content


@pytest.mark.parametrize("token", ["garbage", "eyJpIjoxfQ:1abc:bad", "a" * 300])
def test_forged_token_is_refused(db, client, token):
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 410
    assert b"not valid" in response.content


def test_new_invitation_replaces_the_pending_one(
    world, admin_client, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "twice@example.org")
    first = link_from_mail()
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "twice@example.org", role="lead")
    second = link_from_mail()
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_revoked_link_is_refused(world, admin_client, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "gone@example.org")
    link = link_from_mail()
    invitation = Invitation.objects.for_tenant(world.tenant).get(email="gone@example.org")
    response = admin_client.post(
        reverse("tenant_admin:invitation_revoke", args=[world.tenant.slug, invitation.pk])
    )
    assert response.status_code == 302
    assert b"withdrawn" in client.get(link).content


def test_existing_account_signs_in_then_accepts(
    world, foreign, admin_client, client, django_capture_on_commit_callbacks
):
    person = foreign.user(Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, person.email, role="requester")
    link = link_from_mail()
    page = client.get(link)
    assert b"Sign in to accept" in page.content
    # Posting without signing in creates nothing.
    client.post(
        link, {"full_name": "X", "password1": "a-long-pass-42", "password2": "a-long-pass-42"}
    )
    assert not Membership.objects.for_tenant(world.tenant).filter(user=person).exists()
    signed_in = client.post(reverse("login"), {"username": person.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    response = client.post(link)
    assert response.status_code == 302
    assert Membership.objects.for_tenant(world.tenant).get(user=person).role == Role.REQUESTER


def test_someone_else_signed_in_cannot_take_the_invitation(
    world, admin_client, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, world, "target@example.org")
    link = link_from_mail()
    intruder = login(UserFactory(email="intruder@example.org"))
    intruder.post(link)
    assert (
        not Membership.objects.for_tenant(world.tenant)
        .filter(user__email__in=["intruder@example.org", "target@example.org"])
        .exists()
    )


def test_inviting_an_existing_member_is_a_form_error(world, admin_client):
    response = invite(admin_client, world, world.user(Role.AGENT).email)
    assert response.status_code == 400
    assert b"already a member" in response.content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-address", "role": "agent"}, b"valid email"),
        ({"email": "ok@example.org", "role": "overlord"}, b"Select a valid choice"),
        ({}, b"This field is required"),
    ],
)
def test_bad_invitation_input_is_a_form_error(world, admin_client, data, field):
    response = admin_client.post(reverse("tenant_admin:members", args=[world.tenant.slug]), data)
    assert response.status_code == 400
    assert field in response.content
    assert Invitation.objects.for_tenant(world.tenant).get() == world.invitation


def test_accept_is_single_use_at_service_level(world):
    invitation = Invitation.objects.create(
        tenant=world.tenant, email="race@example.org", role="agent"
    )
    user = UserFactory(email="race@example.org")
    services.invitation_accept(invitation=invitation, user=user)
    with pytest.raises(services.InvitationInvalid):
        services.invitation_accept(invitation=invitation, user=user)


def test_purge_drops_only_long_expired_unaccepted(world):
    old = Invitation.objects.create(
        tenant=world.tenant, email="old@example.org", created_at=timezone.now() - timedelta(days=60)
    )
    fresh = Invitation.objects.create(tenant=world.tenant, email="fresh@example.org")
    assert services.invitations_purge_stale() == 1
    remaining = set(Invitation.objects.for_tenant(world.tenant).values_list("pk", flat=True))
    assert remaining == {fresh.pk, world.invitation.pk}
    assert old.pk not in remaining
