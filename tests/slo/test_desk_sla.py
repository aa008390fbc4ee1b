"""SLAs on the agents' desk: the ticket page's SLA panel and its explanation,
the queues' SLA badge, the "Breaching soon" queue and the sort by due time.

Times are Berlin wall-clock times in March 2026 (before the clocks go
forward); the desk is asked "now" through a frozen ``timezone.now``, so
business time left is exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import Role
from slo.presenters import business_duration, clock_line
from slo.selectors import ticket_clocks
from tests.slo.conftest import berlin
from tickets import services as tickets
from tickets.desk import describe_event
from tickets.models import Ticket, TicketEvent
from tickets.services import Actor

pytestmark = pytest.mark.django_db

MONDAY_10 = berlin(2026, 3, 9, 10, 0)


@pytest.fixture
def freeze(monkeypatch):
    """Make ``timezone.now()`` answer ``at`` (services, selectors and views)."""

    def at(moment: datetime) -> datetime:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return at


@pytest.fixture
def agent_client(world, login):
    return login(world.user(Role.AGENT))


def report(actor: Actor, when: datetime = MONDAY_10, **fields) -> Ticket:
    fields.setdefault("kind", "incident")
    fields.setdefault("title", "VPN drops every ten minutes")
    return tickets.ticket_create(actor=actor, now=when, **fields)


def urgent(actor: Actor, when: datetime, **fields) -> Ticket:
    """A P1 (impact 1 × urgency 1): the 24×7 policy, 15 minutes to respond."""
    return report(actor, when, impact=1, urgency=1, **fields)


def ticket_url(world, ticket: Ticket, name: str = "desk_ticket") -> str:
    namespace = "slo" if name == "desk_ticket_sla" else "tickets"
    return reverse(f"{namespace}:{name}", args=[world.tenant.slug, ticket.key])


def sla_badge(row: Ticket):
    """A queue row's SLA cell (the SLA's column of ``tickets.extensions``)."""
    return next(cell.value for cell in row.cells if cell.column.name == "sla")


def sla_lines(response) -> list:
    """The clocks of the ticket page's SLA panel."""
    panel = next(p for p in response.context["panels"] if p.template.startswith("slo/"))
    return panel.context["lines"]


def desk_url(world) -> str:
    return reverse("desk", args=[world.tenant.slug])


class Text(HTMLParser):
    """The text of one element (by id) and its descendants, whitespace folded."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth or dict(attrs).get("id") == self.element_id:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, element_id: str) -> str:
        parser = cls(element_id)
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


def panel(response, target: str) -> str:
    assert response.status_code == 200
    return Text.of(response.content.decode(), f"sla-clock-{target}")


# --- Durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (timedelta(hours=2, minutes=10), "2 h 10 min"),
        (timedelta(hours=40), "40 h"),
        (timedelta(minutes=35, seconds=59), "35 min"),
        (timedelta(seconds=20), "< 1 min"),
        (timedelta(0), "0 min"),
        (-timedelta(hours=1, minutes=5), "1 h 5 min"),
    ],
)
def test_business_durations_read_in_hours_and_minutes(amount, text):
    assert business_duration(amount) == text


def test_time_left_rounds_up_and_badges_drop_the_minutes_of_long_ones():
    used, goal = timedelta(hours=2, minutes=20, seconds=30), timedelta(hours=4)
    # 2 h 20 min used and 1 h 40 min left: they add up to the goal.
    assert (business_duration(used), business_duration(goal - used, up=True)) == (
        "2 h 20 min",
        "1 h 40 min",
    )
    assert business_duration(timedelta(seconds=20), up=True) == "1 min"
    assert business_duration(timedelta(hours=9, minutes=59), short=True) == "9 h 59 min"
    assert business_duration(timedelta(hours=1469, minutes=15), short=True) == "1469 h"


@pytest.mark.parametrize(
    ("event", "text", "note", "tone"),
    [
        (
            {"field": "first_response", "new_value": "started", "note": "8 h (Standard)"},
            "first response clock started",
            "8 h (Standard)",
            "sla",
        ),
        (
            {"field": "resolution", "new_value": "paused", "note": "pending"},
            "resolution clock paused",
            "while pending",
            "sla",
        ),
        (
            {"field": "next_response", "new_value": "breached"},
            "next response clock breached",
            "",
            "sla-breached",
        ),
        (
            {
                "field": "resolution",
                "old_value": "running, due 2026-03-10T09:00:00+00:00",
                "new_value": "running, due 2026-03-11T09:00:00+00:00",
                "note": "Recomputed under the current calendars and policies.",
            },
            "recomputed the resolution clock: running, due Tue 10 Mar 10:00 CET → "
            "running, due Wed 11 Mar 10:00 CET",
            "Recomputed under the current calendars and policies.",
            "sla",
        ),
    ],
)
def test_sla_events_read_as_sentences_in_the_timeline(event, text, note, tone):
    with timezone.override(ZoneInfo("Europe/Berlin")):
        line = describe_event(TicketEvent(action="sla", actor_name="SLA", **event), {})
    assert (line.text, line.note, line.tone) == (text, note, tone)


def test_a_clock_stopped_on_its_due_instant_reads_as_breached_then(requester, business_policy):
    ticket = report(requester)
    view = ticket_clocks(ticket=ticket, now=MONDAY_10)[0]
    stopped = replace(
        view,
        state="breached",
        used=view.goal,
        remaining=timedelta(0),
        stopped_at=berlin(2026, 3, 10, 10, 0),
        due_at=berlin(2026, 3, 10, 10, 0),
    )
    line = clock_line(stopped)
    assert (line.headline, line.badge, line.tone) == (
        "breached at its due time",
        "missed",
        "breached",
    )


# --- The ticket page's SLA panel --------------------------------------------------------------


class TestPanel:
    def test_a_running_clock_counts_business_hours_only(
        self, world, agent_client, requester, business_policy, freeze
    ):
        ticket = report(requester)  # P5: 8 business hours to respond, 40 to resolve
        freeze(berlin(2026, 3, 9, 16, 0))
        response = agent_client.get(ticket_url(world, ticket))
        first = panel(response, "first_response")
        assert "First response Running" in first
        # Monday 10:00–16:00 used 6 of the 8 hours: one more today until the
        # office closes at 17:00, the last Tuesday 09:00–10:00.
        assert "2 h left" in first
        assert "due Tue 10 Mar 10:00 CET" in first
        assert "Goal 8 h · Standard · Berlin office · 75 % used" in first
        assert 'class="sla-bar sla-bar--ok" max="100" value="75"' in response.content.decode()
        assert "34 h left" in panel(response, "resolution")
        # The night counts nothing: from closing time to the next opening one hour is left.
        for evening_to_morning in (berlin(2026, 3, 9, 17, 0), berlin(2026, 3, 10, 8, 59)):
            freeze(evening_to_morning)
            page = agent_client.get(ticket_url(world, ticket))
            assert "1 h left" in panel(page, "first_response")

    def test_a_clock_past_its_warning_turns_amber(
        self, world, agent_client, requester, business_policy, freeze
    ):
        ticket = report(requester)
        freeze(berlin(2026, 3, 9, 16, 30))  # 6.5 of 8 hours: past 80 %
        response = agent_client.get(ticket_url(world, ticket))
        assert "1 h 30 min left" in panel(response, "first_response")
        body = response.content.decode()
        assert 'class="sla-clock sla-clock--warning" id="sla-clock-first_response"' in body
        assert 'class="sla-bar sla-bar--warning" max="100" value="81"' in body

    def test_a_paused_clock_keeps_its_time_and_has_no_due_time(
        self, world, agent_client, agent, requester, business_policy, freeze
    ):
        ticket = report(requester)
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Which office?", now=berlin(2026, 3, 9, 11, 0)
        )
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="pending", now=berlin(2026, 3, 9, 12, 0)
        )
        freeze(berlin(2026, 3, 11, 15, 0))  # two days later, still waiting
        response = agent_client.get(ticket_url(world, ticket))
        resolution = panel(response, "resolution")
        assert "Resolution Paused" in resolution
        assert "paused — 38 h left" in resolution  # 2 of 40 hours used before the pause
        assert "no due time while paused" in resolution
        first = panel(response, "first_response")
        assert "First response Met" in first
        assert "met after 1 h" in first
        assert "met Mon 9 Mar 11:00 CET" in first

    def test_a_breached_clock_says_how_late_it_is(
        self, world, agent_client, requester, business_policy, freeze
    ):
        ticket = report(requester)
        freeze(berlin(2026, 3, 10, 11, 35))  # due Tuesday 10:00; nobody answered
        response = agent_client.get(ticket_url(world, ticket))
        first = panel(response, "first_response")
        assert "First response Breached" in first
        assert "overdue by 1 h 35 min" in first
        assert "was due Tue 10 Mar 10:00 CET" in first
        body = response.content.decode()
        # The bar is full; the text still says how far past the goal it is.
        assert 'class="sla-bar sla-bar--breached" max="100" value="100"' in body
        assert "120 % used" in first

    def test_met_late_stays_breached(self, world, agent_client, agent, requester, business_policy):
        ticket = report(requester)
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Sorry for the wait", now=berlin(2026, 3, 10, 10, 30)
        )
        first = panel(agent_client.get(ticket_url(world, ticket)), "first_response")
        assert "First response Breached" in first
        assert "breached by 30 min" in first

    def test_a_ticket_without_a_policy_says_so(self, world, agent_client, requester):
        ticket = report(requester)
        body = agent_client.get(ticket_url(world, ticket)).content.decode()
        assert "No SLA policy applies to this ticket." in Text.of(body, "ticket-sla")

    def test_the_panel_follows_an_edit_made_with_htmx(
        self, world, agent_client, requester, business_policy
    ):
        ticket = report(requester, when=timezone.now() - timedelta(minutes=5))
        response = agent_client.post(
            ticket_url(world, ticket, "desk_ticket_reply"),
            {"body": "On it.", "visibility": "public"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        sla_region = Text.of(response.content.decode(), "ticket-sla")
        assert "First response Met" in sla_region
        assert '<section id="ticket-sla"' in response.content.decode()

    def test_the_line_of_a_clock_for_the_queue(self, requester, business_policy):
        ticket = report(requester)
        views = ticket_clocks(ticket=ticket, now=berlin(2026, 3, 9, 15, 40))
        with timezone.override(ZoneInfo("Europe/Berlin")):  # as the tenant's pages are
            line = clock_line(views[0])
        assert (line.target, line.badge, line.tone) == ("first_response", "2 h 20 min", "ok")
        assert line.title == "First response: 2 h 20 min left, due Tue 10 Mar 10:00 CET (Standard)"


# --- The explanation ------------------------------------------------------------------------


class TestExplanation:
    def test_htmx_loads_one_clocks_explanation_when_opened(
        self, world, agent_client, agent, requester, business_policy, freeze
    ):
        ticket = report(requester)
        tickets.comment_add(
            actor=agent, ticket=ticket, body="Which office?", now=berlin(2026, 3, 9, 11, 0)
        )
        tickets.ticket_transition(
            actor=agent, ticket=ticket, status="pending", now=berlin(2026, 3, 9, 12, 0)
        )
        tickets.comment_add(
            actor=requester, ticket=ticket, body="Berlin", now=berlin(2026, 3, 10, 9, 30)
        )
        freeze(berlin(2026, 3, 10, 11, 0))
        page = agent_client.get(ticket_url(world, ticket)).content.decode()
        sla_url = ticket_url(world, ticket, "desk_ticket_sla")
        # Closed, the explanation is a link (no JS) that HTMX swaps for the replay.
        assert f'hx-get="{sla_url}?target=resolution" hx-trigger="toggle once"' in page
        assert f'href="{sla_url}#sla-resolution"' in page
        response = agent_client.get(f"{sla_url}?target=resolution", headers={"HX-Request": "true"})
        assert response.status_code == 200
        text = " ".join(response.content.decode().split())
        assert "<html" not in text
        # 10:00–12:00 Monday, then paused until the requester answered Tuesday 09:30,
        # then 09:30–11:00: 3 h 30 min of 40 used.
        assert (
            "Goal 40 h on “Berlin office” · 3 h 30 min used · 36 h 30 min left → "
            "due Mon 16 Mar 15:30 CET"
        ) in text
        assert text.count('<li class="sla-segment sla-segment--running">') == 2
        assert text.count('<li class="sla-segment sla-segment--paused">') == 1
        assert "Mon 9 Mar 10:00</time> → <time" in text
        assert "2 h counted" in text
        assert "Mon 9 Mar 12:00</time> → <time datetime" in text
        assert "Tue 10 Mar 09:30</time> → now" in text
        assert "1 h 30 min counted" in text
        assert "21 h 30 min paused in all" in text
        changes = text.split('<ol class="sla-changes">')[1]
        assert changes.index("Started") < changes.index("Paused") < changes.index("Resumed")
        assert "while pending" in changes
        assert "Which office" not in text  # the clock's story, not the conversation

    def test_without_js_the_explanations_are_a_page(
        self, world, agent_client, requester, business_policy, freeze
    ):
        ticket = report(requester)
        freeze(berlin(2026, 3, 10, 11, 0))
        response = agent_client.get(ticket_url(world, ticket, "desk_ticket_sla"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<h1>SLA of" in body
        for target in ("first_response", "resolution"):
            assert f'id="sla-{target}"' in body
        first = " ".join(Text.of(body, "sla-first_response").split())
        assert "overdue by 1 h" in first
        assert "Goal 8 h on “Berlin office” · 9 h used → overdue by 1 h" in first
        assert "Breached" in first
        # A lower-case key is sent to the canonical address.
        lower = agent_client.get(
            reverse("slo:desk_ticket_sla", args=[world.tenant.slug, ticket.key.lower()])
        )
        assert lower.status_code == 302
        assert lower["Location"] == ticket_url(world, ticket, "desk_ticket_sla")

    def test_a_24x7_clock_explains_itself_round_the_clock(
        self, world, agent_client, requester, urgent_policy, freeze
    ):
        ticket = urgent(requester, MONDAY_10)
        freeze(MONDAY_10 + timedelta(minutes=40))
        response = agent_client.get(
            f"{ticket_url(world, ticket, 'desk_ticket_sla')}?target=first_response",
            headers={"HX-Request": "true"},
        )
        text = " ".join(response.content.decode().split())
        assert "Goal 15 min round the clock (24×7) · 40 min used → overdue by 25 min" in text
        assert "Breached" in text

    def test_an_unknown_target_explains_nothing(self, world, agent_client, requester):
        ticket = report(requester)
        response = agent_client.get(
            f"{ticket_url(world, ticket, 'desk_ticket_sla')}?target=<script>",
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert "there is nothing to replay" in response.content.decode()
        assert "<script>" not in response.content.decode()

    def test_requesters_and_other_tenants_never_see_it(
        self, world, foreign, login, requester, business_policy
    ):
        ticket = report(requester)
        url = ticket_url(world, ticket, "desk_ticket_sla")
        assert login(world.user(Role.REQUESTER)).get(url).status_code == 403
        stranger = login(foreign.user(Role.ADMIN))
        assert stranger.get(url).status_code in (403, 404)
        theirs = reverse(
            "slo:desk_ticket_sla", args=[world.tenant.slug, foreign.tickets.ticket.key]
        )
        assert login(world.user(Role.AGENT)).get(theirs).status_code == 404

    def test_a_confidential_tickets_sla_is_hidden_from_agents_not_granted(
        self, world, agent_client, business_policy
    ):
        admin = Actor.of(world.members[Role.ADMIN])
        secret = report(admin, is_confidential=True, requester=world.user(Role.REQUESTER))
        url = ticket_url(world, secret, "desk_ticket_sla")
        assert agent_client.get(url).status_code == 404
        assert agent_client.get(url, headers={"HX-Request": "true"}).status_code == 404

    @pytest.mark.parametrize("count", [5, 50])
    def test_the_replay_reads_a_fixed_number_of_queries(
        self,
        world,
        agent_client,
        agent,
        requester,
        business_policy,
        django_assert_num_queries,
        count,
    ):
        ticket = report(requester)
        moment = MONDAY_10 + timedelta(minutes=5)
        tickets.comment_add(actor=agent, ticket=ticket, body="Looking.", now=moment)
        for _ in range(count):
            moment += timedelta(minutes=7)
            tickets.comment_add(actor=requester, ticket=ticket, body="Any news?", now=moment)
            moment += timedelta(minutes=7)
            tickets.comment_add(actor=agent, ticket=ticket, body="Working on it.", now=moment)
        url = f"{ticket_url(world, ticket, 'desk_ticket_sla')}?target=next_response"
        agent_client.get(url, headers={"HX-Request": "true"})
        # session, user, memberships, set row-level tenant, the ticket, its log,
        # the tenant's policies, the calendars' names, reset (no policy here
        # asks for tags, so the ticket's tags are not read)
        with django_assert_num_queries(9):
            response = agent_client.get(url, headers={"HX-Request": "true"})
        assert response.content.decode().count('class="sla-segment sla-segment--running"') == count


# --- The queues -------------------------------------------------------------------------------


TUESDAY_7 = berlin(2026, 3, 10, 7, 0)


@pytest.fixture
def due_times(world, agent, requester, business_policy, urgent_policy, freeze):
    """Tickets whose clocks fall due around Tuesday 07:00 (Berlin)."""
    admin = Actor.of(world.members[Role.ADMIN])
    made = {
        # Breached: 15 minutes to respond, filed an hour ago.
        "breached": urgent(requester, berlin(2026, 3, 10, 6, 0), title="Mail server down"),
        # Due Tuesday 10:00 (8 business hours from Monday 10:00): within 4 hours.
        "soon": report(requester, title="Printer jams"),
        # Due Tuesday 14:00: not yet.
        "later": report(requester, berlin(2026, 3, 9, 14, 0), title="New mouse"),
        # Answered at once: its 4-hour resolution is due 10:30.
        "answered": urgent(requester, berlin(2026, 3, 10, 6, 30), title="Payroll is slow"),
        # Breached, but confidential and not granted to the agent.
        "secret": urgent(
            admin,
            berlin(2026, 3, 10, 6, 0),
            title="Suspicious logins",
            is_confidential=True,
            requester=world.user(Role.REQUESTER),
        ),
        # Answered and waiting for the requester: its clock is paused.
        "waiting": urgent(requester, berlin(2026, 3, 10, 5, 0), title="Badge does not open"),
        # Breached, then resolved: done.
        "done": urgent(requester, berlin(2026, 3, 9, 18, 0), title="Wi-Fi outage"),
        # Answered an hour late on Monday: that clock stopped (breached for
        # good); its resolution has 25 of 40 hours left.
        "met_late": report(requester, berlin(2026, 3, 6, 10, 0), title="Monitor flickers"),
    }
    tickets.comment_add(
        actor=agent, ticket=made["met_late"], body="Sorry, on it", now=berlin(2026, 3, 9, 11, 0)
    )
    tickets.comment_add(
        actor=agent, ticket=made["answered"], body="Looking", now=berlin(2026, 3, 10, 6, 35)
    )
    tickets.comment_add(
        actor=agent, ticket=made["waiting"], body="Which door?", now=berlin(2026, 3, 10, 5, 5)
    )
    tickets.ticket_transition(
        actor=agent, ticket=made["waiting"], status="pending", now=berlin(2026, 3, 10, 5, 6)
    )
    tickets.ticket_transition(
        actor=agent, ticket=made["done"], status="in_progress", now=berlin(2026, 3, 10, 5, 50)
    )
    tickets.ticket_transition(
        actor=agent,
        ticket=made["done"],
        status="resolved",
        resolution_code="solved",
        now=berlin(2026, 3, 10, 6, 0),
    )
    freeze(TUESDAY_7)
    return made


def row_keys(response) -> list[str]:
    return [ticket.key for ticket in response.context["rows"]]


class TestQueues:
    def test_breaching_soon_holds_what_is_breached_or_due_within_four_hours(
        self, world, agent_client, due_times
    ):
        response = agent_client.get(desk_url(world), {"queue": "breaching"})
        assert response.status_code == 200
        # Soonest due first: the breach (due 06:15), then 10:00, then 10:30.
        assert row_keys(response) == [
            due_times[name].key for name in ("breached", "soon", "answered")
        ]
        assert response.context["query"].filters.sort == "due"
        assert response.context["query"].query == "queue=breaching"  # the default sort
        assert response.context["counts"]["breaching"] == 3
        body = response.content.decode()
        assert "Suspicious logins" not in body
        nav = Text.of(body, "queue-nav")
        assert "Breaching soon 3" in nav
        assert "desk-nav__count desk-nav__count--alert" in body

    def test_admins_see_the_confidential_breach_too(self, world, login, due_times):
        response = login(world.user(Role.ADMIN)).get(desk_url(world), {"queue": "breaching"})
        # Both were due 06:15 with the same priority: the newer first.
        assert row_keys(response) == [
            due_times[name].key for name in ("secret", "breached", "soon", "answered")
        ]
        assert response.context["counts"]["breaching"] == 4

    def test_a_grant_lets_the_agent_see_the_confidential_breach(
        self, world, agent_client, agent, due_times
    ):
        admin = Actor.of(world.members[Role.ADMIN])
        tickets.confidential_grant(actor=admin, ticket=due_times["secret"], user=agent.user)
        response = agent_client.get(desk_url(world), {"queue": "breaching"})
        assert due_times["secret"].key in row_keys(response)
        assert response.context["counts"]["breaching"] == 4

    def test_every_row_shows_its_most_urgent_clock(self, world, agent_client, due_times):
        response = agent_client.get(desk_url(world), {"queue": "open"})
        body = response.content.decode()
        badges = {ticket.key: sla_badge(ticket) for ticket in response.context["rows"]}
        breached = badges[due_times["breached"].key]
        assert breached.badge == "overdue 45 min"
        assert breached.tone == "breached"
        assert breached.title == (
            "First response: overdue by 45 min, was due Tue 10 Mar 06:15 CET (Urgent)"
        )
        # Monday 10:00–17:00 used 7 of its 8 hours: past the 80 % warning.
        soon = badges[due_times["soon"].key]
        assert (soon.badge, soon.tone) == ("1 h", "warning")
        later = badges[due_times["later"].key]  # Monday 14:00–17:00 used 3
        assert (later.badge, later.tone) == ("5 h", "ok")
        answered = badges[due_times["answered"].key]
        assert (answered.target, answered.badge) == ("resolution", "3 h 30 min")
        assert badges[due_times["waiting"].key].badge == "paused"
        assert badges[due_times["waiting"].key].tone == "paused"
        # The breached first response stopped: the badge shows what still runs.
        met_late = badges[due_times["met_late"].key]
        assert (met_late.target, met_late.badge, met_late.tone) == ("resolution", "25 h", "ok")
        assert (
            '<span class="sla-badge sla-badge--breached" title="First response: overdue by '
            '45 min, was due Tue 10 Mar 06:15 CET (Urgent)">overdue 45 min</span>'
        ) in body

    def test_a_ticket_without_clocks_shows_a_dash(self, world, agent_client, requester):
        report(requester, when=timezone.now())
        body = agent_client.get(desk_url(world), {"queue": "open"}).content.decode()
        assert '<span class="muted" title="No SLA clock running">—</span>' in body

    def test_any_queue_sorts_by_due_time(self, world, agent_client, due_times):
        soonest = agent_client.get(desk_url(world), {"queue": "open", "sort": "due"})
        # Tickets without a counting clock (the paused one) come last either way.
        # The late answer's stopped clock does not count: its resolution (Friday) does.
        assert row_keys(soonest) == [
            due_times[name].key
            for name in ("breached", "soon", "answered", "later", "met_late", "waiting")
        ]
        latest = agent_client.get(desk_url(world), {"queue": "open", "sort": "-due"})
        assert row_keys(latest) == [
            due_times[name].key
            for name in ("met_late", "later", "answered", "soon", "breached", "waiting")
        ]
        body = soonest.content.decode()
        assert 'aria-sort="ascending"><a class="desk-sortlink"' in body
        assert "sort=-due" in body
        # Breaching soon may be sorted otherwise, too.
        by_priority = agent_client.get(desk_url(world), {"queue": "breaching", "sort": "-priority"})
        assert row_keys(by_priority)[0] == due_times["soon"].key
        assert by_priority.context["query"].query == "queue=breaching&sort=-priority"

    def test_polled_rows_keep_their_badges(self, world, agent_client, due_times):
        response = agent_client.get(
            desk_url(world),
            {"queue": "breaching"},
            headers={"HX-Request": "true", "HX-Target": "queue-rows"},
        )
        body = response.content.decode()
        assert body.lstrip().startswith('<tbody id="queue-rows"')
        assert body.count('class="sla-badge') == 3

    def test_an_empty_breaching_queue_says_why(self, world, agent_client):
        body = agent_client.get(desk_url(world), {"queue": "breaching"}).content.decode()
        assert "No open ticket has breached its SLA or is due within 4 h." in body


@pytest.mark.parametrize("count", [5, 50])
def test_queue_query_count_with_clocks_is_constant(
    world, agent_client, agent, requester, urgent_policy, django_assert_num_queries, count
):
    # P1 on the 24×7 policy: the unanswered half has breached its 15 minutes,
    # the answered half has 3 of its 4 hours to resolve left.
    start = timezone.now() - timedelta(hours=1)
    for index in range(count):
        ticket = urgent(requester, start + timedelta(seconds=index), title=f"Ticket {index}")
        if index % 2:
            answered = start + timedelta(minutes=5)
            tickets.comment_add(actor=agent, ticket=ticket, body="On it", now=answered)
    agent_client.get(desk_url(world))
    # session, user, memberships, set row-level tenant, staff, teams, my team ids,
    # queue counts (breaching soon a subquery of it), saved views, page rows
    # (sorted by their soonest due time, a subquery), their tags, their clocks
    # (one query for the page's badges), reset
    with django_assert_num_queries(13):
        response = agent_client.get(desk_url(world), {"queue": "open", "sort": "due"})
    assert len(response.context["rows"]) == count
    assert all(sla_badge(ticket) is not None for ticket in response.context["rows"])
    with django_assert_num_queries(13):
        response = agent_client.get(desk_url(world), {"queue": "breaching"})
    assert len(response.context["rows"]) == count


@pytest.mark.parametrize("count", [5, 50])
def test_ticket_page_query_count_with_clocks_is_constant(
    world, agent_client, agent, requester, business_policy, django_assert_num_queries, count
):
    ticket = report(requester, timezone.now() - timedelta(hours=1))
    moment = ticket.created_at
    for _ in range(count):
        moment += timedelta(seconds=30)
        tickets.comment_add(actor=requester, ticket=ticket, body="Any news?", now=moment)
        moment += timedelta(seconds=30)
        tickets.comment_add(actor=agent, ticket=ticket, body="Soon.", now=moment)
    url = ticket_url(world, ticket)
    agent_client.get(url)
    # As tests/tickets/test_desk.py pins it (18): the clocks are one query,
    # however long the log they were folded from.
    with django_assert_num_queries(18):
        response = agent_client.get(url)
    assert [line.target for line in sla_lines(response)] == [
        "first_response",
        "next_response",
        "resolution",
    ]
