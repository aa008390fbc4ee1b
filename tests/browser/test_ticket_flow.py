"""THE flow: a requester reports an incident with a screenshot in the portal,
an agent picks it up from Unassigned, answers publicly and notes something
internal, the requester sees the answer and not the note, the agent resolves,
and the requester says it is not fixed -- which reopens it.

Requester and agent each have their own browser context, as two people would.
The desk is driven by roles, labels and visible text, not by its markup.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import csp_watch, sign_in
from tickets.models import Attachment, Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
PUBLIC_REPLY = "Thanks, Uma. Could you try the other cable from your drawer?"
INTERNAL_NOTE = "Known issue with the D6000 docks; firmware update queued."
# Distinct from the seeded demo tickets, so the desk's queue shows exactly one match.
TITLE = "Second screen goes black every few minutes"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def agent_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_report_answer_resolve_reopen(page, agent_page, demo, media, screenshot):
    # Both sides of the flow must run under the policy, swaps included.
    violations: list[str] = []
    csp_watch(page, violations)
    csp_watch(agent_page, violations)

    # --- The requester reports an incident, with a screenshot. -------------------------
    sign_in(page, "user@acme.example")
    page.wait_for_url("**/t/acme/portal/")
    assert page.get_by_role("heading", name="My requests").is_visible()
    screenshot("portal-home")
    page.get_by_role("link", name="Report a problem").first.click()
    page.wait_for_url("**/t/acme/portal/new/")
    page.get_by_label("Summary").fill(TITLE)
    page.get_by_label("Details").fill(
        "Since this morning my second screen **goes black** every few minutes.\n\n"
        "- Windows 11\n- Client 5.2"
    )
    page.get_by_label("My team").check()
    page.get_by_label("High — I can't work").check()
    page.get_by_label("Attachments").set_input_files(
        [{"name": "black-screen.png", "mimeType": "image/png", "buffer": PNG}]
    )
    screenshot("portal-report-filled")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/t/acme/portal/tickets/INC-\d+/$"))
    key = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.get_by_text(f"Thanks — we received {key}").is_visible()
    assert page.get_by_role("link", name="black-screen.png").is_visible()
    assert page.get_by_text("Received", exact=True).first.is_visible()
    ticket = Ticket.objects.unscoped().get(tenant__slug="acme", kind="incident",
                                           number=int(key.split("-")[1]))  # fmt: skip
    assert (ticket.impact, ticket.urgency, ticket.source) == (2, 1, "portal")
    assert Attachment.objects.unscoped().get(ticket=ticket).content_type == "image/png"
    screenshot("portal-request-new")

    # --- The agent finds it in Unassigned, takes it, answers, notes. -------------------
    sign_in(agent_page, "agent@acme.example")
    agent_page.wait_for_url("**/t/acme/desk/**")
    agent_page.goto("/t/acme/desk/?queue=unassigned")
    agent_page.get_by_role("link", name=TITLE, exact=True).click()
    agent_page.wait_for_url(f"**/t/acme/desk/tickets/{key}/")
    agent_page.get_by_role("button", name="Assign to me").click()
    agent_page.wait_for_function(
        "() => !document.body.innerText.includes('Assign to me')", timeout=15_000
    )
    ticket.refresh_from_db()
    assert ticket.assignee is not None
    assert ticket.assignee.email == "agent@acme.example"

    agent_page.get_by_label("Public reply").check()
    agent_page.get_by_label("Message").fill(PUBLIC_REPLY)
    agent_page.get_by_role("button", name="Send", exact=True).click()
    agent_page.get_by_text(PUBLIC_REPLY).first.wait_for()
    agent_page.get_by_label("Internal note").check()
    agent_page.get_by_label("Message").fill(INTERNAL_NOTE)
    agent_page.get_by_role("button", name="Send", exact=True).click()
    agent_page.get_by_text(INTERNAL_NOTE).first.wait_for()
    screenshot("desk-answered", of=agent_page)

    # --- The requester sees the answer, not the note. ------------------------------------
    page.goto(f"/t/acme/portal/tickets/{key}/")
    assert page.get_by_text(PUBLIC_REPLY).is_visible()
    assert INTERNAL_NOTE not in page.content()
    assert page.get_by_text("We're working on it").first.is_visible()
    page.goto("/t/acme/portal/")
    row = page.get_by_role("listitem").filter(has_text=key)
    assert row.get_by_text("We're working on it").is_visible()
    screenshot("portal-home-one-open")

    # --- The agent resolves. -------------------------------------------------------------
    agent_page.get_by_text("Resolve…").click()
    agent_page.locator("details[open]").get_by_label("Resolution").select_option("solved")
    agent_page.get_by_role("button", name=f"Resolve {key}").click()
    agent_page.wait_for_function(
        f"() => !document.body.innerText.includes('Resolve {key}')", timeout=15_000
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED

    # --- The requester: not fixed -> reopen by replying. ---------------------------------
    page.goto(f"/t/acme/portal/tickets/{key}/")
    assert page.get_by_text("Resolved — confirm or reply").first.is_visible()
    assert page.get_by_role("button", name="Yes, it's fixed").is_visible()
    screenshot("portal-request-resolved")
    page.get_by_role("link", name="No, reopen").click()
    page.get_by_label("What is still not working?").fill(
        "Still goes black, even with the other cable."
    )
    page.get_by_role("button", name="Reopen and send").click()
    page.get_by_text(f"{key} is open again").wait_for()
    assert page.get_by_text("Reopened").first.is_visible()
    assert page.get_by_text("Still goes black, even with the other cable.").is_visible()
    assert INTERNAL_NOTE not in page.content()
    screenshot("portal-request-reopened")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1

    # The screenshot downloads through the permission check, as itself.
    with page.expect_download() as download:
        page.get_by_role("link", name="black-screen.png").click()
    assert download.value.suggested_filename == "black-screen.png"

    assert violations == []


def test_report_form_errors_and_confirming_a_fix(page, demo, media, screenshot):
    """A refused report keeps what was typed and says what is wrong; a
    resolved request closes with "Yes, it's fixed"."""
    from tickets import services
    from tickets.services import Actor

    sign_in(page, "user@acme.example")
    page.wait_for_url("**/t/acme/portal/")
    page.goto("/t/acme/portal/new/?kind=request")
    assert page.get_by_role("heading", name="Ask for something").is_visible()
    page.get_by_label("Summary").fill("   ")
    page.get_by_label("Details").fill("Access to the sales dashboard, please.")
    page.get_by_label("Attachments").set_input_files(
        [{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}]
    )
    page.get_by_role("button", name="Send").click()
    page.get_by_text("“empty.txt” is empty").wait_for()
    assert page.get_by_label("Details").input_value() == "Access to the sales dashboard, please."
    screenshot("portal-report-errors")

    from servicedesk.models import Membership

    requester = Membership.objects.unscoped().get(
        tenant__slug="acme", user__email="user@acme.example"
    )
    agent = Membership.objects.unscoped().get(tenant__slug="acme", user__email="agent@acme.example")
    ticket = services.ticket_create(actor=Actor.of(requester), kind="request",
                                    title="A monitor for the reception desk")  # fmt: skip
    services.comment_add(actor=Actor.of(agent), ticket=ticket, body="Delivered to your desk.")
    services.ticket_transition(actor=Actor.of(agent), ticket=ticket, status="resolved",
                               resolution_code="solved",
                               resolution_notes="A 27\" monitor is on your desk.")  # fmt: skip
    page.goto(f"/t/acme/portal/tickets/{ticket.key}/")
    # A refused reopen answers in place (HTMX), with the reason by the field.
    page.evaluate("window.__stayed = true")  # lost if the page reloads
    page.get_by_role("button", name="Reopen and send").click()
    page.get_by_text("Tell us what is still wrong, so we can pick it up again.").wait_for()
    assert page.evaluate("window.__stayed") is True
    page.get_by_role("button", name="Yes, it's fixed").click()
    page.get_by_text("Thanks for confirming").wait_for()
    assert page.get_by_role("heading", name="This request is closed").is_visible()
    screenshot("portal-request-closed")
    page.goto("/t/acme/portal/?show=closed")
    assert page.get_by_role("link", name="A monitor for the reception desk").is_visible()
    screenshot("portal-home-closed")
