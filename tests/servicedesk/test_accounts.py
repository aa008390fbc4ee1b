"""Sign in with e-mail, sign out, change and reset the password."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from servicedesk.models import Role, User
from tests.servicedesk.factories import PASSWORD


def test_sign_in_with_email_in_any_case(world, client):
    user = world.user(Role.AGENT)
    response = client.post(reverse("login"), {"username": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("desk", args=[world.tenant.slug])


@pytest.mark.parametrize(
    "data",
    [
        {"username": "agent@ours.test", "password": "wrong"},
        {"username": "nobody@ours.test", "password": PASSWORD},
        {"username": "", "password": ""},
        {"username": "x" * 5000, "password": "y" * 5000},
    ],
)
def test_failed_sign_in_is_a_form_error(world, client, data):
    response = client.post(reverse("login"), data)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"errorlist" in response.content


def test_inactive_user_cannot_sign_in(world, client):
    user = world.user(Role.AGENT)
    user.is_active = False
    user.save()
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_pair_out(world, client, settings):
    user = world.user(Role.AGENT)
    wrong = {"username": user.email, "password": "guess"}
    shouted = {"username": user.email.upper(), "password": "guess"}
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        # Changing the case of the e-mail does not start a new count.
        response = client.post(reverse("login"), shouted if attempt % 2 else wrong)
        assert response.status_code == 200
    locked = client.post(reverse("login"), wrong)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    # Even the right password waits out the cool-off from this address...
    right = {"username": user.email, "password": PASSWORD}
    assert client.post(reverse("login"), right).status_code == 429
    assert "_auth_user_id" not in client.session
    # ...while the same person from another address, and others, still get in.
    elsewhere = client.post(reverse("login"), right, REMOTE_ADDR="203.0.113.9")
    assert elsewhere.status_code == 302
    other = world.user(Role.ADMIN)
    fresh = type(client)()
    assert (
        fresh.post(reverse("login"), {"username": other.email, "password": PASSWORD}).status_code
        == 302
    )


def test_a_successful_sign_in_resets_the_count(world, client, settings):
    user = world.user(Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": user.email, "password": "guess"})
    assert (
        client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code
        == 302
    )
    client.post(reverse("logout"))
    assert (
        client.post(reverse("login"), {"username": user.email, "password": "guess"}).status_code
        == 200
    )


def test_e_mail_is_unique_whatever_the_case(db):
    User.objects.create_user("Case@Example.org", "x")
    with pytest.raises(Exception, match=r"unique|duplicate"):
        User.objects.create_user("case@example.org", "y")


def test_sign_out_needs_post(world, login):
    client = login(world.user(Role.AGENT))
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("desk", args=[world.tenant.slug])).status_code == 302


def test_change_password(world, login):
    user = world.user(Role.AGENT)
    client = login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "fresh-horse-77",
            "new_password2": "fresh-horse-77",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fresh-horse-77")
    # The session that changed the password stays signed in.
    assert client.get(reverse("desk", args=[world.tenant.slug])).status_code == 200


def test_change_password_rejects_a_weak_one(world, login):
    client = login(world.user(Role.AGENT))
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert b"too common" in response.content or b"entirely numeric" in response.content


def test_reset_password_by_e_mail(world, client, django_capture_on_commit_callbacks):
    user = world.user(Role.REQUESTER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": user.email.upper()})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Set a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-new-pass-9")
    # The link works once.
    assert b"no longer works" in client.get(link, follow=True).content


def test_reset_for_unknown_address_reveals_nothing(db, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "ghost@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_signed_in_visitor_skips_the_login_page(world, login):
    response = login(world.user(Role.AGENT)).get(reverse("login"))
    assert response.status_code == 302


def test_change_own_name(world, login):
    user = world.user(Role.REQUESTER)
    client = login(user)
    assert client.get(reverse("profile")).status_code == 200
    response = client.post(reverse("profile"), {"full_name": "  Renée Requester "})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.full_name == "Renée Requester"


@pytest.mark.parametrize("name", ["", "   ", "x" * 151, "a\x00b"])
def test_bad_name_is_a_form_error(world, login, name):
    user = world.user(Role.REQUESTER)
    before = user.full_name
    response = login(user).post(reverse("profile"), {"full_name": name})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.full_name == before


def test_profile_needs_sign_in(client):
    assert client.get(reverse("profile")).status_code == 302


def test_a_refusing_mail_server_does_not_break_the_reset_page(
    world, client, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("mail server gone")

    monkeypatch.setattr("servicedesk.tasks.send_mail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": world.user(Role.AGENT).email})
    assert response.status_code == 302
    assert "could not queue servicedesk.send_email" in caplog.text
