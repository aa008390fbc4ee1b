"""A requester orders a laptop from the catalog: choosing the expensive
model reveals the justification field, the order opens a request routed to
the item's team, and the agent reads the answers as a table on the desk."""

from __future__ import annotations

import pytest

from catalog.models import Order
from tests.browser.conftest import csp_watch, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JUSTIFICATION = "I build the data platform locally; the standard model needs 40 minutes."


@pytest.fixture
def agent_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_order_a_laptop_with_a_condition_and_read_it_on_the_desk(
    page, agent_page, demo, screenshot
):
    violations: list[str] = []
    csp_watch(page, violations)
    csp_watch(agent_page, violations)

    sign_in(page, "user@acme.example")
    page.wait_for_url("**/t/acme/portal/")
    page.get_by_role("link", name="Order something").click()
    page.wait_for_url("**/portal/catalog/")
    screenshot("catalog-home")
    page.get_by_role("link", name="New laptop").click()

    justification = page.get_by_label("Business justification")
    assert not justification.is_visible()
    page.get_by_label("Performance 16″ (32 GB, €1,900)").check()
    page.get_by_label("Expected cost (€)").fill("1900")
    page.get_by_label("Expected cost (€)").press("Tab")
    justification.wait_for(state="visible")  # redrawn by HTMX for the answers so far
    screenshot("catalog-item-justification-shown")

    # Ordering without the justification is refused, with the typed answers kept.
    page.get_by_role("button", name="Order").click()
    page.get_by_text("This field is required.").wait_for()
    assert page.get_by_label("Expected cost (€)").input_value() == "1900"
    page.get_by_label("Business justification").fill(JUSTIFICATION)
    page.get_by_role("button", name="Order").click()
    page.wait_for_url("**/portal/tickets/REQ-*/")
    key = page.url.rstrip("/").rsplit("/", 1)[-1]
    answers = page.locator("#ticket-catalog_order")
    assert "Performance 16″" in answers.inner_text()
    screenshot("catalog-order-portal")

    order = (
        Order.objects.unscoped()
        .select_related("ticket__team")
        .get(ticket__number=int(key.split("-")[1]), tenant__slug="acme")
    )
    assert order.ticket.team.name == "Service Desk"
    assert order.answers["justification"] == JUSTIFICATION

    sign_in(agent_page, "agent@acme.example")
    agent_page.goto(f"/t/acme/desk/tickets/{key}/")
    table = agent_page.locator("#ticket-catalog_order")
    assert table.get_by_role("row", name="Business justification").is_visible()
    assert JUSTIFICATION in table.inner_text()
    screenshot("catalog-order-desk", of=agent_page)
    assert violations == []
