"""The SLA pages of the tenant admin area: business calendars with their
weekly grid, holidays and due-time preview; policies in order with their
escalations and preview; the SLA profile on the member page."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicedesk.models import AUDIT_ACTION_LABELS, AuditEvent, Membership, Role
from slo import services as sla
from slo.forms import format_minutes
from slo.models import Calendar, Escalation, Policy
from tests.servicedesk.factories import MembershipFactory, TeamFactory
from tests.slo.conftest import WEEKDAYS_9_TO_5, berlin
from tickets.models import Category, Tag

pytestmark = pytest.mark.django_db

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
def admin_client(world, login):
    return login(world.user(Role.ADMIN))


def url(name: str, world, *args: object) -> str:
    return reverse(f"slo:{name}", args=[world.tenant.slug, *args])


def actions(world) -> list[str]:
    return list(
        AuditEvent.objects.for_tenant(world.tenant)
        .order_by("created_at", "pk")
        .values_list("action", flat=True)
    )


def calendar_post(
    name: str = "Support hours",
    timezone: str = "Europe/Berlin",
    hours: dict[str, list[list[str]]] | None = None,
    holidays: list[dict[str, Any]] | None = None,
    **extra: str,
) -> dict[str, str]:
    """The calendar form as a browser posts it: every grid row, one empty
    interval row per day, the holiday table with an empty row."""
    data = {"name": name, "timezone": timezone}
    week = WEEKDAYS_9_TO_5 if hours is None else hours
    for day in WEEKDAYS:
        intervals = [*week.get(day, []), ["", ""]]
        for index, (start, end) in enumerate(intervals):
            data[f"{day}-{index}-start"] = start
            data[f"{day}-{index}-end"] = end
    rows = [*(holidays or []), {}]
    data["holidays-TOTAL_FORMS"] = str(len(rows))
    data["holidays-INITIAL_FORMS"] = "0"
    for index, row in enumerate(rows):
        data[f"holidays-{index}-date"] = row.get("date", "")
        data[f"holidays-{index}-name"] = row.get("name", "")
        if row.get("recurring"):
            data[f"holidays-{index}-recurring"] = "on"
        if row.get("delete"):
            data[f"holidays-{index}-DELETE"] = "on"
    data.update(extra)
    return data


def policy_post(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Gold",
        "is_active": "on",
        "first_response_minutes": "30m",
        "resolution_minutes": "8h",
        "warning_percent": "80",
        "pause_statuses": ["pending"],
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def snapshot(world) -> tuple[Any, ...]:
    tenant = world.tenant
    return (
        tuple(
            Calendar.objects.for_tenant(tenant)
            .order_by("pk")
            .values_list("name", "timezone", "hours", "holidays")
        ),
        tuple(Policy.objects.for_tenant(tenant).order_by("pk").values_list()),
        tuple(Escalation.objects.for_tenant(tenant).order_by("pk").values_list()),
        AuditEvent.objects.for_tenant(tenant).count(),
    )


# --- Role gates ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.LEAD])
def test_only_admins_reach_the_sla_pages(world, login, role, office_hours, business_policy):
    client = login(world.user(role))
    escalation = sla.escalation_create(
        actor=world.members[Role.ADMIN],
        policy=business_policy,
        trigger="breach",
        action="notify_team_lead",
    )
    before = snapshot(world)
    for path in (
        url("admin_policies", world),
        url("admin_policy_create", world),
        url("admin_policy", world, business_policy.pk),
        url("admin_calendars", world),
        url("admin_calendar_create", world),
        url("admin_calendar", world, office_hours.pk),
    ):
        assert client.get(path).status_code == 403, path
    for path, data in (
        (url("admin_policy_create", world), policy_post()),
        (url("admin_policy", world, business_policy.pk), policy_post(name="Hijacked")),
        (url("admin_policy_move", world, business_policy.pk), {"direction": "up"}),
        (url("admin_policy_delete", world, business_policy.pk), {}),
        (
            url("admin_escalation_create", world, business_policy.pk),
            {"trigger": "warning", "action": "notify_team_lead"},
        ),
        (url("admin_escalation_delete", world, escalation.pk), {}),
        (url("admin_calendar_create", world), calendar_post()),
        (url("admin_calendar", world, office_hours.pk), calendar_post(name="Hijacked")),
        (url("admin_calendar_delete", world, office_hours.pk), {}),
    ):
        assert client.post(path, data).status_code == 403, path
    assert snapshot(world) == before


def test_the_admin_navigation_links_the_sla_pages(world, admin_client):
    body = admin_client.get(reverse("tenant_admin:overview", args=[world.tenant.slug])).content
    assert url("admin_policies", world).encode() in body


# --- Calendars -----------------------------------------------------------------------------


def test_calendar_list_shows_hours_holidays_and_use(world, admin_client, business_policy):
    sla.calendar_create(
        actor=world.members[Role.ADMIN],
        name="Night shift",
        timezone_name="America/New_York",
        hours={"sun": [["22:00", "06:00"]], "mon": [["22:00", "06:00"]]},
    )
    response = admin_client.get(url("admin_calendars", world))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Berlin office" in body
    assert "Mon–Fri 09:00–17:00" in body
    assert "1 policy" in body
    assert "Night shift" in body
    assert "Mon 22:00–06:00" in body
    assert "Sun 22:00–06:00" in body
    assert "unused" in body


def test_admin_creates_a_calendar_with_the_grid(world, admin_client):
    hours = {
        "mon": [["8", "12:00"], ["13:00", "17"]],
        "tue": [["08:00", "17:00"]],
        "fri": [["22:00", "06:00"]],
        "sat": [["10:00", "24:00"]],
    }
    holidays = [
        {"date": "2026-12-25", "recurring": True, "name": "Christmas Day"},
        {"date": "2026-04-03", "name": "Good Friday"},
    ]
    response = admin_client.post(
        url("admin_calendar_create", world), calendar_post(hours=hours, holidays=holidays)
    )
    calendar = Calendar.objects.for_tenant(world.tenant).get(name="Support hours")
    assert response.status_code == 302
    assert response["Location"] == url("admin_calendar", world, calendar.pk)
    assert calendar.timezone == "Europe/Berlin"
    assert calendar.hours == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["08:00", "17:00"]],
        "wed": [],
        "thu": [],
        "fri": [["22:00", "06:00"]],
        "sat": [["10:00", "24:00"]],
        "sun": [],
    }
    assert calendar.holidays == [
        {"date": "2026-04-03", "recurring": False, "name": "Good Friday"},
        {"date": "2026-12-25", "recurring": True, "name": "Christmas Day"},
    ]
    assert actions(world) == ["sla.calendar_created"]


def test_the_calendar_page_shows_the_saved_grid(world, admin_client, office_hours):
    response = admin_client.get(url("admin_calendar", world, office_hours.pk))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["mon-0-start"].value() == "09:00"
    assert form["fri-0-end"].value() == "17:00"
    assert form.slots == {"mon": 2, "tue": 2, "wed": 2, "thu": 2, "fri": 2, "sat": 1, "sun": 1}
    holiday = response.context["holidays"].forms[0]
    assert holiday["name"].value() == "Christmas Day"
    body = response.content.decode()
    assert "24:00 ends an interval at midnight" in body
    assert "runs past midnight" in body


def test_admin_edits_hours_and_holidays(world, admin_client, office_hours):
    data = calendar_post(
        name="Berlin office",
        hours={**WEEKDAYS_9_TO_5, "fri": [["09:00", "15:00"]]},
        holidays=[
            {"date": "2026-12-25", "recurring": True, "name": "Christmas Day", "delete": True},
            {"date": "2026-10-03", "recurring": True, "name": "Unity Day"},
        ],
    )
    response = admin_client.post(url("admin_calendar", world, office_hours.pk), data)
    assert response.status_code == 302
    office_hours.refresh_from_db()
    assert office_hours.hours["fri"] == [["09:00", "15:00"]]
    assert office_hours.holidays == [{"date": "2026-10-03", "recurring": True, "name": "Unity Day"}]
    assert actions(world)[-1] == "sla.calendar_changed"


BAD_CALENDARS = [
    pytest.param(
        {"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}},
        "mon",
        "overlaps",
        id="overlapping intervals",
    ),
    pytest.param(
        {"hours": {"sun": [["20:00", "10:00"]], "mon": [["08:00", "12:00"]]}},
        "sun",
        "overlaps mon",
        id="overnight into the next day",
    ),
    pytest.param({"hours": {"tue": [["25:00", "26:00"]]}}, "tue", "time of day", id="hour 25"),
    pytest.param({"hours": {"wed": [["9am", "5pm"]]}}, "wed", "not a time like", id="9am"),
    pytest.param({"hours": {"thu": [["09:00", "09:00"]]}}, "thu", "no length", id="no length"),
    pytest.param({"hours": {"fri": [["09:00", ""]]}}, "fri", "needs an end", id="half interval"),
]


@pytest.mark.parametrize(("values", "day", "message"), BAD_CALENDARS)
def test_bad_intervals_show_on_their_day_and_write_nothing(
    world, admin_client, values, day, message
):
    before = snapshot(world)
    response = admin_client.post(url("admin_calendar_create", world), calendar_post(**values))
    assert response.status_code == 400
    rows = {row["key"]: row for row in response.context["form"].week_rows()}
    assert any(message in error for error in rows[day]["errors"]), rows[day]["errors"]
    assert "The calendar was not saved" in response.content.decode()
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "not a known time zone"),
        ({"name": "   "}, "name", "Give it a name."),
        ({"name": "n" * 101}, "name", "At most 100 characters."),
        ({"hours": {}}, None, "at least one working interval"),
    ],
)
def test_bad_calendar_fields_show_next_to_them(world, admin_client, values, field, message):
    before = snapshot(world)
    response = admin_client.post(url("admin_calendar_create", world), calendar_post(**values))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field or "__all__"]), errors
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("holiday", "message"),
    [
        ({"date": "2026-02-30", "name": "Not a day"}, "Enter a valid date."),
        ({"date": "25.12.2026", "name": "Wrong format"}, "Enter a valid date."),
        ({"name": "Someday"}, "Give the date of “Someday”."),
        ({"date": "2026-12-24", "name": "x" * 101}, "at most 100 characters"),
    ],
)
def test_bad_holidays_show_on_their_row_and_write_nothing(world, admin_client, holiday, message):
    before = snapshot(world)
    response = admin_client.post(
        url("admin_calendar_create", world), calendar_post(holidays=[holiday])
    )
    assert response.status_code == 400
    row = response.context["holidays"].forms[0]
    assert any(message in error for errors in row.errors.values() for error in errors), row.errors
    assert snapshot(world) == before


def test_every_problem_shows_at_once(world, admin_client):
    data = calendar_post(
        name="",
        timezone="Nowhere/Special",
        hours={"mon": [["09:00", "13:00"], ["12:00", "17:00"]]},
        holidays=[{"date": "2026-13-01"}],
    )
    response = admin_client.post(url("admin_calendar_create", world), data)
    assert response.status_code == 400
    body = response.content.decode()
    for message in ("Give it a name.", "not a known time zone", "overlaps", "Enter a valid date."):
        assert message in body
    assert not Calendar.objects.for_tenant(world.tenant).exists()


def test_a_taken_name_is_refused(world, admin_client, office_hours):
    response = admin_client.post(
        url("admin_calendar_create", world), calendar_post("Berlin office")
    )
    assert response.status_code == 400
    assert "There is already one named" in str(response.context["form"].errors["name"])
    assert Calendar.objects.for_tenant(world.tenant).count() == 1


@pytest.mark.parametrize(
    "tampered",
    [
        {"holidays-TOTAL_FORMS": "many"},
        {"holidays-TOTAL_FORMS": "5000"},
        {"mon-0-start": "\x00"},
        {"timezone": "../../etc/passwd"},
    ],
)
def test_tampered_calendar_posts_are_form_errors(world, admin_client, tampered):
    before = snapshot(world)
    response = admin_client.post(url("admin_calendar_create", world), calendar_post(**tampered))
    assert response.status_code == 400
    assert snapshot(world) == before


def test_an_empty_post_is_a_form_error(world, admin_client):
    response = admin_client.post(url("admin_calendar_create", world), {})
    assert response.status_code == 400
    assert not Calendar.objects.for_tenant(world.tenant).exists()


def test_grid_buttons_change_the_form_and_save_nothing(world, admin_client):
    before = snapshot(world)
    response = admin_client.post(
        url("admin_calendar_create", world), calendar_post(add_interval="mon")
    )
    assert response.status_code == 200
    assert response.context["form"].slots["mon"] == 3
    assert response.context["form"]["mon-0-start"].value() == "09:00"

    response = admin_client.post(
        url("admin_calendar_create", world),
        calendar_post(hours={"mon": [["07:00", "11:00"], ["12:00", "16:00"]]}, copy_monday="1"),
    )
    form = response.context["form"]
    assert form["thu-1-start"].value() == "12:00"
    assert form["fri-0-end"].value() == "11:00"
    assert form["sat-0-start"].value() == ""

    response = admin_client.post(
        url("admin_calendar_create", world), calendar_post(add_holidays="1")
    )
    assert len(response.context["holidays"].forms) == 4
    assert snapshot(world) == before


def test_unused_calendar_is_deleted(world, admin_client, office_hours):
    response = admin_client.post(url("admin_calendar_delete", world, office_hours.pk))
    assert response.status_code == 302
    assert response["Location"] == url("admin_calendars", world)
    assert not Calendar.objects.for_tenant(world.tenant).exists()
    assert actions(world)[-1] == "sla.calendar_deleted"


def test_a_calendar_in_use_is_not_deleted(world, admin_client, office_hours, business_policy):
    response = admin_client.post(url("admin_calendar_delete", world, office_hours.pk), follow=True)
    assert response.status_code == 200
    assert "Policies use this calendar: Standard" in response.content.decode()
    assert Calendar.objects.for_tenant(world.tenant).filter(pk=office_hours.pk).exists()
    assert "sla.calendar_deleted" not in actions(world)


# --- The calendar preview ------------------------------------------------------------------


def test_preview_carries_friday_afternoon_over_the_weekend(world, admin_client, office_hours):
    response = admin_client.get(
        url("admin_calendar", world, office_hours.pk),
        {"start": "2026-03-06T16:30", "minutes": "60"},
    )
    assert response.status_code == 200
    due = response.context["due"]
    assert due.due_at == berlin(2026, 3, 9, 9, 30)
    assert due.opens_at is None
    body = response.content.decode()
    assert "Mon 2026-03-09 09:30" in body
    assert "Mon 2026-03-09 08:30 UTC" in body


def test_preview_outside_hours_says_when_counting_starts(world, admin_client, office_hours):
    response = admin_client.get(
        url("admin_calendar", world, office_hours.pk),
        {"start": "2026-03-07T11:00", "minutes": "1h30m"},
    )
    due = response.context["due"]
    assert due.opens_at == berlin(2026, 3, 9, 9, 0)
    assert due.due_at == berlin(2026, 3, 9, 10, 30)
    assert "counting begins Mon 2026-03-09 09:00" in response.content.decode()


def test_preview_skips_holidays(world, admin_client, office_hours):
    # Thursday 24 December 2026, 16:00 + 2h: Christmas (yearly) is a Friday.
    response = admin_client.get(
        url("admin_calendar", world, office_hours.pk),
        {"start": "2026-12-24T16:00", "minutes": "120"},
    )
    assert response.context["due"].due_at == berlin(2026, 12, 28, 10, 0)


def test_preview_answers_htmx_with_the_fragment(world, admin_client, office_hours):
    response = admin_client.get(
        url("admin_calendar", world, office_hours.pk),
        {"start": "2026-03-06T16:30", "minutes": "60"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="calendar-due",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="calendar-due"')
    assert "Mon 2026-03-09 09:30" in body
    assert "<html" not in body


@pytest.mark.parametrize(
    "query",
    [
        {"start": "yesterday", "minutes": "60"},
        {"start": "2026-03-06T16:30", "minutes": "soon"},
        {"start": "2026-03-06T16:30", "minutes": "0"},
        {"start": "2026-03-06T16:30", "minutes": "9" * 30},
        {"minutes": "60"},
    ],
)
def test_bad_preview_input_says_so(world, admin_client, office_hours, query):
    response = admin_client.get(url("admin_calendar", world, office_hours.pk), query)
    assert response.status_code == 200
    assert "due" not in response.context
    assert response.context["preview_form"].errors


def test_a_calendar_that_never_opens_is_refused(world):
    every_day = [
        {"date": f"2024-{month:02d}-{day:02d}", "recurring": True}
        for month in range(1, 13)
        for day in range(1, 32)
        if (month, day) not in {(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)}
    ]
    with pytest.raises(ValidationError) as caught:
        sla.calendar_create(
            actor=world.members[Role.ADMIN],
            name="Closed",
            timezone_name="UTC",
            hours={"mon": [["09:00", "17:00"]]},
            holidays=every_day,
        )
    assert "no working time in the next three years" in caught.value.message_dict["holidays"][0]


# --- Policies ------------------------------------------------------------------------------


def test_admin_creates_a_policy_with_conditions_and_targets(world, admin_client, office_hours):
    category = Category.objects.create(tenant=world.tenant, name="Network")
    Tag.objects.create(tenant=world.tenant, name="vpn")
    data = policy_post(
        name="VIP network",
        kinds=["incident", "problem"],
        priorities=["1", "2"],
        team=str(world.team.pk),
        category=str(category.pk),
        tag="vpn",
        requester_organisation="  Globex   Ltd ",
        vip_only="on",
        calendar=str(office_hours.pk),
        first_response_minutes="1h30m",
        next_response_minutes="2.5h",
        resolution_minutes="2400",
        warning_percent="75",
        pause_statuses=["pending", "known_error"],
    )
    response = admin_client.post(url("admin_policy_create", world), data)
    policy = Policy.objects.for_tenant(world.tenant).get(name="VIP network")
    assert response.status_code == 302
    assert response["Location"] == url("admin_policy", world, policy.pk)
    assert policy.kinds == ["incident", "problem"]
    assert policy.priorities == [1, 2]
    assert (policy.team, policy.category, policy.tag.name) == (world.team, category, "vpn")
    assert policy.requester_organisation == "Globex Ltd"
    assert policy.vip_only
    assert policy.is_active
    assert policy.calendar == office_hours
    assert policy.first_response_minutes == 90
    assert policy.next_response_minutes == 150
    assert policy.resolution_minutes == 2400
    assert policy.warning_percent == 75
    assert policy.pause_statuses == ["known_error", "pending"]
    assert actions(world) == ["sla.calendar_created", "sla.policy_created"]

    page = admin_client.get(response["Location"])
    form = page.context["form"]
    assert form["first_response_minutes"].value() == "1h 30m"
    assert form["resolution_minutes"].value() == "40h"
    assert form["tag"].value() == "vpn"


def test_policy_list_in_order_with_conditions_and_targets(
    world, admin_client, business_policy, urgent_policy
):
    response = admin_client.get(url("admin_policies", world))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["policy"].name for row in rows] == ["Standard", "Urgent"]
    assert rows[0]["conditions"] == ["P3, P4, P5"]
    assert rows[0]["targets"] == [
        ("First response", "8h"),
        ("Next response", "4h"),
        ("Resolution", "40h"),
    ]
    body = response.content.decode()
    assert "Berlin office" in body
    assert "24×7" in body


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"first_response_minutes": "soon"}, "first_response_minutes", "like 90"),
        ({"first_response_minutes": "0.01h"}, "first_response_minutes", "whole number"),
        (
            {"first_response_minutes": "", "resolution_minutes": ""},
            "resolution_minutes",
            "Set at least one target.",
        ),
        ({"resolution_minutes": "9000h"}, "resolution_minutes", "366 days"),
        ({"warning_percent": "150"}, "warning_percent", "Between 1 and 99"),
        ({"warning_percent": "lots"}, "warning_percent", "whole number"),
        ({"name": ""}, "name", "Give it a name."),
        ({"priorities": ["7"]}, "priorities", "Select a valid choice"),
        ({"kinds": ["outage"]}, "kinds", "Select a valid choice"),
        ({"tag": "no-such-tag"}, "tag", "No ticket has a tag"),
        ({"pause_statuses": ["resolved"]}, "pause_statuses", "Select a valid choice"),
    ],
)
def test_bad_policy_input_shows_next_to_the_field(world, admin_client, values, field, message):
    before = snapshot(world)
    response = admin_client.post(url("admin_policy_create", world), policy_post(**values))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert snapshot(world) == before


def test_foreign_choices_are_refused(world, foreign, admin_client):
    sla_world = foreign.tickets.sla
    before = snapshot(world)
    response = admin_client.post(
        url("admin_policy_create", world),
        policy_post(
            team=str(foreign.team.pk),
            calendar=str(sla_world.calendar.pk),
            category=str(foreign.tickets.category.pk),
        ),
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"team", "calendar", "category"}
    body = response.content.decode()
    assert sla_world.calendar.name not in body
    assert foreign.team.name not in body
    assert snapshot(world) == before


def test_admin_edits_a_policy(world, admin_client, business_policy):
    data = policy_post(
        name="Standard",
        priorities=["3", "4"],
        calendar="",
        first_response_minutes="4h",
        resolution_minutes="",
        next_response_minutes="1h",
        is_active=None,
    )
    response = admin_client.post(url("admin_policy", world, business_policy.pk), data)
    assert response.status_code == 302
    business_policy.refresh_from_db()
    assert business_policy.priorities == [3, 4]
    assert business_policy.calendar is None
    assert business_policy.first_response_minutes == 240
    assert business_policy.resolution_minutes is None
    assert not business_policy.is_active
    assert actions(world)[-1] == "sla.policy_changed"


def test_a_refused_edit_changes_nothing(world, admin_client, business_policy, urgent_policy):
    before = snapshot(world)
    response = admin_client.post(
        url("admin_policy", world, business_policy.pk), policy_post(name="Urgent")
    )
    assert response.status_code == 400
    assert "There is already one named" in str(response.context["form"].errors["name"])
    assert snapshot(world) == before


def test_policies_move_up_and_down(world, admin_client, business_policy, urgent_policy):
    def order() -> list[str]:
        return list(
            Policy.objects.for_tenant(world.tenant)
            .order_by("position", "pk")
            .values_list("name", flat=True)
        )

    response = admin_client.post(
        url("admin_policy_move", world, urgent_policy.pk), {"direction": "up"}
    )
    assert response.status_code == 302
    assert order() == ["Urgent", "Standard"]
    response = admin_client.post(
        url("admin_policy_move", world, urgent_policy.pk),
        {"direction": "down"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert order() == ["Standard", "Urgent"]
    body = response.content.decode()
    assert body.lstrip().startswith('<tbody id="policy-rows">')
    assert body.index("Standard") < body.index("Urgent")
    assert actions(world)[-2:] == ["sla.policy_moved", "sla.policy_moved"]


def test_a_bad_move_is_refused(world, admin_client, business_policy, urgent_policy):
    before = snapshot(world)
    response = admin_client.post(
        url("admin_policy_move", world, urgent_policy.pk),
        {"direction": "sideways"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert snapshot(world) == before


def test_admin_deletes_a_policy(world, admin_client, business_policy):
    response = admin_client.post(url("admin_policy_delete", world, business_policy.pk))
    assert response.status_code == 302
    assert response["Location"] == url("admin_policies", world)
    assert not Policy.objects.for_tenant(world.tenant).exists()
    assert actions(world)[-1] == "sla.policy_deleted"


# --- Escalations ---------------------------------------------------------------------------


def test_admin_adds_and_removes_escalations(world, admin_client, business_policy):
    agent, lead = world.user(Role.AGENT), world.user(Role.LEAD)
    response = admin_client.post(
        url("admin_escalation_create", world, business_policy.pk),
        {
            "trigger": "warning",
            "target": "resolution",
            "action": "notify_users",
            "users": [agent.pk, lead.pk],
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#escalations")
    escalation = Escalation.objects.for_tenant(world.tenant).get()
    assert (escalation.trigger, escalation.target, escalation.action) == (
        "warning",
        "resolution",
        "notify_users",
    )
    assert set(escalation.users.all()) == {agent, lead}
    page = admin_client.get(url("admin_policy", world, business_policy.pk)).content.decode()
    assert "Notify people" in page
    assert agent.display_name in page

    response = admin_client.post(url("admin_escalation_delete", world, escalation.pk))
    assert response.status_code == 302
    assert not Escalation.objects.for_tenant(world.tenant).exists()
    assert actions(world)[-2:] == ["sla.escalation_created", "sla.escalation_deleted"]


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"action": "reassign_team"}, "team", "Name the team to reassign to."),
        ({"action": "notify_users"}, "users", "Name at least one person"),
        ({"action": "notify_users", "users": ["requester"]}, "users", "Select a valid choice"),
        ({"action": "reboot"}, "action", "Select a valid choice"),
        ({"trigger": "someday"}, "trigger", "Select a valid choice"),
    ],
)
def test_bad_escalations_show_on_the_policy_page(
    world, admin_client, business_policy, values, field, message
):
    data = {"trigger": "breach", "target": "", "action": "notify_team_lead", **values}
    if data.get("users") == ["requester"]:
        data["users"] = [world.user(Role.REQUESTER).pk]
    before = snapshot(world)
    response = admin_client.post(url("admin_escalation_create", world, business_policy.pk), data)
    assert response.status_code == 400
    errors = response.context["escalation_form"].errors
    assert any(message in error for error in errors[field]), errors
    assert response.context["policy"] == business_policy
    assert snapshot(world) == before


def test_reassign_escalation_names_a_team(world, admin_client, business_policy):
    response = admin_client.post(
        url("admin_escalation_create", world, business_policy.pk),
        {"trigger": "breach", "action": "reassign_team", "team": world.team.pk},
    )
    assert response.status_code == 302
    escalation = Escalation.objects.for_tenant(world.tenant).get()
    assert escalation.team == world.team
    assert escalation.target == ""


# --- The policy preview --------------------------------------------------------------------


def test_policy_preview_on_business_hours(world, admin_client, business_policy):
    response = admin_client.get(
        url("admin_policy", world, business_policy.pk),
        {"kind": "incident", "priority": "3", "opened_at": "2026-03-06T16:30"},
    )
    assert response.status_code == 200
    targets = {row.label: row for row in response.context["targets"]}
    # 8h: half an hour on Friday, seven and a half on Monday.
    assert targets["First response"].due_at == berlin(2026, 3, 9, 16, 30)
    # 80% of 8h = 6h24m: half an hour on Friday, then Monday to 14:54.
    assert targets["First response"].warn_at == berlin(2026, 3, 9, 14, 54)
    # 40h: half an hour on Friday, four full days, seven and a half hours.
    assert targets["Resolution"].due_at == berlin(2026, 3, 13, 16, 30)
    assert targets["Next response"].due_at is None
    assert response.context["misses"] == []
    body = response.content.decode()
    assert "A P3 incident opened Fri 2026-03-06 16:30 would be" in body
    assert "Mon 2026-03-09 16:30" in body
    assert "within 4h of each requester reply" in body


def test_policy_preview_round_the_clock_and_conditions(world, admin_client, urgent_policy):
    response = admin_client.get(
        url("admin_policy", world, urgent_policy.pk),
        {"kind": "request", "priority": "4", "opened_at": "2026-03-07T23:50"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="policy-due",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="policy-due"')
    assert response.context["targets"][0].due_at == berlin(2026, 3, 8, 0, 5)
    assert response.context["targets"][1].due_at == berlin(2026, 3, 8, 3, 50)
    assert "does not apply to a P4 request: it covers priorities P1, P2 only" in body


def test_policy_preview_defaults_to_now(world, admin_client, urgent_policy):
    response = admin_client.get(url("admin_policy", world, urgent_policy.pk))
    assert response.status_code == 200
    now = datetime.now(tz=UTC)
    first = response.context["targets"][0].due_at
    assert 0 <= (first - now).total_seconds() <= 16 * 60


def test_bad_policy_preview_input_says_so(world, admin_client, urgent_policy):
    response = admin_client.get(
        url("admin_policy", world, urgent_policy.pk),
        {"kind": "outage", "priority": "9", "opened_at": "later"},
    )
    assert response.status_code == 200
    assert set(response.context["preview_form"].errors) == {"kind", "priority", "opened_at"}


# --- Members -------------------------------------------------------------------------------


def member_url(world, membership: Membership) -> str:
    return reverse("tenant_admin:member", args=[world.tenant.slug, membership.pk])


def profile_form(response):
    """The form of the member page's SLA profile card (a registered member panel)."""
    panel = next(p for p in response.context["panels"] if "sla_profile" in p["template"])
    return panel["context"]["form"]


def test_admin_sets_a_requesters_organisation_and_vip(world, admin_client):
    requester = world.members[Role.REQUESTER]
    response = admin_client.post(
        member_url(world, requester),
        {"form": "sla_profile", "organisation": " Globex  Ltd ", "is_vip": "on"},
    )
    assert response.status_code == 302
    requester.refresh_from_db()
    assert (requester.organisation, requester.is_vip, requester.role) == (
        "Globex Ltd",
        True,
        Role.REQUESTER,
    )
    assert actions(world) == ["member.sla_profile_changed"]
    page = admin_client.get(member_url(world, requester))
    assert profile_form(page).initial == {"organisation": "Globex Ltd", "is_vip": True}
    assert 'value="Globex Ltd"' in page.content.decode()

    response = admin_client.post(
        member_url(world, requester), {"form": "sla_profile", "organisation": ""}
    )
    requester.refresh_from_db()
    assert (requester.organisation, requester.is_vip) == ("", False)


def test_organisations_are_suggested(world, admin_client):
    MembershipFactory(tenant=world.tenant, organisation="Initech")
    page = admin_client.get(member_url(world, world.members[Role.REQUESTER])).content.decode()
    assert '<option value="Initech">' in page


def test_a_too_long_organisation_is_a_form_error(world, admin_client):
    requester = world.members[Role.REQUESTER]
    response = admin_client.post(
        member_url(world, requester), {"form": "sla_profile", "organisation": "o" * 101}
    )
    assert response.status_code == 400
    assert profile_form(response).errors["organisation"]
    requester.refresh_from_db()
    assert requester.organisation == ""
    assert actions(world) == []


def test_the_role_form_still_works_beside_the_profile(world, admin_client):
    agent = world.members[Role.AGENT]
    response = admin_client.post(member_url(world, agent), {"role": Role.LEAD})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.LEAD
    assert agent.organisation == ""


# --- Query counts and the audit trail -------------------------------------------------------


@pytest.mark.parametrize("extra", [5, 50])
def test_calendar_list_query_count_is_constant(
    world, admin_client, django_assert_num_queries, extra
):
    admin = world.members[Role.ADMIN]
    for n in range(extra):
        sla.calendar_create(
            actor=admin, name=f"Office {n}", timezone_name="Europe/Berlin", hours=WEEKDAYS_9_TO_5
        )
    admin_client.get(url("admin_calendars", world))  # stores the tenant in the session
    # session, user, memberships, set row-level tenant, calendars with their
    # policy counts, reset
    with django_assert_num_queries(6):
        response = admin_client.get(url("admin_calendars", world))
    assert len(response.context["rows"]) == extra


@pytest.mark.parametrize("extra", [5, 50])
def test_policy_list_query_count_is_constant(
    world, admin_client, django_assert_num_queries, office_hours, extra
):
    admin = world.members[Role.ADMIN]
    team = TeamFactory(tenant=world.tenant)
    for n in range(extra):
        policy = sla.policy_create(
            actor=admin,
            name=f"Policy {n}",
            priorities=[n % 5 + 1],
            team=team,
            calendar=office_hours if n % 2 else None,
            resolution_minutes=60 + n,
        )
        sla.escalation_create(actor=admin, policy=policy, trigger="breach", action="raise_priority")
    admin_client.get(url("admin_policies", world))  # stores the tenant in the session
    # session, user, memberships, set row-level tenant, policies with their
    # calendar, conditions and escalation counts, reset
    with django_assert_num_queries(6):
        response = admin_client.get(url("admin_policies", world))
    rows = response.context["rows"]
    assert len(rows) == extra
    assert all(row["policy"].escalation_count == 1 for row in rows)


def test_every_sla_audit_action_has_a_label():
    source = Path(sla.__file__).read_text()
    recorded = {
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.keyword)
        and node.arg == "action"
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and "." in node.value.value
    }
    assert "sla.calendar_created" in recorded
    assert recorded <= set(AUDIT_ACTION_LABELS)


def test_sla_changes_show_in_the_admin_overview(world, admin_client, business_policy):
    body = admin_client.get(reverse("tenant_admin:overview", args=[world.tenant.slug])).content
    assert b"SLA policy created" in body
    assert b"Business calendar created" in body


# --- Small pieces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "text"), [(45, "45m"), (60, "1h"), (90, "1h 30m"), (2400, "40h"), (None, "")]
)
def test_format_minutes(minutes, text):
    assert format_minutes(minutes) == text


@pytest.mark.parametrize(
    "path",
    [
        "/t/ours/admin/sla/calendars/" + "9" * 30 + "/",
        "/t/ours/admin/sla/policies/" + "9" * 30 + "/",
        "/t/ours/admin/sla/escalations/" + "9" * 30 + "/delete/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_absurd_ids_are_not_found(world, admin_client, path, method):
    assert getattr(admin_client, method)(path).status_code in (404, 405)


def test_sla_pages_have_no_duplicate_ids(world, admin_client, office_hours, business_policy):
    for path in (
        url("admin_policies", world),
        url("admin_policy_create", world),
        url("admin_policy", world, business_policy.pk),
        url("admin_calendars", world),
        url("admin_calendar_create", world),
        url("admin_calendar", world, office_hours.pk),
        reverse("tenant_admin:member", args=[world.tenant.slug, world.members[Role.AGENT].pk]),
    ):
        body = admin_client.get(path).content.decode()
        ids = re.findall(r'\sid="([^"]+)"', body)
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))
