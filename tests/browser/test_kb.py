"""The knowledge base as people use it: a requester about to report a VPN
problem finds the article beside the form, says it helped and leaves (a
deflection, no ticket); an agent turns a resolved ticket into a draft."""

from __future__ import annotations

import pytest

from kb.models import Article, Deflection
from servicedesk.models import Tenant
from tests.browser.conftest import csp_watch, sign_in
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_requester_is_deflected_by_the_vpn_article(page, demo, screenshot):
    violations: list[str] = []
    csp_watch(page, violations)
    acme = Tenant.objects.get(slug="acme")
    tickets_before = Ticket.objects.for_tenant(acme).count()
    sign_in(page, "user@acme.example")
    page.wait_for_url("**/t/acme/portal/")
    page.get_by_role("link", name="Report a problem").first.click()
    page.wait_for_url("**/t/acme/portal/new/")
    page.get_by_label("Summary").press_sequentially("vpn", delay=60)
    suggestions = page.get_by_role("list", name="Articles that may help")
    link = suggestions.get_by_role("link", name="Connect to the VPN from home")
    link.wait_for()
    screenshot("report-suggestions")
    link.click()
    page.wait_for_url("**/portal/kb/*/?from=report")
    assert page.get_by_role("heading", name="Connect to the VPN from home").is_visible()
    page.get_by_role("button", name="Yes, it did").click()
    page.get_by_text("Glad it helped").wait_for()
    screenshot("article-helpful")
    # The requester leaves without sending the form.
    page.goto("/t/acme/portal/")
    article = Article.objects.for_tenant(acme).get(title="Connect to the VPN from home")
    deflection = Deflection.objects.for_tenant(acme).get(article=article)
    assert deflection.ticket_filed is False
    assert article.helpful_yes >= 1
    assert Ticket.objects.for_tenant(acme).count() == tickets_before
    assert violations == []


def test_an_agent_creates_an_article_from_a_resolved_ticket(page, demo, screenshot):
    violations: list[str] = []
    csp_watch(page, violations)
    acme = Tenant.objects.get(slug="acme")
    ticket = (
        Ticket.objects.for_tenant(acme)
        .filter(status=Status.RESOLVED, is_confidential=False)
        .exclude(resolution_notes="")
        .order_by("pk")
        .first()
    )
    assert ticket is not None
    sign_in(page, "agent@acme.example")
    page.wait_for_url("**/t/acme/desk/**")
    page.goto(f"/t/acme/desk/tickets/{ticket.key}/")
    panel = page.locator("#ticket-kb")
    panel.get_by_role("heading", name="Suggested").wait_for()
    screenshot("ticket-kb-panel")
    panel.get_by_role("button", name="Create article from this ticket").click()
    page.wait_for_url("**/desk/kb/*/edit/")
    assert page.get_by_label("Title").input_value() == ticket.title
    assert ticket.resolution_notes.strip()[:30] in page.get_by_label("Body").input_value()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved as a new revision.").wait_for()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review.").wait_for()
    screenshot("article-in-review")
    article = Article.objects.for_tenant(acme).get(source_ticket=ticket)
    assert article.status == "in_review"
    assert violations == []
