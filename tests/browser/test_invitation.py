"""An admin invites someone; they open the e-mailed link, create their
account and land in the desk."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invite_accept_and_start_working(page, browser, live_server, demo, screenshot, settings):
    settings.SITE_URL = live_server.url
    sign_in(page, "admin@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    page.goto("/t/acme/admin/members/")
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("E-mail").fill("new.hire@acme.example")
    invite.get_by_label("Role").select_option(label="Agent")
    invite.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to new.hire@acme.example.").is_visible()
    pending = page.get_by_role("region", name="Pending invitations")
    assert pending.get_by_text("new.hire@acme.example").is_visible()
    screenshot("admin-invited")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)

    # The invitee, in a browser of their own.
    context = browser.new_context(base_url=live_server.url)
    invitee = context.new_page()
    invitee.goto(link)
    assert invitee.get_by_role("heading", name="Join Acme Corporation").is_visible()
    invitee.get_by_label("Your name").fill("Nia Newhire")
    invitee.get_by_label("Password", exact=False).first.fill("a-long-pass-42")
    invitee.get_by_label("Password again").fill("a-long-pass-42")
    invitee.get_by_role("button", name="Create account and join").click()
    invitee.wait_for_url("**/t/acme/desk/")
    assert invitee.get_by_text("Welcome to Acme Corporation.").is_visible()
    screenshot("invitee-desk", of=invitee)
    # The link is spent.
    invitee.goto(link)
    assert invitee.get_by_text("already been used").is_visible()
    context.close()

    page.reload()
    assert page.get_by_role("region", name="Pending invitations").count() == 0
    assert page.get_by_role("link", name="Nia Newhire").is_visible()
