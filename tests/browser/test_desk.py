"""An agent works the desk from the keyboard: moves through the queue,
selects, bulk-assigns to themselves, opens a ticket, edits its priority in
place and replies."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from servicedesk.models import Membership, Tenant, User
from tests.browser.conftest import sign_in
from tickets import services
from tickets.models import Status
from tickets.services import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAG = "floor-3"
TITLES = [
    ("VPN drops every ten minutes", 1, 2, ["vpn", "network"]),
    ("Printer on the 3rd floor prints blank pages", 3, 3, ["printer"]),
    ("New laptop for Ulf", 3, 2, []),
    ("Cannot open the payroll spreadsheet", 2, 2, ["excel"]),
    ("Wi-Fi in meeting room B is slow", 2, 3, ["network"]),
    ("Outlook asks for the password again and again", 2, 1, ["mail"]),
]


def _seed_tickets() -> None:
    tenant = Tenant.objects.get(slug="acme")

    def actor(email: str) -> Actor:
        return Actor.of(
            Membership.objects.for_tenant(tenant).select_related("user").get(user__email=email)
        )

    uma, lead = actor("user@acme.example"), actor("lead@acme.example")
    agent2 = User.objects.get(email="agent2@acme.example")
    with services.notifications_muted():
        for index, (title, impact, urgency, tags) in enumerate(TITLES):
            ticket = services.ticket_create(
                actor=uma,
                kind="request" if "laptop" in title else "incident",
                title=title,
                description="It started this morning.\n\n* tried a restart\n* still broken",
                impact=impact,
                urgency=urgency,
            )
            services.ticket_update(actor=lead, ticket=ticket, tags=[TAG, *tags])
            if index == 3:
                services.ticket_assign(actor=lead, ticket=ticket, assignee=agent2)
                services.ticket_transition(actor=lead, ticket=ticket, status=Status.IN_PROGRESS)


def my_work_count(page) -> int:
    nav = page.get_by_role("navigation", name="Queues")
    return int(nav.get_by_role("link", name="My work").locator(".desk-nav__count").inner_text())


def test_agent_works_the_queue_from_the_keyboard(page, demo, screenshot):
    _seed_tickets()
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Desk"
    screenshot("queue")

    # Unassigned, narrowed to this test's tickets with the tag filter.
    page.get_by_role("navigation", name="Queues").get_by_role("link", name="Unassigned").click()
    page.wait_for_url("**queue=unassigned")
    page.locator("#queue-filters").get_by_label("Tag").fill(TAG)
    page.locator("#queue-filters").get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**tag={TAG}*")
    rows = page.locator("#queue-rows tr[data-ticket]")
    assert rows.count() == 5
    mine_before = my_work_count(page)

    # j j k puts the cursor on the first row; x ticks it, j x the second.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "is-cursor" in (rows.nth(0).get_attribute("class") or "")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert rows.nth(0).locator("input[type=checkbox]").is_checked()
    assert rows.nth(1).locator("input[type=checkbox]").is_checked()
    assert page.locator("[data-bulk-count]").inner_text() == "2 selected:"
    first_key = rows.nth(0).get_attribute("data-key")
    screenshot("queue-selected")

    # The help lists the shortcuts.
    page.keyboard.press("?")
    assert page.get_by_role("dialog").get_by_text("Assign the ticket to me").is_visible()
    screenshot("shortcuts")
    page.keyboard.press("?")
    assert not page.locator("#shortcut-help").is_visible()

    # Bulk: assign the two to me (the bar's defaults); the filters stay.
    page.locator("#bulk").get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert page.get_by_text("Assigned 2 tickets to you.").is_visible()
    assert f"tag={TAG}" in page.url
    assert rows.count() == 3
    assert my_work_count(page) == mine_before + 2

    # "a" assigns the row under the cursor without a page load.
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(rows).to_have_count(2)
    flash = page.locator("#desk-flash")
    assert flash.get_by_text(re.compile(r"Assigned \w+-\d+ to you\.")).is_visible()
    assert my_work_count(page) == mine_before + 3

    # My work holds the three; open the first ticket assigned in bulk with o.
    page.goto(f"/t/acme/desk/?queue=mine&tag={TAG}")
    mine = page.locator("#queue-rows tr[data-ticket]")
    keys = [mine.nth(i).get_attribute("data-key") for i in range(mine.count())]
    assert len(keys) == 3
    for _ in range(keys.index(first_key) + 1):
        page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/desk/tickets/{first_key}/")
    assert page.locator(".desk-tickethead__title").is_visible()

    # Edit the priority in place: the header's badge changes without a reload.
    details = page.locator("#ticket-details")
    details.get_by_label("Priority").select_option("1")
    details.get_by_label("Reason for the override").fill("The whole sales team is blocked")
    details.locator(".desk-field--priority").get_by_role("button", name="Save").click()
    page.locator("#ticket-header .desk-prio").filter(has_text="P1 Critical").wait_for()
    assert (
        page.locator("#ticket-timeline").get_by_text("The whole sales team is blocked").is_visible()
    )

    # r jumps to the reply box; the reply appears in the timeline.
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    page.keyboard.type("We are on it: **restart** the VPN client once more, please.")
    page.locator("#ticket-reply").get_by_role("button", name="Send").click()
    page.locator("#ticket-timeline .desk-comment").filter(has_text="restart").wait_for()
    assert page.locator("#reply-body").input_value() == ""
    # The agent's first public reply started the work.
    page.locator("#ticket-header .desk-status").filter(has_text="In progress").wait_for()

    # An internal note looks different.
    page.locator("#ticket-reply").get_by_label("Internal note").check()
    page.locator("#reply-body").fill("Checked the concentrator logs, nothing yet.")
    page.locator("#ticket-reply").get_by_role("button", name="Send").click()
    note = page.locator("#ticket-timeline .desk-comment--internal").filter(has_text="concentrator")
    note.wait_for()
    screenshot("ticket")

    # "/" jumps to the search; a ticket key opens that ticket.
    page.goto("/t/acme/desk/")
    page.keyboard.press("/")
    page.keyboard.type("prb-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/desk/tickets/PRB-1/")
    assert page.locator("#ticket-links").is_visible()
    screenshot("problem")


def test_agent_files_a_ticket_for_a_requester(page, demo, screenshot):
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/")
    page.get_by_role("link", name="New ticket").click()
    page.wait_for_url("**/desk/tickets/new/")
    form = page.locator("form.desk-new")
    form.get_by_label("Kind").select_option("request")
    form.get_by_label("Title").fill("Second monitor for the new designer")
    form.get_by_label("Description").fill('Starts **Monday**; a 27" one, please.')
    form.get_by_label("Requester").fill("user@acme.example")
    form.get_by_label("Team").select_option(label="Service Desk")
    form.get_by_label("Tags").fill("hardware onboarding")
    screenshot("new-ticket")
    form.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r".*/desk/tickets/REQ-\d+/$"))
    assert page.locator(".desk-tickethead__title").inner_text() == (
        "Second monitor for the new designer"
    )
    assert page.locator(".desk-description .desk-md strong").inner_text() == "Monday"
    assert page.get_by_text("Uma User").first.is_visible()
