"""A person signs in, sees the desk shell, switches tenant and signs out."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page) -> None:
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_agent_signs_in_to_the_desk_and_out(page, demo, screenshot):
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Desk"
    nav = page.get_by_role("navigation", name="Areas")
    assert nav.get_by_role("link", name="Desk").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Portal").is_visible()
    assert nav.get_by_role("link", name="Admin").count() == 0  # agents have no admin area
    assert page.get_by_role("heading", name="Service Desk your team").is_visible()
    assert "Acme Corporation" in page.locator(".tenant-switcher summary").inner_text()
    screenshot("desk")
    sign_out(page)
    page.goto("/t/acme/desk/")
    page.wait_for_url("**/accounts/login/?next=/t/acme/desk/")


def test_wrong_password_says_so(page, demo):
    sign_in(page, "agent@acme.example", password="not-the-password")
    assert page.get_by_text("That e-mail and password do not match an account").is_visible()


def test_user_of_two_tenants_switches_between_them(page, demo, screenshot):
    sign_in(page, "multi@example.com")
    page.wait_for_url("**/t/acme/desk/")
    switcher = page.locator(".tenant-switcher")
    switcher.locator("summary").click()
    screenshot("switcher-open")
    switcher.get_by_role("link", name="Globex Inc.").click()
    page.wait_for_url("**/t/globex/desk/")
    assert "Globex Inc." in switcher.locator("summary").inner_text()
    assert page.get_by_role("heading", name="Service Desk your team").is_visible()
    screenshot("globex-desk")
    # The last tenant used is where "/" leads next time.
    page.goto("/")
    page.wait_for_url("**/t/globex/desk/")
    sign_out(page)


def test_admin_adds_a_team_member_without_a_page_load(page, demo, screenshot):
    sign_in(page, "admin@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Manage teams").click()
    page.get_by_role("link", name="Platform").click()
    page.wait_for_url("**/t/acme/admin/teams/platform/")
    page.evaluate("window.__stayed = true")  # lost if the page reloads
    members = page.locator("#team-members")
    members.get_by_label("Add agent").select_option(label="Arno Agent")
    members.get_by_role("button", name="Add to team").click()
    members.get_by_text("agent@acme.example").wait_for()
    assert page.evaluate("window.__stayed") is True
    screenshot("team-member-added")
    members.get_by_role("button", name="Remove Arno Agent from Platform").click()
    page.locator("#team-members").get_by_text("agent@acme.example").wait_for(state="detached")
    assert page.evaluate("window.__stayed") is True
