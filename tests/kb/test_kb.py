"""The knowledge base: who reads what (pages, search, snippets, suggestions,
API), revisions, the review workflow, feedback, deflections and the overdue sweep."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kb import selectors, services
from kb.models import Article, ArticleStatus, Deflection, ReviewNotice
from servicedesk.models import Role
from servicedesk.search import engine
from tests.conftest import client_for
from tests.servicedesk.factories import ApiTokenFactory, TeamFactory
from tickets import services as ticket_services
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def publish(world, article):
    services.article_submit(actor=world.members[Role.AGENT], article=article)
    return services.article_review(actor=world.members[Role.LEAD], article=article, publish=True)


def write(world, title, body="", *, audience="requesters", teams=(), role=Role.AGENT, **extra):
    return services.article_create(
        actor=world.members[role],
        fields=services.ArticleFields(
            title=title, body=body, audience=audience, teams=list(teams), **extra
        ),
    )


@pytest.fixture
def library(world):
    security = TeamFactory(tenant=world.tenant, name="Security", slug="security")
    security.members.add(world.user(Role.LEAD))
    public = publish(world, write(world, "Connect to the VPN", "Open the client, sign in."))
    internal = publish(
        world, write(world, "VPN split tunnel internals", "Ranges zanzibarite", audience="agents")
    )
    restricted = publish(
        world,
        write(
            world,
            "VPN breach containment",
            "Isolate quixotically",
            audience="teams",
            teams=[security],
            role=Role.LEAD,
        ),
    )
    draft = write(world, "VPN draft notes", "Unfinished")
    return {
        "public": public,
        "internal": internal,
        "restricted": restricted,
        "draft": draft,
        "security": security,
    }


def search_ids(world, role, text, *, portal=False):
    membership = world.members[role]
    if portal:
        membership = selectors.portal_reader(membership)
    return set(engine.search(world.tenant, membership, text, kinds=["article"]).ids)


def test_internal_and_team_articles_never_reach_a_requester(world, library):
    requester = client_for(world.user(Role.REQUESTER))
    slug = world.tenant.slug
    for name in ("internal", "restricted", "draft"):
        url = reverse("kb:portal_article", args=[slug, library[name].pk])
        assert requester.get(url).status_code == 404
    assert (
        requester.get(reverse("kb:portal_article", args=[slug, library["public"].pk])).status_code
        == 200
    )
    # Search, snippets and suggestions.
    assert search_ids(world, Role.REQUESTER, "vpn") == {library["public"].pk}
    assert search_ids(world, Role.REQUESTER, "zanzibarite") == set()
    assert search_ids(world, Role.REQUESTER, "quixotically") == set()
    assert search_ids(world, Role.REQUESTER, "zanzibarit") == set()  # nor by typo
    listing = requester.get(reverse("kb:portal_list", args=[slug]), {"q": "vpn"}).content.decode()
    suggest = requester.get(reverse("kb:portal_suggest", args=[slug]), {"title": "vpn"})
    for page in (listing, suggest.content.decode()):
        assert "Connect to the VPN" in page
        for secret in ("split tunnel", "zanzibarite", "breach", "quixotically", "draft"):
            assert secret not in page
    # An agent in the portal reads as a requester.
    assert search_ids(world, Role.AGENT, "vpn", portal=True) == {library["public"].pk}


def test_a_team_article_never_reaches_another_team(world, library):
    agent = client_for(world.user(Role.AGENT))
    slug = world.tenant.slug
    url = reverse("kb:desk_article", args=[slug, library["restricted"].pk])
    assert agent.get(url).status_code == 404
    assert search_ids(world, Role.AGENT, "vpn") == {
        library["public"].pk,
        library["internal"].pk,
        library["draft"].pk,
    }
    assert search_ids(world, Role.AGENT, "quixotically") == set()
    desk = agent.get(reverse("kb:desk_list", args=[slug]), {"q": "vpn"}).content.decode()
    assert "breach" not in desk
    assert "quixotically" not in desk
    # The Security team's lead reads it; the admin reads everything.
    assert library["restricted"].pk in search_ids(world, Role.LEAD, "quixotically")
    assert library["restricted"].pk in search_ids(world, Role.ADMIN, "quixotically")
    # Joining the team opens it.
    library["security"].members.add(world.user(Role.AGENT))
    assert agent.get(url).status_code == 200


def test_the_api_shows_each_caller_what_they_may_read(world, library):
    def api_titles(role, path="kb/articles/", **params):
        token = ApiTokenFactory(tenant=world.tenant, user=world.user(role), scopes=["kb:read"])
        response = client_for(None).get(
            f"/api/v1/{path}", params, HTTP_AUTHORIZATION=f"Bearer {token.secret}"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        return {row["title"] for row in body["results"]}

    assert api_titles(Role.REQUESTER) == {"Connect to the VPN"}
    assert "VPN breach containment" not in api_titles(Role.AGENT)
    assert api_titles(Role.REQUESTER, "search/", q="vpn", kind="article") == {"Connect to the VPN"}
    assert "VPN breach containment" not in api_titles(Role.AGENT, "search/", q="vpn")
    token = ApiTokenFactory(
        tenant=world.tenant, user=world.user(Role.REQUESTER), scopes=["kb:read"]
    )
    response = client_for(None).get(
        f"/api/v1/kb/articles/{library['internal'].pk}/",
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
    )
    assert response.status_code == 404


def test_the_search_api_needs_each_kinds_scope_and_refuses_bad_input(world, library):
    token = ApiTokenFactory(tenant=world.tenant, user=world.user(Role.AGENT), scopes=["kb:read"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token.secret}"}
    client = client_for(None)
    response = client.get("/api/v1/search/", {"q": "vpn", "kind": "ticket"}, **headers)
    assert response.json()["results"] == []
    assert client.get("/api/v1/search/", {"q": "x", "kind": "nope"}, **headers).status_code == 400
    assert client.get("/api/v1/search/", {"q": "x", "cursor": "zz"}, **headers).status_code == 400
    for hostile in ("&|!():*", '"vpn', "a" * 10_000):
        response = client.get("/api/v1/search/", {"q": hostile}, **headers)
        assert response.status_code == 200
    assert client.get("/api/v1/search/", {"q": "vpn\x00"}, **headers).status_code == 400


def test_every_save_is_a_revision_with_a_diff_and_restore(world):
    agent = world.members[Role.AGENT]
    article = write(world, "Printer jams", "Fan the paper.")
    fields = services.ArticleFields(title="Printer jams", body="Fan the paper.\nUse 80 g paper.")
    article = services.article_update(actor=agent, article=article, fields=fields)
    # Saving the same text again is no new revision.
    article = services.article_update(actor=agent, article=article, fields=fields)
    revisions = list(selectors.article_revisions(article=article))
    assert [r.number for r in revisions] == [2, 1]
    lines = services.revision_diff(revisions[1], revisions[0])
    assert ("+", "Use 80 g paper.") in lines
    article = services.revision_restore(actor=agent, article=article, revision=revisions[1])
    assert article.body == "Fan the paper."
    newest = selectors.article_revisions(article=article).first()
    assert (newest.number, newest.note) == (3, "Restored revision 1")
    client = client_for(world.user(Role.AGENT))
    slug = world.tenant.slug
    page = client.get(reverse("kb:desk_diff", args=[slug, article.pk]), {"a": 2, "b": 3})
    assert page.status_code == 200
    assert "kb-diff__line--removed" in page.content.decode()
    assert (
        client.get(reverse("kb:desk_diff", args=[slug, article.pk]), {"a": 99, "b": 3}).status_code
        == 404
    )
    response = client.post(reverse("kb:desk_restore", args=[slug, article.pk, 2]))
    assert response.status_code == 302
    assert Article.objects.for_tenant(world.tenant).get(pk=article.pk).body.endswith("80 g paper.")


def test_the_review_workflow(world):
    agent, lead = world.members[Role.AGENT], world.members[Role.LEAD]
    article = write(world, "Reset MFA", "Call the desk.")
    with pytest.raises(ValidationError):
        services.article_review(actor=lead, article=article, publish=True)  # not submitted
    article = services.article_submit(actor=agent, article=article)
    assert article.status == ArticleStatus.IN_REVIEW
    with pytest.raises(PermissionDenied):
        services.article_review(actor=agent, article=article, publish=True)  # not a reviewer
    with pytest.raises(ValidationError):
        services.article_review(actor=lead, article=article, publish=False, comment=" ")
    article = services.article_review(
        actor=lead, article=article, publish=False, comment="Add the phone number."
    )
    assert (article.status, article.review_comment) == ("draft", "Add the phone number.")
    services.article_submit(actor=agent, article=article)
    article = services.article_review(actor=lead, article=article, publish=True)
    assert article.status == ArticleStatus.PUBLISHED
    assert article.review_due == (article.last_reviewed_at + services.REVIEW_PERIOD).date()
    steps = [s.decision for s in selectors.review_history(article=article)]
    assert steps == ["published", "submitted", "sent_back", "submitted"]


def test_the_owners_team_reviews_someone_elses_article(world):
    world.team.members.add(world.user(Role.AGENT))
    other = write(world, "Wi-Fi guest code", role=Role.LEAD, owner_team=world.team)
    services.article_submit(actor=world.members[Role.LEAD], article=other)
    done = services.article_review(actor=world.members[Role.AGENT], article=other, publish=True)
    assert done.status == ArticleStatus.PUBLISHED
    own = write(world, "Own article", owner_team=world.team)
    services.article_submit(actor=world.members[Role.AGENT], article=own)
    with pytest.raises(PermissionDenied):
        services.article_review(actor=world.members[Role.AGENT], article=own, publish=True)


def test_overdue_articles_are_marked_and_owners_told_once_per_period(world, foreign):
    article = publish(world, write(world, "Laptop battery"))
    Article.objects.for_tenant(world.tenant).filter(pk=article.pk).update(
        review_due=date(2026, 1, 1)
    )
    first = services.articles_mark_overdue(today=date(2026, 1, 10))
    again = services.articles_mark_overdue(today=date(2026, 1, 11))
    assert (first.marked, first.notices) == (1, 1)
    assert (again.marked, again.notices) == (0, 0)
    notices = list(ReviewNotice.objects.for_tenant(world.tenant))
    assert [(n.period, n.recipient) for n in notices] == [
        (date(2026, 1, 1), world.user(Role.AGENT).email)
    ]
    assert services.review_notice_deliver(notice_id=notices[0].pk) is True
    assert services.review_notice_deliver(notice_id=notices[0].pk) is False
    assert len(mail.outbox) == 1
    assert "Review due" in mail.outbox[0].subject
    # Reviewed again, it is no longer overdue; the next period tells the owner once more.
    article.refresh_from_db()
    article = services.article_review(actor=world.members[Role.LEAD], article=article, publish=True)
    assert article.is_overdue is False
    later = article.review_due + timedelta(days=1)
    services.articles_mark_overdue(today=later)
    services.articles_mark_overdue(today=later)
    periods = ReviewNotice.objects.for_tenant(world.tenant).order_by("period")
    assert list(periods.values_list("period", flat=True)) == [date(2026, 1, 1), article.review_due]
    client = client_for(world.user(Role.AGENT))
    page = client.get(reverse("kb:desk_overdue", args=[world.tenant.slug])).content.decode()
    assert "Laptop battery" in page


def test_feedback_counts_once_per_reader_and_changes(world, library):
    article = library["public"]
    reader = world.members[Role.REQUESTER]
    services.feedback_give(reader=reader, article=article, is_helpful=True)
    services.feedback_give(reader=reader, article=article, is_helpful=False, comment="Still no")
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    client = client_for(world.user(Role.REQUESTER))
    url = reverse("kb:portal_feedback", args=[world.tenant.slug, article.pk])
    assert client.post(url, {"helpful": "maybe"}).status_code == 400
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)


def test_a_deflection_counts_unless_a_ticket_follows(
    world, library, django_capture_on_commit_callbacks
):
    article = library["public"]
    client = client_for(world.user(Role.REQUESTER))
    url = reverse("kb:portal_article", args=[world.tenant.slug, article.pk])
    client.get(url, {"from": "report"})
    client.get(url, {"from": "report"})  # a reload is the same deflection
    client.get(url)  # not from the form: a view only
    article.refresh_from_db()
    assert (article.views, article.deflections) == (3, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.ticket_create(
            actor=Actor.of(world.members[Role.REQUESTER]), kind="incident", title="Still broken"
        )
    article.refresh_from_db()
    assert article.deflections == 0
    assert Deflection.objects.for_tenant(world.tenant).get().ticket_filed is True


def test_hostile_markdown_renders_as_text(world):
    body = "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    article = publish(world, write(world, "<b>Hostile</b>", body))
    page = client_for(world.user(Role.REQUESTER)).get(
        reverse("kb:portal_article", args=[world.tenant.slug, article.pk])
    )
    html = page.content.decode()
    assert "<script>alert" not in html
    assert 'href="javascript' not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;Hostile&lt;/b&gt;" in html


def test_an_agent_makes_a_draft_from_a_resolved_ticket(world):
    agent = Actor.of(world.members[Role.AGENT])
    ticket = ticket_services.ticket_create(
        actor=agent, kind="incident", title="Outlook asks for password", description="Loops."
    )
    ticket_services.ticket_transition(actor=agent, ticket=ticket, status="in_progress")
    ticket_services.ticket_transition(
        actor=agent,
        ticket=ticket,
        status="resolved",
        resolution_code="solved",
        resolution_notes="Cleared the credential manager.",
    )
    client = client_for(world.user(Role.AGENT))
    response = client.post(reverse("kb:desk_from_ticket", args=[world.tenant.slug, ticket.key]))
    assert response.status_code == 302
    article = Article.objects.for_tenant(world.tenant).get(source_ticket=ticket)
    assert article.status == ArticleStatus.DRAFT
    assert "Loops." in article.body
    assert "Cleared the credential manager." in article.body
    assert selectors.linked_ticket_count(article=article) == 1
    panel = client.get(
        reverse("kb:desk_ticket_articles", args=[world.tenant.slug, ticket.key])
    ).content.decode()
    assert "Outlook asks for password" in panel


def test_the_desk_list_costs_the_same_for_5_or_50_articles(world, django_assert_max_num_queries):
    client = client_for(world.user(Role.AGENT))
    url = reverse("kb:desk_list", args=[world.tenant.slug])

    def count(n):
        for i in range(n):
            write(world, f"Article {i}")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    client.get(url)  # the session's first read
    five = count(5)
    fifty = count(45)
    assert five == fifty
