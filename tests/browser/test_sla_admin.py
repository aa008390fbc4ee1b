"""An admin sets up SLAs in the browser: a business calendar drawn on the
weekly grid (with a mistake the page points out), a due-time preview, a
policy on that calendar with an escalation and its own preview, and the
policy moved up the order; all under the Content-Security-Policy, and the
calendar grid and preview also with JavaScript off."""

from __future__ import annotations

import re

import pytest
from django.db.models import QuerySet
from playwright.sync_api import expect

from servicedesk.models import Tenant
from slo.models import Calendar, Policy
from tests.browser.conftest import csp_watch, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def acme() -> Tenant:
    return Tenant.objects.get(slug="acme")


def acme_calendars() -> QuerySet[Calendar]:
    return Calendar.objects.for_tenant(acme())


def interval(page, day: str, number: int, edge: str):
    return page.get_by_label(f"{day}, interval {number}, {edge}", exact=True)


def test_admin_sets_up_a_calendar_and_a_policy(page, demo, screenshot):
    violations: list[str] = []
    csp_watch(page, violations)
    sign_in(page, "admin@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    page.goto("/t/acme/admin/")
    page.get_by_role("navigation", name="Admin sections").get_by_role("link", name="SLAs").click()
    page.wait_for_url("**/t/acme/admin/sla/")
    screenshot("policies")

    # A new calendar on the grid: Monday with a lunch break, copied to the
    # other weekdays, one yearly holiday; the second interval overlaps.
    page.get_by_role("navigation", name="SLA settings").get_by_role(
        "link", name="Business calendars"
    ).click()
    page.get_by_role("link", name="New calendar").click()
    page.get_by_label("Name:", exact=True).fill("Hamburg support")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    interval(page, "Monday", 1, "start").fill("09:00")
    interval(page, "Monday", 1, "end").fill("12:00")
    page.get_by_role("button", name="Add an interval on Monday").click()
    interval(page, "Monday", 2, "start").fill("11:00")
    interval(page, "Monday", 2, "end").fill("17:00")
    page.get_by_label("Holiday 1, date").fill("2026-12-24")
    page.get_by_label("Holiday 1, every year").check()
    page.get_by_label("Holiday 1, name").fill("Christmas Eve")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("The calendar was not saved")).to_be_visible()
    monday = page.get_by_role("row", name=re.compile("^Monday"))
    expect(monday.get_by_text("09:00–12:00 overlaps mon 11:00–17:00")).to_be_visible()
    assert not acme_calendars().filter(name="Hamburg support").exists()
    screenshot("calendar-error")

    # Fixed, copied to Tuesday–Friday and saved.
    interval(page, "Monday", 2, "start").fill("13:00")
    page.get_by_role("button", name="Copy Monday to Tuesday–Friday").click()
    expect(interval(page, "Friday", 2, "start")).to_have_value("13:00")
    expect(page.get_by_label("Holiday 1, name")).to_have_value("Christmas Eve")
    page.get_by_role("button", name="Create calendar").click()
    expect(page.get_by_text("Calendar “Hamburg support” created")).to_be_visible()
    calendar = acme_calendars().get(name="Hamburg support")
    assert calendar.hours["fri"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert calendar.holidays == [{"date": "2026-12-24", "recurring": True, "name": "Christmas Eve"}]

    # The preview, swapped in by HTMX: Friday 16:30 + 60 minutes.
    preview = page.locator("#preview")
    preview.get_by_label("Start").fill("2026-03-06T16:30")
    preview.get_by_label("Business time").fill("60")
    with page.expect_response(lambda r: "start=2026-03-06T16" in r.url):
        preview.get_by_role("button", name="Preview").click()
    expect(page.locator("#calendar-due")).to_contain_text("Mon 2026-03-09 09:30")
    expect(page.locator("#calendar-due")).to_contain_text("Mon 2026-03-09 08:30 UTC")
    assert "start=" not in page.url  # swapped in place, no page load
    screenshot("calendar")

    page.get_by_role("link", name="Back to calendars").click()
    expect(page.get_by_role("row", name=re.compile("Hamburg support"))).to_contain_text(
        "Mon–Fri 09:00–12:00, 13:00–17:00"
    )
    screenshot("calendars")

    # Uma is a VIP of Hamburg Freight, as a policy can ask.
    page.goto("/t/acme/admin/members/")
    page.get_by_role("link", name="Uma User").click()
    page.get_by_label("Organisation:", exact=True).fill("Hamburg Freight")
    page.get_by_label("VIP", exact=True).check()
    page.get_by_role("button", name="Save SLA profile").click()
    expect(page.get_by_text("SLA profile of user@acme.example saved")).to_be_visible()
    expect(page.get_by_label("Organisation:", exact=True)).to_have_value("Hamburg Freight")
    screenshot("member")

    # A policy for VIP P1/P2 incidents on that calendar.
    page.goto("/t/acme/admin/sla/")
    page.get_by_role("link", name="New policy").click()
    page.get_by_label("Name:", exact=True).fill("Hamburg VIP")
    page.get_by_label("Incident").check()
    page.get_by_label("P1 Critical").check()
    page.get_by_label("P2 High").check()
    page.get_by_label("VIP requesters only").check()
    page.get_by_label("Calendar").select_option(label="Hamburg support")
    page.get_by_label("First response").fill("30m")
    page.get_by_label("Resolution").fill("4h")
    screenshot("policy-new")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_text("Policy “Hamburg VIP” created")).to_be_visible()
    policy = Policy.objects.for_tenant(acme()).get(name="Hamburg VIP")
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, 240)
    assert policy.priorities == [1, 2]
    assert policy.vip_only

    # An escalation, and the preview of a P2 incident on Friday afternoon.
    escalations = page.locator("#escalations")
    escalations.get_by_label("When").select_option(label="Target breached")
    escalations.get_by_label("Then").select_option(label="Notify the team lead")
    escalations.get_by_role("button", name="Add escalation").click()
    expect(page.get_by_text("Escalation added")).to_be_visible()
    expect(page.locator("#escalations li").first).to_contain_text("Notify the team lead")
    preview = page.locator("#preview")
    preview.get_by_label("Priority").select_option(label="P2 High")
    preview.get_by_label("Opened at").fill("2026-03-06T16:30")
    preview.get_by_role("button", name="Preview").click()
    due = page.locator("#policy-due")
    expect(due).to_contain_text("A P2 incident opened Fri 2026-03-06 16:30 would be")
    expect(due).to_contain_text("due Fri 2026-03-06 17:00")
    expect(due).to_contain_text("due Mon 2026-03-09 13:30")
    expect(due).to_contain_text("It also needs VIP requesters")
    screenshot("policy")

    # Last in the order; one step up, in place.
    page.get_by_role("link", name="Back to policies").click()
    names = page.locator("#policy-rows .sla-name")
    count = names.count()
    expect(names.nth(count - 1)).to_have_text("Hamburg VIP")
    page.get_by_role("button", name="Move Hamburg VIP up").click()
    expect(names.nth(count - 2)).to_have_text("Hamburg VIP")
    screenshot("policies-moved")
    assert violations == []


def test_the_calendar_grid_and_preview_work_without_javascript(browser, live_server, demo):
    context = browser.new_context(
        java_script_enabled=False, base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "admin@acme.example")
        page.wait_for_url("**/t/acme/desk/")
        page.goto("/t/acme/admin/sla/calendars/new/")
        page.get_by_label("Name:", exact=True).fill("Night desk")
        interval(page, "Sunday", 1, "start").fill("22:00")
        interval(page, "Sunday", 1, "end").fill("06:00")
        page.get_by_role("button", name="Add an interval on Saturday").click()
        interval(page, "Saturday", 2, "start").fill("20:00")
        interval(page, "Saturday", 2, "end").fill("24:00")
        page.get_by_role("button", name="More holiday rows").click()
        expect(page.get_by_label("Holiday 5, date")).to_be_visible()
        page.get_by_role("button", name="Create calendar").click()
        expect(page.get_by_text("Calendar “Night desk” created")).to_be_visible()
        calendar = acme_calendars().get(name="Night desk")
        assert calendar.hours["sun"] == [["22:00", "06:00"]]
        assert calendar.hours["sat"] == [["20:00", "24:00"]]

        # Sunday 23:00 + 2h: an hour on Sunday night, an hour after midnight.
        preview = page.locator("#preview")
        preview.get_by_label("Start").fill("2026-03-08T23:00")
        preview.get_by_label("Business time").fill("2h")
        preview.get_by_role("button", name="Preview").click()
        page.wait_for_url("**start=2026-03-08T23*")
        expect(page.locator("#calendar-due")).to_contain_text("Mon 2026-03-09 01:00")
    finally:
        context.close()
