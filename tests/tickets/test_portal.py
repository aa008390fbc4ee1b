"""The requesters' portal, through its views: report, my requests, the
conversation, reopen and confirm -- and what must never show there."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import Role
from tests.servicedesk.factories import MembershipFactory
from tests.tickets.factories import TicketFactory
from tickets import services
from tickets.models import Attachment, Comment, Status, Ticket, TicketEvent
from tickets.portal import PAGE_SIZE
from tickets.services import Actor

SLUG = "ours"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def home_url(**query: str) -> str:
    url = reverse("portal", args=[SLUG])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def report_url() -> str:
    return reverse("tickets:portal_report", args=[SLUG])


def ticket_url(key: str, action: str = "") -> str:
    name = f"tickets:portal_{action}" if action else "tickets:portal_ticket"
    return reverse(name, args=[SLUG, key])


@pytest.fixture
def me(world, login):
    """The requester's browser."""
    return login(world.user(Role.REQUESTER))


def report(client, **fields):
    data = {
        "kind": "incident",
        "title": "The VPN drops every few minutes",
        "description": "Since this morning.",
        "affected": "me",
        "urgency": "2",
        **fields,
    }
    return client.post(report_url(), data)


def text_of(response) -> str:
    return response.content.decode()


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.for_tenant(ticket.tenant_id).get(pk=ticket.pk)


# --- Report --------------------------------------------------------------------------------


class TestReport:
    def test_the_form_asks_in_plain_words(self, me):
        page = text_of(me.get(report_url()))
        for words in (
            "Report a problem",
            "How many people are affected?",
            "Just me",
            "My team",
            "Many people or the whole organisation",
            "How urgent is it?",
            "Markdown",
        ):
            assert words in page
        assert 'type="file" name="attachments" multiple' in page

    def test_ask_for_something_preselects_a_request(self, me):
        page = text_of(me.get(report_url() + "?kind=request"))
        assert "<h1>Ask for something</h1>" in page
        assert re.search(r'value="request"[^>]*checked', page)

    @pytest.mark.parametrize(("affected", "impact"), [("me", 3), ("team", 2), ("many", 1)])
    def test_who_is_affected_sets_the_impact(self, world, me, affected, impact):
        response = report(me, affected=affected, urgency="1")
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        assert (ticket.impact, ticket.urgency) == (impact, 1)
        assert ticket.priority == impact + 1 - 1  # the default matrix
        assert ticket.source == "portal"
        assert ticket.kind == "incident"
        assert ticket.requester == world.user(Role.REQUESTER)
        assert response.status_code == 302
        assert response["Location"] == ticket_url(ticket.key)

    def test_urgency_defaults_to_medium_and_a_request_is_a_request(self, world, me):
        data = {"kind": "request", "title": "Access to the sales report", "affected": "me"}
        assert me.post(report_url(), data).status_code == 400  # urgency is asked for
        page = me.get(report_url())
        assert re.search(r'name="urgency" value="2"[^>]*checked', text_of(page))
        report(me, kind="request")
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        assert ticket.key == "REQ-1"
        assert ticket.urgency == 2

    def test_files_are_attached_and_the_page_says_thanks(self, world, me, media):
        files = [
            SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"),
            SimpleUploadedFile("vpn.log", b"disconnected\n", "text/plain"),
        ]
        response = report(me, attachments=files)
        ticket = Ticket.objects.for_tenant(world.tenant).get()
        names = sorted(a.filename for a in Attachment.objects.for_tenant(world.tenant))
        assert names == ["screen.png", "vpn.log"]
        assert len(stored_files(media)) == 2
        page = me.get(response["Location"])
        text = text_of(page)
        assert f"Thanks — we received {ticket.key}" in text
        assert "screen.png" in text
        assert "vpn.log" in text

    def test_errors_show_next_to_the_fields_and_nothing_is_created(self, world, me):
        response = report(me, title="   ", affected="everyone", urgency="9")
        assert response.status_code == 400
        form = response.context["form"]
        assert set(form.errors) == {"title", "affected", "urgency"}
        assert 'aria-invalid="true"' in text_of(response)
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    def test_a_title_that_is_only_blanks_gets_the_services_message(self, world, me):
        # The form strips; the service collapses whitespace and refuses.
        response = report(me, title="\u2003\u2003")
        assert response.status_code == 400
        assert not Ticket.objects.for_tenant(world.tenant).exists()

    def test_an_empty_file_is_named_and_nothing_is_written(self, world, me, media):
        files = [
            SimpleUploadedFile("fine.txt", b"fine"),
            SimpleUploadedFile("blank.txt", b""),
        ]
        response = report(me, attachments=files)
        assert response.status_code == 400
        assert "“blank.txt” is empty" in text_of(response)
        assert "choose them again" in text_of(response)
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert stored_files(media) == []

    def test_a_file_over_the_limit_is_refused_clearly(self, world, me, media, settings):
        settings.TICKET_ATTACHMENT_MAX_BYTES = 1024
        response = report(me, attachments=[SimpleUploadedFile("dump.bin", b"x" * 2048)])
        assert response.status_code == 400
        assert "“dump.bin” is 2.0\xa0KB; files can be at most 1.0\xa0KB." in text_of(response)
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert not Attachment.objects.for_tenant(world.tenant).exists()
        assert stored_files(media) == []

    def test_the_service_is_the_last_wall_for_file_size(self, world, me, media, settings):
        # A limit that changes between the form's check and the service's:
        # the service refuses, the whole report rolls back, no file stays.
        settings.TICKET_ATTACHMENT_MAX_BYTES = 10
        from tickets import portal_forms

        original = portal_forms.AttachmentsField.clean

        def lenient(self, data, initial=None):
            settings.TICKET_ATTACHMENT_MAX_BYTES = 10**9
            try:
                return original(self, data, initial)
            finally:
                settings.TICKET_ATTACHMENT_MAX_BYTES = 10

        portal_forms.AttachmentsField.clean = lenient  # type: ignore[method-assign]
        try:
            files = [SimpleUploadedFile("a.txt", b"ok"), SimpleUploadedFile("b.txt", b"x" * 50)]
            response = report(me, attachments=files)
        finally:
            portal_forms.AttachmentsField.clean = original  # type: ignore[method-assign]
        assert response.status_code == 400
        assert "b.txt is" in text_of(response)
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert stored_files(media) == []

    @pytest.mark.parametrize(
        ("sent_name", "shown_name"),
        [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\boot.ini", "boot.ini"),
            # The override may be dropped by the upload parser or blanked by the service.
            ("a\u202egnp.exe", None),
            ("<img src=x onerror=alert(1)>.txt", None),
        ],
    )
    def test_hostile_file_names_are_made_harmless(self, world, me, media, sent_name, shown_name):
        report(me, attachments=[SimpleUploadedFile(sent_name, b"data")])
        attachment = Attachment.objects.for_tenant(world.tenant).get()
        if shown_name is not None:
            assert attachment.filename == shown_name
        assert "/" not in attachment.filename
        assert "\u202e" not in attachment.filename
        assert [p.parent for p in stored_files(media)] == [
            media / "attachments" / str(world.tenant.pk)
        ]
        page = text_of(me.get(ticket_url(attachment.ticket.key)))
        assert "<img src=x" not in page
        assert "\u202e" not in page

    def test_a_ten_kilobyte_name_is_cut_short(self, world, me):
        report(me, attachments=[SimpleUploadedFile("n" * 10_000 + ".pdf", b"%PDF-1.4 data")])
        attachment = Attachment.objects.for_tenant(world.tenant).get()
        assert len(attachment.filename) <= 150
        assert attachment.filename.endswith(".pdf")

    def test_nul_bytes_in_a_name_never_reach_the_page(self, world, me):
        report(me, attachments=[SimpleUploadedFile("evil\x00.html.txt", b"data")])
        attachment = Attachment.objects.for_tenant(world.tenant).get()
        assert "\x00" not in attachment.filename
        assert "\x00" not in text_of(me.get(ticket_url(attachment.ticket.key)))

    def test_an_html_file_claiming_to_be_a_png_is_stored_as_text(self, world, me):
        fake = SimpleUploadedFile("cat.png", b"<html><script>alert(1)</script></html>", "image/png")
        report(me, attachments=[fake])
        assert Attachment.objects.for_tenant(world.tenant).get().content_type == "text/plain"

    def test_a_get_of_the_form_changes_nothing(self, world, me):
        me.get(report_url() + "?title=x&kind=problem")
        assert not Ticket.objects.for_tenant(world.tenant).exists()
        assert "Report a problem" in text_of(me.get(report_url() + "?kind=problem"))


# --- My requests -----------------------------------------------------------------------------


class TestMyRequests:
    def test_open_and_closed_in_plain_words(self, world, me, requester, agent):
        waiting = services.ticket_create(actor=requester, kind="incident", title="Printer jams")
        services.ticket_transition(actor=agent, ticket=waiting, status="in_progress")
        services.ticket_transition(actor=agent, ticket=waiting, status="pending")
        working = services.ticket_create(actor=requester, kind="request", title="New laptop")
        services.comment_add(actor=agent, ticket=working, body="Ordering it.")
        resolved = services.ticket_create(actor=requester, kind="incident", title="Wi-Fi down")
        services.ticket_transition(actor=agent, ticket=resolved, status="in_progress")
        services.ticket_transition(actor=agent, ticket=resolved, status="resolved",
                                   resolution_code="solved")  # fmt: skip
        done = services.ticket_create(actor=requester, kind="incident", title="Old mouse")
        services.ticket_transition(actor=requester, ticket=done, status="cancelled")

        page = text_of(me.get(home_url()))
        assert "Waiting for you" in page
        assert "We&#x27;re working on it" in page
        assert "Resolved — confirm or reply" in page
        assert "Old mouse" not in page
        for ticket in (waiting, working, resolved):
            assert ticket.key in page
            assert ticket_url(ticket.key) in page
        assert 'Open <span class="portal-tabs__count">3</span>' in page
        assert 'Closed <span class="portal-tabs__count">1</span>' in page
        assert report_url() in page
        assert "Report a problem" in page
        assert "2 requests need you" in page
        assert page.count("portal-row--attention") == 2

        closed = text_of(me.get(home_url(show="closed")))
        assert "Old mouse" in closed
        assert "Cancelled" in closed
        assert "Printer jams" not in closed

    def test_only_my_own_and_watched_tickets(self, world, me, requester, agent):
        mine = services.ticket_create(actor=requester, kind="incident", title="Mine")
        colleague = MembershipFactory(tenant=world.tenant, role=Role.REQUESTER).user
        theirs = TicketFactory(tenant=world.tenant, requester=colleague, title="Someone else's")
        watched = TicketFactory(tenant=world.tenant, requester=colleague, title="I follow this")
        services.watcher_add(actor=agent, ticket=watched, user=requester.user)
        page = text_of(me.get(home_url()))
        assert mine.title in page
        assert watched.title in page
        assert "you follow it" in page
        assert theirs.title not in page

    def test_empty_states_invite_a_report(self, me):
        page = text_of(me.get(home_url()))
        assert "Nothing open right now" in page
        assert report_url() in page
        assert "No closed requests yet" in text_of(me.get(home_url(show="closed")))

    def test_pages_of_twenty(self, world, me):
        user = world.user(Role.REQUESTER)
        for n in range(PAGE_SIZE + 3):
            TicketFactory(tenant=world.tenant, requester=user, title=f"Ticket number {n:03d}")
        first = me.get(home_url())
        assert len(first.context["rows"]) == PAGE_SIZE
        assert "Page 1 of 2" in text_of(first)
        second = me.get(home_url(page="2"))
        assert len(second.context["rows"]) == 3
        assert me.get(home_url(page="nonsense")).status_code == 200
        assert me.get(home_url(page="99")).context["page"].number == 2

    @pytest.mark.parametrize("rows", [5, 50])
    def test_query_count_does_not_grow_with_the_tickets(
        self, world, me, rows, django_assert_num_queries
    ):
        user = world.user(Role.REQUESTER)
        tickets = [TicketFactory(tenant=world.tenant, requester=user) for _ in range(rows)]
        services.ticket_add_tag(actor=Actor.of(world.members[Role.AGENT]), ticket=tickets[0],
                                tag="vpn")  # fmt: skip
        for ticket in tickets[::2]:
            services.ticket_assign(
                actor=Actor.of(world.members[Role.AGENT]), ticket=ticket,
                assignee=world.user(Role.AGENT),
            )  # fmt: skip
        me.get(home_url())  # the session is warm
        # Session, user, memberships, the row-level wall up; the tab counts,
        # one page of tickets (with their people), their tags; the wall down.
        with django_assert_num_queries(8):
            response = me.get(home_url())
        assert len(response.context["rows"]) == min(rows, PAGE_SIZE)

    def test_agents_see_their_own_requests_like_anyone(self, world, login, agent, requester):
        own = services.ticket_create(actor=agent, kind="incident", title="My monitor flickers")
        other = services.ticket_create(actor=requester, kind="incident", title="Not the agent's")
        page = text_of(login(agent.user).get(home_url()))
        assert own.title in page
        assert other.title not in page


# --- One request ---------------------------------------------------------------------------


@pytest.fixture
def ticket(requester) -> Ticket:
    return services.ticket_create(
        actor=requester, kind="incident", title="Outlook crashes", description="On start."
    )


class TestRequestPage:
    def test_shows_the_public_conversation(self, me, ticket, agent):
        services.comment_add(actor=agent, ticket=ticket, body="Could you try **safe mode**?")
        page = text_of(me.get(ticket_url(ticket.key)))
        assert "Outlook crashes" in page
        assert "<p>On start.</p>" in page
        assert "<strong>safe mode</strong>" in page
        assert "We&#x27;re working on it" in page
        assert ticket_url(ticket.key, "reply") in page

    def test_internal_notes_and_files_never_show(self, world, me, login, ticket, agent, requester):
        services.comment_add(
            actor=agent, ticket=ticket, body="INTERNAL-NOTE-TEXT the user is on the old build",
            is_internal=True, files=[ContentFile(b"secret", "internal-server.log")],
        )  # fmt: skip
        services.attachment_add(
            actor=agent, ticket=ticket, upload=ContentFile(b"x", "internal-loose.txt"),
            is_internal=True,
        )  # fmt: skip
        services.ticket_update(actor=agent, ticket=ticket, impact=1,
                               tags=["secret-tag-internal"])  # fmt: skip
        services.ticket_transition(actor=agent, ticket=ticket, status="in_progress",
                                   note="INTERNAL-TRANSITION-NOTE")  # fmt: skip
        services.comment_add(actor=agent, ticket=ticket, body="Public answer")
        internal_ids = list(
            Attachment.objects.for_tenant(world.tenant)
            .filter(is_internal=True)
            .values_list("pk", flat=True)
        )
        secrets = ["INTERNAL-NOTE-TEXT", "internal-server.log", "internal-loose.txt",
                   "secret-tag-internal", "INTERNAL-TRANSITION-NOTE", "Internal note"]  # fmt: skip
        # The requester, and an agent reading their own request in the portal.
        own = services.ticket_create(actor=agent, kind="incident", title="Agent's own")
        services.comment_add(actor=agent, ticket=own, body="INTERNAL-NOTE-TEXT on own",
                             is_internal=True)  # fmt: skip
        pages = [
            me.get(home_url()),
            me.get(ticket_url(ticket.key)),
            me.get(home_url(show="closed")),
            login(agent.user).get(ticket_url(own.key)),
            login(agent.user).get(home_url()),
        ]
        for response in pages:
            assert response.status_code == 200
            text = text_of(response)
            for secret in secrets:
                assert secret not in text, (response.request["PATH_INFO"], secret)
            for pk in internal_ids:
                assert f"/files/{pk}/" not in text
        assert "Public answer" in text_of(pages[1])
        # An HTMX answer is the same page part, with the same walls.
        partial = me.post(ticket_url(ticket.key, "reply"), {"body": "ok"}, HTTP_HX_REQUEST="true")
        for secret in secrets:
            assert secret not in text_of(partial)

    def test_another_requesters_ticket_is_not_found(self, world, login, ticket, media):
        services.attachment_add(actor=Actor.of(world.members[Role.REQUESTER]), ticket=ticket,
                                upload=ContentFile(b"x", "mine.txt"))  # fmt: skip
        stranger = login(MembershipFactory(tenant=world.tenant, role=Role.REQUESTER).user)
        for action in ("", "reply", "reopen", "confirm", "withdraw"):
            if action:
                response = stranger.post(ticket_url(ticket.key, action), {"body": "hi"})
            else:
                response = stranger.get(ticket_url(ticket.key))
            assert response.status_code == 404, action
        assert Comment.objects.for_tenant(world.tenant).count() == 0
        assert reload(ticket).status == "new"

    def test_a_foreign_tenants_member_finds_nothing(self, world, foreign, login, ticket):
        outsider = login(foreign.user(Role.ADMIN))
        assert outsider.get(ticket_url(ticket.key)).status_code == 404
        theirs = services.ticket_create(
            actor=Actor.of(foreign.members[Role.REQUESTER]), kind="incident", title="Theirs"
        )
        # Their key, asked for in our tenant, even by our admin: nothing.
        for role in (Role.REQUESTER, Role.ADMIN):
            response = login(world.user(role)).get(ticket_url(theirs.key))
            assert response.status_code == 404
            assert "Theirs" not in text_of(response)

    @pytest.mark.parametrize("key", ["INC-0", "XYZ-1", "INC-99999999999", "inc-1'--", "INC-2"])
    def test_odd_keys_are_not_found(self, me, ticket, key):
        assert me.get(reverse("tickets:portal_ticket", args=[SLUG, key])).status_code == 404

    def test_anonymous_visitors_sign_in_first(self, client, ticket):
        response = client.get(ticket_url(ticket.key))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_changes_are_post_only(self, me, ticket):
        for action in ("reply", "reopen", "confirm", "withdraw"):
            assert me.get(ticket_url(ticket.key, action)).status_code == 405
        assert reload(ticket).status == "new"


@pytest.mark.parametrize("replies", [2, 20])
def test_the_request_page_query_count_does_not_grow_with_the_conversation(
    world, me, ticket, agent, requester, replies, django_assert_num_queries
):
    for n in range(replies):
        author = agent if n % 2 else requester
        services.comment_add(actor=author, ticket=ticket, body=f"Message {n}",
                             files=[ContentFile(b"x", f"file-{n}.txt")])  # fmt: skip
    me.get(ticket_url(ticket.key))
    # Session, user, memberships, wall up; the ticket; comments, their files,
    # events; which authors are agents; the ticket's own files; the wall down.
    with django_assert_num_queries(11):
        response = me.get(ticket_url(ticket.key))
    assert f"Message {replies - 1}" in text_of(response)


def test_only_agents_replies_are_badged_support(world, me, login, ticket, agent):
    colleague = MembershipFactory(tenant=world.tenant, role=Role.REQUESTER).user
    services.watcher_add(actor=agent, ticket=ticket, user=colleague)
    login(colleague).post(ticket_url(ticket.key, "reply"), {"body": "Same here"})
    services.comment_add(actor=agent, ticket=ticket, body="Looking into it")
    page = text_of(me.get(ticket_url(ticket.key)))
    assert page.count('<span class="portal-badge">Support</span>') == 1
    assert page.index("Same here") < page.index("portal-badge") < page.index("Looking into it")


class _TagAttributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend(attrs)


def attributes_of_tags(html: str) -> list[tuple[str, str | None]]:
    """(name, value) of every attribute of every tag in ``html``."""
    parser = _TagAttributes()
    parser.feed(html)
    return parser.attributes


class TestConversation:
    def test_reply_with_a_file(self, world, me, ticket):
        response = me.post(
            ticket_url(ticket.key, "reply"),
            {"body": "It happens with *every* mail.", "attachments": [
                SimpleUploadedFile("crash.txt", b"stack trace")]},
        )  # fmt: skip
        assert response.status_code == 302
        comment = Comment.objects.for_tenant(world.tenant).get()
        assert comment.source == "portal"
        assert comment.is_internal is False
        assert (
            Attachment.objects.for_tenant(world.tenant).get(comment=comment).filename == "crash.txt"
        )
        page = text_of(me.get(ticket_url(ticket.key)))
        assert "Reply sent." in page
        assert "<em>every</em>" in page
        assert "crash.txt" in page

    def test_an_empty_reply_is_refused_with_a_reason(self, world, me, ticket):
        response = me.post(ticket_url(ticket.key, "reply"), {"body": "   "})
        assert response.status_code == 400
        assert "Write a reply or attach a file." in text_of(response)
        assert not Comment.objects.for_tenant(world.tenant).exists()

    def test_a_file_alone_is_a_reply(self, world, me, ticket):
        shot = SimpleUploadedFile("shot.txt", b"pixels")
        me.post(ticket_url(ticket.key, "reply"), {"body": "", "attachments": [shot]})
        assert Attachment.objects.for_tenant(world.tenant).get().comment is not None

    def test_a_reply_with_a_bad_file_writes_nothing(self, world, me, ticket, media, settings):
        settings.TICKET_ATTACHMENT_MAX_BYTES = 4
        response = me.post(
            ticket_url(ticket.key, "reply"),
            {"body": "see", "attachments": [SimpleUploadedFile("big.txt", b"12345")]},
        )
        assert response.status_code == 400
        assert "“big.txt” is 5\xa0bytes" in text_of(response)
        assert not Comment.objects.for_tenant(world.tenant).exists()
        assert stored_files(media) == []

    def test_answering_a_pending_question_sends_it_back_to_the_team(self, me, ticket, agent):
        services.ticket_transition(actor=agent, ticket=ticket, status="in_progress")
        services.ticket_transition(actor=agent, ticket=ticket, status="pending")
        assert "Waiting for you" in text_of(me.get(ticket_url(ticket.key)))
        me.post(ticket_url(ticket.key, "reply"), {"body": "Version 16.0"})
        assert reload(ticket).status == "in_progress"
        assert "your answer is with the team" in text_of(me.get(ticket_url(ticket.key)))

    def test_the_htmx_reply_swaps_the_page_part(self, world, me, ticket):
        response = me.post(ticket_url(ticket.key, "reply"), {"body": "Quick one"},
                           HTTP_HX_REQUEST="true")  # fmt: skip
        assert response.status_code == 200
        text = text_of(response)
        assert text.lstrip().startswith('<div id="request"')
        assert "<html" not in text
        assert "Reply sent." in text
        assert "Quick one" in text
        refused = me.post(ticket_url(ticket.key, "reply"), {"body": ""}, HTTP_HX_REQUEST="true")
        assert refused.status_code == 400
        assert "Write a reply or attach a file." in text_of(refused)
        assert "<html" not in text_of(refused)

    @pytest.mark.parametrize(
        "hostile",
        [
            "<script>alert('x')</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](java\tscript:alert(1))",
            "[click](&#106;avascript:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            '<a href="javascript:alert(1)">click</a>',
            '<a href=" &#x6A;avascript:alert(1)">click</a>',
            "<iframe src=//evil.test></iframe>",
            '<p style="background:url(javascript:alert(1))">styled</p>',
        ],
    )
    def test_hostile_markup_is_inert_everywhere(self, world, me, requester, agent, hostile):
        ticket = services.ticket_create(actor=requester, kind="incident",
                                        title=hostile[:200], description=hostile)  # fmt: skip
        services.comment_add(actor=agent, ticket=ticket, body=hostile)
        me.post(ticket_url(ticket.key, "reply"), {"body": hostile})
        for page in (me.get(ticket_url(ticket.key)), me.get(home_url())):
            html = text_of(page).lower()
            assert "<script>alert" not in html
            assert "<svg" not in html
            assert "<iframe" not in html
            assert "<img" not in html
            # Only tags can run: raw HTML typed into markdown is shown as
            # (escaped) text, which may spell out anything.
            attributes = attributes_of_tags(html)
            assert not [name for name, _ in attributes if name.startswith("on")]
            assert not [
                value for name, value in attributes
                if name == "href"
                and "".join((value or "").split()).startswith(("javascript:", "data:", "vbscript:"))
            ]  # fmt: skip
            assert "style" not in {name for name, _ in attributes}


class TestResolution:
    @pytest.fixture
    def resolved(self, ticket, agent) -> Ticket:
        services.comment_add(actor=agent, ticket=ticket, body="Reinstalled the add-in.")
        return services.ticket_transition(
            actor=agent, ticket=ticket, status="resolved", resolution_code="solved",
            resolution_notes="Removed the **broken** add-in.",
        )  # fmt: skip

    def test_the_page_asks_whether_it_is_fixed(self, me, resolved):
        page = text_of(me.get(ticket_url(resolved.key)))
        assert "Is it fixed?" in page
        assert "Yes, it's fixed" in page
        assert "No, reopen" in page
        assert "Removed the <strong>broken</strong> add-in." in page
        assert ticket_url(resolved.key, "confirm") in page
        assert ticket_url(resolved.key, "reopen") in page

    def test_yes_its_fixed_closes_it(self, me, resolved):
        response = me.post(ticket_url(resolved.key, "confirm"))
        assert response.status_code == 302
        assert reload(resolved).status == "closed"
        page = text_of(me.get(ticket_url(resolved.key)))
        assert "Thanks for confirming" in page
        assert "This request is closed" in page
        assert ticket_url(resolved.key, "reply") not in page
        assert report_url() in page
        assert resolved.key in text_of(me.get(home_url(show="closed")))

    def test_no_reopen_needs_words_and_reopens(self, world, me, resolved):
        refused = me.post(ticket_url(resolved.key, "reopen"), {"body": ""})
        assert refused.status_code == 400
        assert "Tell us what is still wrong" in text_of(refused)
        assert reload(resolved).status == "resolved"
        me.post(ticket_url(resolved.key, "reopen"), {"body": "It crashed again at 10:00."})
        ticket = reload(resolved)
        assert ticket.status == "in_progress"
        assert ticket.reopen_count == 1
        page = text_of(me.get(ticket_url(ticket.key)))
        assert f"{ticket.key} is open again" in page
        assert "Reopened" in page
        assert "It crashed again at 10:00." in page

    def test_a_plain_reply_on_a_resolved_ticket_reopens_it_too(self, me, resolved):
        me.post(ticket_url(resolved.key, "reply"), {"body": "Still broken"})
        assert reload(resolved).status == "in_progress"

    def test_after_the_reopen_window_the_page_and_the_service_say_so(
        self, world, me, ticket, agent
    ):
        long_ago = timezone.now() - timedelta(days=30)
        services.ticket_transition(actor=agent, ticket=ticket, status="in_progress", now=long_ago)
        services.ticket_transition(actor=agent, ticket=ticket, status="resolved",
                                   resolution_code="solved", now=long_ago)  # fmt: skip
        page = text_of(me.get(ticket_url(ticket.key)))
        assert "too long ago to reopen it" in page
        assert "No, reopen" not in page
        response = me.post(ticket_url(ticket.key, "reply"), {"body": "It's back"})
        assert response.status_code == 400
        assert "more than the reopen window ago; please open a new ticket" in text_of(response)
        assert reload(ticket).status == "resolved"
        assert not Comment.objects.for_tenant(world.tenant).filter(body="It's back").exists()
        # Confirming is still possible.
        me.post(ticket_url(ticket.key, "confirm"))
        assert reload(ticket).status == "closed"

    def test_confirming_an_open_ticket_is_refused_in_words(self, me, ticket):
        response = me.post(ticket_url(ticket.key, "confirm"), follow=True)
        assert "is not waiting for a confirmation" in text_of(response)
        assert reload(ticket).status == "new"
        assert me.post(ticket_url(ticket.key, "reopen"), {"body": "x"}).status_code == 302
        assert reload(ticket).status == "new"

    def test_a_watcher_follows_but_does_not_decide(self, world, login, resolved, agent):
        colleague = MembershipFactory(tenant=world.tenant, role=Role.REQUESTER).user
        services.watcher_add(actor=agent, ticket=resolved, user=colleague)
        watcher = login(colleague)
        page = text_of(watcher.get(ticket_url(resolved.key)))
        assert "Yes, it's fixed" not in page
        response = watcher.post(ticket_url(resolved.key, "confirm"), follow=True)
        assert "Only the person who reported it can." in text_of(response)
        assert reload(resolved).status == "resolved"


class TestClosedAndWithdrawn:
    def test_a_closed_request_has_no_reply_box(self, world, me, ticket, agent):
        services.ticket_transition(actor=agent, ticket=ticket, status="cancelled")
        page = text_of(me.get(ticket_url(ticket.key)))
        assert "This request is cancelled" in page
        assert 'name="body"' not in page
        assert report_url() in page
        response = me.post(ticket_url(ticket.key, "reply"), {"body": "hello?"})
        assert response.status_code == 400
        assert "please open a new ticket" in text_of(response)
        assert not Comment.objects.for_tenant(world.tenant).exists()

    def test_withdraw_cancels_an_open_request(self, world, me, ticket):
        assert "Withdraw request" in text_of(me.get(ticket_url(ticket.key)))
        me.post(ticket_url(ticket.key, "withdraw"))
        assert reload(ticket).status == "cancelled"
        assert (
            TicketEvent.objects.for_tenant(world.tenant)
            .filter(field="status", new_value="cancelled", note="The requester withdrew it.")
            .exists()
        )
        again = me.post(ticket_url(ticket.key, "withdraw"), follow=True)
        assert "is no longer open" in text_of(again)

    def test_a_merged_request_points_to_where_it_continues(self, world, me, ticket, agent):
        target = services.ticket_create(
            actor=agent, kind="incident", title="Outlook crashes for everyone"
        )
        services.ticket_merge(actor=agent, source=ticket, target=target)
        page = text_of(me.get(ticket_url(ticket.key)))
        assert "the conversation continues in" in page
        assert ticket_url(target.key) in page
        assert Status.CLOSED.label in page
