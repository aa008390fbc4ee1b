"""Every page works under the Content-Security-Policy: the browser reports
no blocked script, style or connection anywhere a person goes."""

from __future__ import annotations

import pytest

from servicedesk.models import User
from tests.browser.conftest import DEMO_PASSWORD, csp_watch, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/t/acme/desk/",
    "/t/acme/portal/",
    "/t/acme/admin/",
    "/t/acme/admin/members/",
    "/t/acme/admin/teams/",
    "/t/acme/admin/teams/platform/",
    "/t/acme/admin/settings/",
    "/t/acme/admin/sla/",
    "/t/acme/admin/sla/policies/new/",
    "/t/acme/admin/sla/calendars/",
    "/t/acme/admin/sla/calendars/new/",
    "/t/acme/desk/?queue=breaching",
    "/tenants/",
    "/accounts/profile/",
    "/accounts/password/change/",
    "/api/docs/",
    "/admin/",
    "/admin/servicedesk/membership/",
]


def test_no_page_trips_the_policy(page, demo):
    operator = User.objects.get(email="admin@acme.example")
    operator.is_staff = operator.is_superuser = True
    operator.save()
    violations: list[str] = []
    csp_watch(page, violations)
    response = page.goto("/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("E-mail").fill("admin@acme.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/t/acme/desk/")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    # An HTMX swap, under the same policy.
    page.goto("/t/acme/admin/teams/platform/")
    members = page.locator("#team-members")
    members.get_by_label("Add agent").select_option(label="Arno Agent")
    members.get_by_role("button", name="Add to team").click()
    members.get_by_text("agent@acme.example").wait_for()
    assert violations == []


def test_swagger_ui_renders_under_the_policy(page, demo, screenshot):
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    page.goto("/api/docs/")
    page.get_by_text("/api/v1/me/").wait_for()
    screenshot("api-docs")
