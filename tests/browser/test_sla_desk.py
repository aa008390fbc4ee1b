"""An agent reads a ticket's SLA on the desk: the panel's clocks, the
explanation of one (loaded when opened), and the "Breaching soon" queue,
all under the Content-Security-Policy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from servicedesk.models import Membership, Tenant
from slo import services as sla
from slo.models import Policy
from tests.browser.conftest import csp_watch, sign_in
from tickets import services
from tickets.models import Tag, Ticket
from tickets.services import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAG = "sla-browser"


def _seed() -> dict[str, Ticket]:
    """Three tickets under a policy of their own (first in line, for this
    tag only), their clocks at known places as of now."""
    tenant = Tenant.objects.get(slug="acme")

    def member(email: str) -> Membership:
        return Membership.objects.for_tenant(tenant).select_related("user").get(user__email=email)

    admin, agent = member("admin@acme.example"), Actor.of(member("agent@acme.example"))
    requester = Actor.of(member("user@acme.example"))
    tag = Tag.objects.create(tenant=tenant, name=TAG)
    policy = sla.policy_create(
        actor=admin,
        name="Browser test: around the clock",
        tag=tag,
        first_response_minutes=15,
        next_response_minutes=60,
        resolution_minutes=240,
    )
    for _ in range(Policy.objects.for_tenant(tenant).count()):
        sla.policy_move(actor=admin, policy=policy, offset=-1)
    now = timezone.now()

    def ticket(title: str, minutes_ago: int) -> Ticket:
        return services.ticket_create(
            actor=agent,
            kind="incident",
            title=title,
            description="Since this morning.",
            requester=requester.user,
            tags=[TAG],
            now=now - timedelta(minutes=minutes_ago),
        )

    def at(minutes_ago: int):
        return now - timedelta(minutes=minutes_ago)

    with services.notifications_muted():
        # Answered in 10 minutes, asked a question, answered an hour after it
        # was due: the next response is an hour late; 2 h 20 min of the 4 h
        # resolution used (the wait for the requester did not count).
        late = ticket("Expense reports fail to upload", 180)
        services.comment_add(actor=agent, ticket=late, body="Which browser?", now=at(170))
        services.ticket_transition(actor=agent, ticket=late, status="pending", now=at(160))
        services.comment_add(actor=requester, ticket=late, body="Firefox.", now=at(120))
        # Answered at once; 3 h 30 min of its resolution left.
        soon = ticket("Shared drive is read-only", 30)
        services.comment_add(actor=agent, ticket=soon, body="Looking now.", now=at(29))
        # Waiting for the requester: paused, so not breaching.
        waiting = ticket("Badge does not open the back door", 60)
        services.comment_add(actor=agent, ticket=waiting, body="Which door?", now=at(55))
        services.ticket_transition(actor=agent, ticket=waiting, status="pending", now=at(50))
    return {"late": late, "soon": soon, "waiting": waiting}


def test_agent_reads_the_sla_of_a_ticket_and_the_breaching_queue(page, demo, screenshot):
    seeded = _seed()
    violations: list[str] = []
    csp_watch(page, violations)
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/**")

    # --- The ticket page's panel: one card per clock. -------------------------------
    page.goto(f"/t/acme/desk/tickets/{seeded['late'].key}/")
    panel = page.locator("#ticket-sla")
    first = panel.locator("#sla-clock-first_response")
    assert first.locator(".sla-state").inner_text() == "Met"
    assert first.locator(".sla-clock__headline").inner_text() == "met after 10 min"
    late = panel.locator("#sla-clock-next_response")
    assert late.locator(".sla-state").inner_text() == "Breached"
    late_by = late.locator(".sla-clock__headline").inner_text()
    assert re.fullmatch(r"overdue by 1 h( 1 min)?", late_by)
    assert "sla-clock--breached" in (late.get_attribute("class") or "")
    resolution = panel.locator("#sla-clock-resolution")
    assert resolution.locator(".sla-state").inner_text() == "Running"
    assert re.fullmatch(
        r"1 h (40|39) min left", resolution.locator(".sla-clock__headline").inner_text()
    )
    assert resolution.locator(".sla-clock__when").inner_text().startswith("due ")
    assert "Browser test: around the clock · 24×7" in resolution.inner_text()
    assert resolution.locator("progress.sla-bar").get_attribute("value") in ("58", "59")

    # --- The explanation: a link without JS, the replay once opened. -----------------
    explain = panel.locator("details.sla-explain").nth(2)
    fallback = explain.locator(".sla-explain__body a")  # hidden while closed
    assert fallback.text_content() == "Show the counting of the resolution clock"
    assert (fallback.get_attribute("href") or "").endswith("/sla/#sla-resolution")
    explain.locator("summary").click()
    reason = explain.locator(".sla-why__reason")
    reason.wait_for()
    assert reason.inner_text().startswith("Goal 4 h round the clock (24×7) · 2 h 2")
    assert explain.locator(".sla-segment--running").count() == 2
    assert explain.locator(".sla-segment--paused").count() == 1
    changes = explain.locator(".sla-change strong").all_inner_texts()
    assert changes == ["Started", "Paused", "Resumed"]
    page.locator("#ticket-sla").scroll_into_view_if_needed()
    screenshot("ticket-sla")

    # --- Breaching soon: the late one first, the paused one absent. ------------------
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Desk").click()
    page.wait_for_url("**/t/acme/desk/")
    page.get_by_role("navigation", name="Queues").get_by_role("link", name="Breaching soon").click()
    page.wait_for_url("**queue=breaching")
    assert page.locator("#queue-h").inner_text().startswith("Breaching soon")
    page.locator("#queue-filters").get_by_label("Tag").fill(TAG)
    page.locator("#queue-filters").get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**tag={TAG}*")
    rows = page.locator("#queue-rows tr[data-ticket]")
    assert [rows.nth(i).get_attribute("data-key") for i in range(rows.count())] == [
        seeded["late"].key,
        seeded["soon"].key,
    ]
    badge = rows.nth(0).locator(".sla-badge")
    assert re.fullmatch(r"overdue 1 h( 1 min)?", badge.inner_text())
    assert (badge.get_attribute("title") or "").startswith("Next response: overdue by 1 h")
    assert re.fullmatch(r"3 h (30|29) min", rows.nth(1).locator(".sla-badge").inner_text())
    header = page.locator("#queue-table thead th").filter(has_text="SLA")
    assert header.get_attribute("aria-sort") == "ascending"
    screenshot("breaching-soon")

    # The SLA page without JS tells the same story.
    page.goto(f"/t/acme/desk/tickets/{seeded['late'].key}/sla/")
    assert (
        page.locator("#sla-next_response .sla-why__reason")
        .inner_text()
        .startswith("Goal 1 h round the clock (24×7)")
    )
    screenshot("sla-page")
    assert violations == []
