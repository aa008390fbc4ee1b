"""REST API v1 of SLA settings, and the SLA block of the ticket JSON, called
the way integrations call them: with tokens."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS

from servicedesk.models import Role
from slo import services as sla
from slo.models import Calendar, Escalation, Policy
from tests.conftest import World
from tests.servicedesk.factories import ApiTokenFactory
from tests.slo.conftest import berlin
from tickets import services as tickets
from tickets.models import Category, Tag

pytestmark = pytest.mark.django_db

SLA_ADMIN = ["sla:admin"]
EVERY_SCOPE = ["tickets:read", "tickets:write", "sla:admin"]

# The calendar of the API's documentation, exactly.
BERLIN_OFFICE = {
    "name": "Berlin office",
    "timezone": "Europe/Berlin",
    "hours": {
        "mon": [["09:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]],
        "fri": [["09:00", "17:00"]],
        "sat": [],
        "sun": [],
    },
    "holidays": [{"date": "2026-12-25", "recurring": True, "name": "Christmas Day"}],
}
NIGHT_SHIFT = {
    "name": "Night shift",
    "timezone": "Europe/Berlin",
    "hours": {day: [["22:00", "06:00"]] for day in BERLIN_OFFICE["hours"]},
    "holidays": [],
}


class Api:
    """A client that speaks for one member through a Bearer token."""

    def __init__(self, world: World, role: str, scopes: list[str]):
        token = ApiTokenFactory(tenant=world.tenant, user=world.user(role), scopes=scopes)
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token.secret}")

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1/{path}", params)

    def send(self, method: str, path: str, data=None):
        if method == "get":
            return self.client.get(f"/api/v1/{path}")
        return getattr(self.client, method)(
            f"/api/v1/{path}", json.dumps(data), content_type="application/json"
        )

    def post(self, path: str, data=None):
        return self.send("post", path, data)

    def put(self, path: str, data):
        return self.send("put", path, data)

    def patch(self, path: str, data):
        return self.send("patch", path, data)

    def delete(self, path: str):
        return self.client.delete(f"/api/v1/{path}")


@pytest.fixture
def api(world):
    return lambda role=Role.ADMIN, scopes=SLA_ADMIN: Api(world, role, scopes)


@pytest.fixture
def frozen_now(monkeypatch):
    """Pin ``timezone.now`` for the code under test (the clocks' "as of")."""

    def freeze(instant: datetime) -> datetime:
        monkeypatch.setattr(timezone, "now", lambda: instant)
        return instant

    return freeze


def calendars(world: World) -> list[str]:
    return list(Calendar.objects.for_tenant(world.tenant).values_list("name", flat=True))


# --- Calendars ---------------------------------------------------------------------------


class TestCalendars:
    def test_create_answers_201_with_the_id_and_the_documented_shape(self, world, api):
        response = api().post("sla/calendars/", BERLIN_OFFICE)
        assert response.status_code == 201, response.content
        body = response.json()
        calendar = Calendar.objects.for_tenant(world.tenant).get()
        assert body == {"id": calendar.pk, **BERLIN_OFFICE}
        assert list(body) == ["id", "name", "timezone", "hours", "holidays"]
        assert api().get(f"sla/calendars/{calendar.pk}/").json() == body

    def test_what_comes_back_is_what_was_posted_normalised(self, world, api):
        posted = {
            "name": "  Support   desk ",
            "timezone": "Europe/Berlin",
            # Days left out have no working time; an overnight shift and one
            # ending at midnight are kept as written, shifts sorted.
            "hours": {
                "fri": [["18:00", "24:00"], ["09:00", "12:00"]],
                "sat": [["22:00", "06:00"]],
            },
            "holidays": [
                {"date": "2027-01-01", "recurring": True, "name": " New   Year "},
                {"date": "2026-12-25"},
                {"date": "2027-01-01", "recurring": True, "name": "again"},
            ],
        }
        created = api().post("sla/calendars/", posted)
        assert created.status_code == 201, created.content
        expected = {
            "id": created.json()["id"],
            "name": "Support desk",
            "timezone": "Europe/Berlin",
            "hours": {
                "mon": [],
                "tue": [],
                "wed": [],
                "thu": [],
                "fri": [["09:00", "12:00"], ["18:00", "24:00"]],
                "sat": [["22:00", "06:00"]],
                "sun": [],
            },
            "holidays": [
                {"date": "2026-12-25", "recurring": False, "name": ""},
                {"date": "2027-01-01", "recurring": True, "name": "New Year"},
            ],
        }
        assert created.json() == expected
        assert api().get(f"sla/calendars/{expected['id']}/").json() == expected

    def test_list_shows_our_calendars_only_in_a_fixed_number_of_queries(
        self, world, foreign, api, django_assert_num_queries
    ):
        client = api()
        for name in ("Zurich", "Austin", "Berlin"):
            assert client.post("sla/calendars/", {**BERLIN_OFFICE, "name": name}).status_code == 201
        client.get("sla/calendars/")  # the token's last_used_at is written once a minute
        # token, membership, raise the row-level wall, the page, lower the wall
        with django_assert_num_queries(5):
            response = client.get("sla/calendars/")
        assert [c["name"] for c in response.json()["results"]] == ["Austin", "Berlin", "Zurich"]
        assert foreign.tickets.sla.calendar.name not in response.content.decode()

    def test_put_replaces_and_patch_changes_what_it_names(self, world, api):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        replaced = client.put(
            f"sla/calendars/{calendar_id}/",
            {
                "name": "Austin",
                "timezone": "America/Chicago",
                "hours": {"mon": [["08:00", "16:00"]]},
            },
        )
        assert replaced.status_code == 200, replaced.content
        assert (replaced.json()["timezone"], replaced.json()["holidays"]) == ("America/Chicago", [])
        patched = client.patch(f"sla/calendars/{calendar_id}/", {"name": "Austin TX"})
        assert patched.status_code == 200, patched.content
        assert patched.json() == {**replaced.json(), "name": "Austin TX"}
        # A GET's body goes back as a PUT unchanged (the id is read-only).
        again = client.put(f"sla/calendars/{calendar_id}/", patched.json())
        assert again.json() == patched.json()

    def test_put_needs_the_whole_calendar(self, world, api):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        response = client.put(f"sla/calendars/{calendar_id}/", {"name": "Only a name"})
        assert response.status_code == 400
        assert response.json() == {
            "timezone": ["This field is required."],
            "hours": ["This field is required."],
        }

    def test_delete_and_a_calendar_in_use(self, world, api, admin):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        calendar = Calendar.objects.for_tenant(world.tenant).get(pk=calendar_id)
        policy = sla.policy_create(
            actor=admin, name="Standard", calendar=calendar, resolution_minutes=60
        )
        response = client.delete(f"sla/calendars/{calendar_id}/")
        assert response.status_code == 400
        assert response.json() == {
            "calendar": ["Policies use this calendar: Standard. Change them first."]
        }
        sla.policy_delete(actor=admin, policy=policy)
        assert client.delete(f"sla/calendars/{calendar_id}/").status_code == 204
        assert calendars(world) == []
        assert client.get(f"sla/calendars/{calendar_id}/").status_code == 404

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            (
                {"timezone": "Mars/Olympus"},
                {"timezone": ["“Mars/Olympus” is not a known time zone."]},
            ),
            ({"timezone": None}, {"timezone": ["“None” is not a known time zone."]}),
            (
                {"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}},
                {"hours": {"mon": ["09:00–13:00 overlaps mon 12:00–17:00."]}},
            ),
            (
                # Sunday night runs into Monday morning.
                {"hours": {"sun": [["22:00", "06:00"]], "mon": [["05:00", "09:00"]]}},
                {"hours": {"sun": ["22:00–06:00 overlaps mon 05:00–09:00."]}},
            ),
            (
                {"hours": {"tue": [["9am", "17:00"]], "wed": [["09:00", "25:00"]]}},
                {
                    "hours": {
                        "tue": ["“9am” is not a time like 09:00."],
                        "wed": [
                            "“25:00” is not a time of day (00:00 to 23:59, or 24:00 as an end)."
                        ],
                    }
                },
            ),
            (
                {"hours": {"thu": "09:00-17:00", "fri": [["09:00"]]}},
                {
                    "hours": {
                        "thu": ['Give a list of ["start", "end"] pairs.'],
                        "fri": ['Each interval is a ["start", "end"] pair, not [\'09:00\'].'],
                    }
                },
            ),
            (
                {"hours": {"mon": [["09:00", "09:00"]]}},
                {"hours": {"mon": ["09:00–09:00 has no length; use 00:00–24:00 for a whole day."]}},
            ),
            (
                {"hours": {"monday": [["09:00", "17:00"]]}},
                {"hours": ["Unknown weekday monday; use mon, tue, wed, thu, fri, sat, sun."]},
            ),
            (
                {"hours": {"mon": []}},
                {"hours": ["A calendar needs at least one working interval."]},
            ),
            (
                {"hours": [["09:00", "17:00"]]},
                {"hours": ['Give working hours per weekday: {"mon": [["09:00", "17:00"]], …}.']},
            ),
            (
                {"holidays": [{"date": "2026-13-01"}, {"date": "2026-12-24", "when": "eve"}]},
                {
                    "holidays": [
                        "“2026-13-01” is not a date like 2026-12-25.",
                        "Unknown holiday field when.",
                    ]
                },
            ),
            (
                {"holidays": "2026-12-25"},
                {"holidays": ['Give a list of {"date": "YYYY-MM-DD"} entries.']},
            ),
            (
                {"holidays": [{"date": "2026-12-25", "recurring": "yes"}]},
                {"holidays": ["2026-12-25: recurring is true or false."]},
            ),
            ({"name": "   "}, {"name": ["Give it a name."]}),
            ({"name": "x" * 101}, {"name": ["At most 100 characters."]}),
            ({"colour": "blue"}, {"colour": ["Unknown field."]}),
        ],
        ids=lambda value: json.dumps(value)[:40] if isinstance(value, dict) else None,
    )
    def test_invalid_calendars_are_400_with_field_messages(self, world, api, change, errors):
        response = api().post("sla/calendars/", {**BERLIN_OFFICE, **change})
        assert response.status_code == 400, response.content
        assert response.json() == errors
        assert calendars(world) == []

    def test_every_problem_is_reported_at_once(self, world, api):
        response = api().post(
            "sla/calendars/",
            {
                "name": "",
                "timezone": "Nowhere",
                "hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]},
                "holidays": [{"date": "soon"}],
            },
        )
        assert response.status_code == 400
        assert set(response.json()) == {"name", "timezone", "hours", "holidays"}
        assert list(response.json()["hours"]) == ["mon"]

    def test_a_body_that_is_not_an_object_is_400(self, world, api):
        response = api().post("sla/calendars/", [BERLIN_OFFICE])
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["Send a JSON object."]}

    def test_names_are_unique_per_tenant(self, world, foreign, api):
        client = api()
        assert client.post("sla/calendars/", BERLIN_OFFICE).status_code == 201
        response = client.post("sla/calendars/", {**BERLIN_OFFICE, "name": " Berlin  office"})
        assert response.status_code == 400
        assert response.json() == {"name": ["There is already one named “Berlin office”."]}
        # Another tenant's calendar of the same name is no obstacle.
        taken = {**BERLIN_OFFICE, "name": foreign.tickets.sla.calendar.name}
        assert client.post("sla/calendars/", taken).status_code == 201

    @pytest.mark.parametrize("calendar_id", ["0", "abc", "99999999999999999999999", "-1"])
    def test_unknown_ids_are_404(self, world, api, calendar_id):
        assert api().get(f"sla/calendars/{calendar_id}/").status_code == 404


# --- The due-time preview ------------------------------------------------------------------


class TestDue:
    @pytest.mark.parametrize(
        ("calendar", "start", "minutes", "due"),
        [
            # Friday 16:30 in Berlin: 30 minutes on Friday, 30 on Monday morning.
            (BERLIN_OFFICE, "2026-03-06T16:30:00+01:00", 60, "2026-03-09T08:30:00Z"),
            # The same instant written in UTC.
            (BERLIN_OFFICE, "2026-03-06T15:30:00Z", 60, "2026-03-09T08:30:00Z"),
            # Christmas Day (a Friday) is a holiday: Thursday's last half hour, then Monday.
            (BERLIN_OFFICE, "2026-12-24T16:30:00+01:00", 60, "2026-12-28T08:30:00Z"),
            # Before opening: the count starts at 09:00.
            (BERLIN_OFFICE, "2026-03-09T07:00:00+01:00", 90, "2026-03-09T09:30:00Z"),
            # Nothing to add: the start itself.
            (BERLIN_OFFICE, "2026-03-07T12:00:00+01:00", 0, "2026-03-07T11:00:00Z"),
            # Overnight 22:00–06:00: two hours of a shift end at midnight, eight at 06:00.
            (NIGHT_SHIFT, "2026-03-02T21:00:00+01:00", 120, "2026-03-02T23:00:00Z"),
            (NIGHT_SHIFT, "2026-03-02T21:00:00+01:00", 480, "2026-03-03T05:00:00Z"),
            # From inside the night: an hour to 06:00, the rest from 22:00.
            (NIGHT_SHIFT, "2026-03-03T05:00:00+01:00", 120, "2026-03-03T22:00:00Z"),
        ],
    )
    def test_due_times(self, world, api, calendar, start, minutes, due):
        client = api()
        calendar_id = client.post("sla/calendars/", calendar).json()["id"]
        response = client.post(
            f"sla/calendars/{calendar_id}/due/", {"start": start, "minutes": minutes}
        )
        assert response.status_code == 200, response.content
        assert response.json() == {"due": due}

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"minutes": 60}, "start"),
            ({"start": "2026-03-06T16:30:00", "minutes": 60}, "start"),
            ({"start": "next friday", "minutes": 60}, "start"),
            ({"start": 1772811000, "minutes": 60}, "start"),
            ({"start": "2026-03-06T16:30:00Z"}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": -1}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": 1.5}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": "sixty"}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": None}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": 10**12}, "minutes"),
            ({"start": "2026-03-06T16:30:00Z", "minutes": sla.MAX_TARGET_MINUTES + 1}, "minutes"),
            ({"start": "9999-12-31T16:30:00Z", "minutes": 600}, "start"),
        ],
    )
    def test_bad_input_is_400_with_field_messages(self, world, api, payload, field):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        response = client.post(f"sla/calendars/{calendar_id}/due/", payload)
        assert response.status_code == 400, response.content
        assert list(response.json()) == [field]
        assert response.json()[field][0]

    def test_a_naive_start_says_what_is_missing(self, world, api):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        response = client.post(
            f"sla/calendars/{calendar_id}/due/", {"start": "2026-03-06T16:30", "minutes": 1}
        )
        assert response.json() == {
            "start": ["Give the time with its offset, e.g. 2026-03-06T16:30:00+01:00 or …Z."]
        }

    def test_the_longest_target_is_previewed(self, world, api):
        client = api()
        calendar_id = client.post("sla/calendars/", BERLIN_OFFICE).json()["id"]
        response = client.post(
            f"sla/calendars/{calendar_id}/due/",
            {"start": "2026-03-06T16:30:00Z", "minutes": sla.MAX_TARGET_MINUTES},
        )
        assert response.status_code == 200
        assert response.json()["due"].startswith("2030-")


# --- Who may call ------------------------------------------------------------------------


SLA_REQUESTS = [
    ("get", "sla/calendars/"),
    ("post", "sla/calendars/"),
    ("get", "sla/policies/"),
    ("post", "sla/policies/"),
    ("get", "sla/escalations/"),
    ("post", "sla/escalations/"),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "path"), SLA_REQUESTS)
    def test_a_token_without_the_sla_scope_is_refused(self, world, api, method, path):
        response = api(scopes=["tickets:read", "tickets:write"]).send(method, path, BERLIN_OFFICE)
        assert response.status_code == 403
        assert response.json() == {
            "detail": "This token lacks the scope “sla:admin”.",
            "code": "missing_scope",
        }

    @pytest.mark.parametrize("role", [Role.REQUESTER, Role.AGENT, Role.LEAD])
    @pytest.mark.parametrize(("method", "path"), SLA_REQUESTS)
    def test_only_admins_may_even_with_the_scope(self, world, api, role, method, path):
        response = api(role, EVERY_SCOPE).send(method, path, BERLIN_OFFICE)
        assert response.status_code == 403
        assert response.json()["code"] == "role_required"
        assert calendars(world) == []

    def test_the_preview_is_the_admins_too(self, world, api, office_hours):
        response = api(Role.AGENT, EVERY_SCOPE).post(
            f"sla/calendars/{office_hours.pk}/due/",
            {"start": "2026-03-06T16:30:00Z", "minutes": 1},
        )
        assert response.status_code == 403

    @pytest.mark.parametrize(("method", "path"), SLA_REQUESTS)
    def test_anonymous_is_401(self, world, method, path):
        response = getattr(Client(), method)(f"/api/v1/{path}")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_the_admins_browser_session_works_too(self, world, login):
        client = login(world.user(Role.ADMIN))
        response = client.post(
            "/api/v1/sla/calendars/", json.dumps(BERLIN_OFFICE), content_type="application/json"
        )
        assert response.status_code == 201
        agent = login(world.user(Role.AGENT))
        assert agent.get("/api/v1/sla/calendars/").status_code == 403


# --- Policies ----------------------------------------------------------------------------


@pytest.fixture
def refs(world, office_hours):
    """Our tenant's objects a policy may name."""
    return {
        "calendar": office_hours.pk,
        "team": world.team.pk,
        "category": Category.objects.create(tenant=world.tenant, name="Network").pk,
        "tag": Tag.objects.create(tenant=world.tenant, name="vpn").pk,
    }


def full_policy(refs) -> dict[str, object]:
    return {
        "name": "Gold",
        "is_active": True,
        "kinds": ["request", "incident"],
        "priorities": [2, 1],
        **refs,
        "requester_organisation": "ACME",
        "vip_only": True,
        "first_response_minutes": 30,
        "next_response_minutes": 120,
        "resolution_minutes": 480,
        "warning_percent": 75,
        "pause_statuses": ["pending"],
    }


class TestPolicies:
    def test_create_and_round_trip(self, world, api, refs):
        response = api().post("sla/policies/", full_policy(refs))
        assert response.status_code == 201, response.content
        body = response.json()
        policy = Policy.objects.for_tenant(world.tenant).get()
        assert body == {
            **full_policy(refs),
            "id": policy.pk,
            "position": 1,
            "kinds": ["incident", "request"],
            "priorities": [1, 2],
            "escalations": [],
        }
        assert api().get(f"sla/policies/{policy.pk}/").json() == body
        assert policy.calendar_id == refs["calendar"]

    def test_the_defaults(self, world, api):
        response = api().post("sla/policies/", {"name": "Catch-all", "resolution_minutes": 60})
        assert response.status_code == 201, response.content
        body = response.json()
        assert {k: body[k] for k in ("calendar", "team", "kinds", "priorities", "is_active")} == {
            "calendar": None,
            "team": None,
            "kinds": [],
            "priorities": [],
            "is_active": True,
        }
        assert (body["warning_percent"], body["pause_statuses"]) == (80, ["pending"])

    @pytest.mark.parametrize("field", ["calendar", "team", "category", "tag"])
    def test_foreign_references_are_not_found(self, world, foreign, api, refs, field):
        theirs = {
            "calendar": foreign.tickets.sla.calendar.pk,
            "team": foreign.team.pk,
            "category": foreign.tickets.category.pk,
            "tag": Tag.objects.for_tenant(foreign.tenant).get().pk,
        }
        response = api().post("sla/policies/", {**full_policy(refs), field: theirs[field]})
        assert response.status_code == 400
        assert response.json() == {field: ["Not found."]}
        assert not Policy.objects.for_tenant(world.tenant).exists()

    @pytest.mark.parametrize("value", [0, -4, "abc", 10**30, True, [1], {"id": 1}, "1.0"])
    def test_malformed_references_are_not_found(self, world, api, refs, value):
        response = api().post("sla/policies/", {**full_policy(refs), "calendar": value})
        assert response.status_code == 400
        assert response.json() == {"calendar": ["Not found."]}

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            (
                {"first_response_minutes": None, "resolution_minutes": None},
                {"resolution_minutes": ["Set at least one target."]},
            ),
            ({"resolution_minutes": 0}, {"resolution_minutes": ["Between 1 minute and 366 days."]}),
            ({"resolution_minutes": 1.5}, {"resolution_minutes": ["A valid integer is required."]}),
            ({"warning_percent": 100}, {"warning_percent": ["Between 1 and 99 percent."]}),
            (
                {"pause_statuses": ["new"]},
                {"pause_statuses": ["Pausing statuses are: pending, known_error."]},
            ),
            (
                {"kinds": ["outage"]},
                {"kinds": ["Choose kinds from: incident, request, problem, change."]},
            ),
            ({"priorities": [9]}, {"priorities": ["Choose priorities from 1 to 5."]}),
            ({"name": " "}, {"name": ["Give it a name."]}),
            (
                {"position": 9, "escalations": [], "id": 4, "color": "red"},
                {"color": ["Unknown field."]},
            ),
        ],
        ids=lambda value: json.dumps(value)[:40] if isinstance(value, dict) else None,
    )
    def test_invalid_policies_are_400_with_field_messages(self, world, api, change, errors):
        payload = {"name": "Gold", "first_response_minutes": 30, "resolution_minutes": 480}
        response = api().post("sla/policies/", {**payload, **change})
        assert response.status_code == 400, response.content
        assert response.json() == errors
        assert not Policy.objects.for_tenant(world.tenant).exists()

    def test_patch_keeps_what_it_does_not_name_and_put_replaces(self, world, api, refs):
        client = api()
        created = client.post("sla/policies/", full_policy(refs)).json()
        patched = client.patch(f"sla/policies/{created['id']}/", {"warning_percent": 90})
        assert patched.status_code == 200, patched.content
        assert patched.json() == {**created, "warning_percent": 90}
        replaced = client.put(
            f"sla/policies/{created['id']}/", {"name": "Gold", "resolution_minutes": 60}
        )
        assert replaced.status_code == 200, replaced.content
        assert (replaced.json()["calendar"], replaced.json()["vip_only"]) == (None, False)
        # A GET's body goes back as a PUT unchanged.
        again = client.put(f"sla/policies/{created['id']}/", replaced.json())
        assert again.json() == replaced.json()

    def test_order_move_and_delete(self, world, api, django_assert_num_queries, admin):
        client = api()
        ids = [
            client.post("sla/policies/", {"name": name, "resolution_minutes": 60}).json()["id"]
            for name in ("First", "Second", "Third")
        ]
        moved = client.post(f"sla/policies/{ids[2]}/move/", {"offset": -1})
        assert moved.status_code == 200, moved.content
        assert moved.json()["position"] == 2
        assert client.post(f"sla/policies/{ids[2]}/move/", {"offset": 5}).status_code == 400
        for policy_id in ids:
            sla.escalation_create(
                actor=admin,
                policy=Policy.objects.for_tenant(world.tenant).get(pk=policy_id),
                trigger="warning",
                action="notify_users",
                users=[world.user(Role.AGENT), world.user(Role.LEAD)],
            )
        client.get("sla/policies/")  # the token's last_used_at is written once a minute
        # token, membership, raise the wall, the page (with its joins), the
        # escalations, their people, lower the wall
        with django_assert_num_queries(7):
            listed = client.get("sla/policies/").json()["results"]
        assert [p["name"] for p in listed] == ["First", "Third", "Second"]
        assert [p["position"] for p in listed] == [1, 2, 3]
        assert listed[0]["escalations"][0]["users"] == sorted(
            [world.user(Role.AGENT).email, world.user(Role.LEAD).email]
        )
        assert client.delete(f"sla/policies/{ids[0]}/").status_code == 204
        assert [p["name"] for p in client.get("sla/policies/").json()["results"]] == [
            "Third",
            "Second",
        ]
        assert not Escalation.objects.for_tenant(world.tenant).filter(policy_id=ids[0]).exists()


# --- Escalations -------------------------------------------------------------------------


class TestEscalations:
    def test_create_list_and_delete(self, world, api, business_policy, urgent_policy):
        client = api()
        response = client.post(
            "sla/escalations/",
            {
                "policy": business_policy.pk,
                "trigger": "breach",
                "target": "resolution",
                "action": "notify_users",
                "users": [world.user(Role.LEAD).email.upper(), world.user(Role.AGENT).email],
            },
        )
        assert response.status_code == 201, response.content
        escalation = response.json()
        assert escalation == {
            "id": Escalation.objects.for_tenant(world.tenant).get().pk,
            "policy": business_policy.pk,
            "trigger": "breach",
            "target": "resolution",
            "action": "notify_users",
            "team": None,
            "users": sorted([world.user(Role.LEAD).email, world.user(Role.AGENT).email]),
        }
        reassign = client.post(
            "sla/escalations/",
            {
                "policy": urgent_policy.pk,
                "trigger": "warning",
                "action": "reassign_team",
                "team": world.team.pk,
            },
        )
        assert reassign.status_code == 201, reassign.content
        assert (reassign.json()["team"], reassign.json()["target"]) == (world.team.pk, "")
        # Listed inside their policy, and on their own (of one policy, or all).
        policy = client.get(f"sla/policies/{business_policy.pk}/").json()
        assert policy["escalations"] == [escalation]
        assert client.get(f"sla/escalations/{escalation['id']}/").json() == escalation
        everything = client.get("sla/escalations/").json()["results"]
        assert [e["id"] for e in everything] == [escalation["id"], reassign.json()["id"]]
        only = client.get("sla/escalations/", policy=urgent_policy.pk).json()["results"]
        assert [e["id"] for e in only] == [reassign.json()["id"]]
        assert client.get("sla/escalations/", policy="urgent").status_code == 400
        assert client.delete(f"sla/escalations/{escalation['id']}/").status_code == 204
        assert client.get(f"sla/escalations/{escalation['id']}/").status_code == 404
        assert client.get(f"sla/policies/{business_policy.pk}/").json()["escalations"] == []

    @pytest.mark.parametrize(
        ("change", "errors"),
        [
            ({"policy": "theirs"}, {"policy": ["Not found."]}),
            ({"team": "theirs"}, {"team": ["Not found."]}),
            (
                {"action": "notify_users", "users": ["requester@ours.test"]},
                {
                    "users": [
                        "No active agent of this organisation has the e-mail requester@ours.test."
                    ]
                },
            ),
            (
                {"action": "notify_users", "users": ["agent@theirs.test"]},
                {
                    "users": [
                        "No active agent of this organisation has the e-mail agent@theirs.test."
                    ]
                },
            ),
            ({"action": "notify_users"}, {"users": ["Name at least one person to notify."]}),
            (
                {"action": "reassign_team", "team": None},
                {"team": ["Name the team to reassign to."]},
            ),
            ({"trigger": "soon"}, {"trigger": ['"soon" is not a valid choice.']}),
            ({"priority": 1}, {"priority": ["Unknown field."]}),
        ],
        ids=lambda value: json.dumps(value)[:40] if isinstance(value, dict) else None,
    )
    def test_invalid_escalations_are_400(
        self, world, foreign, api, business_policy, change, errors
    ):
        theirs = {"policy": foreign.tickets.sla.policy.pk, "team": foreign.team.pk}
        payload = {
            "policy": business_policy.pk,
            "trigger": "breach",
            "action": "notify_team_lead",
            "team": world.team.pk,
        }
        change = {k: theirs[k] if v == "theirs" else v for k, v in change.items()}
        response = api().post("sla/escalations/", {**payload, **change})
        assert response.status_code == 400, response.content
        assert response.json() == errors
        assert not Escalation.objects.for_tenant(world.tenant).exists()


# --- The SLA block of the ticket JSON ----------------------------------------------------

MONDAY_10 = berlin(2026, 3, 2, 10, 0)


@pytest.fixture
def desk_history(world, agent, requester, business_policy, urgent_policy):
    """Three tickets opened on Monday 2 March 2026 at 10:00 in Berlin
    (09:00Z), as of 12:00 (11:00Z):

    * running: a P5 on office hours, untouched;
    * paused: a P5 answered at 10:30 and set pending at 11:00;
    * breached: a P1 on 24×7 with a 15-minute first response, unanswered.
    """

    def opened(title: str, **levels: int):
        return tickets.ticket_create(
            actor=agent,
            kind="incident",
            title=title,
            requester=requester.user,
            now=MONDAY_10,
            **levels,
        )

    running = opened("Printer offline")
    paused = opened("Waiting for a screenshot")
    tickets.ticket_transition(
        actor=agent, ticket=paused, status="in_progress", now=MONDAY_10 + timedelta(minutes=30)
    )
    tickets.ticket_transition(
        actor=agent, ticket=paused, status="pending", now=MONDAY_10 + timedelta(hours=1)
    )
    breached = opened("Payroll down", impact=1, urgency=1)
    return {"running": running, "paused": paused, "breached": breached}


def clock_json(state, due_at, remaining, goal, **extra):
    return {
        "state": state,
        "due_at": due_at,
        "remaining_business_seconds": remaining,
        "goal_business_seconds": goal,
        "warned_at": None,
        "breached_at": None,
        "stopped_at": None,
        "paused_seconds": 0,
        **extra,
    }


class TestTicketSla:
    @pytest.fixture
    def expected(self, business_policy, urgent_policy):
        standard = {"id": business_policy.pk, "name": "Standard"}
        urgent = {"id": urgent_policy.pk, "name": "Urgent"}
        hours = 3600
        return {
            "running": {
                # 8 business hours from Monday 10:00: Tuesday 10:00 in Berlin.
                "first_response": clock_json(
                    "running", "2026-03-03T09:00:00Z", 6 * hours, 8 * hours, policy=standard
                ),
                # 40 business hours: the next Monday at 10:00.
                "resolution": clock_json(
                    "running", "2026-03-09T09:00:00Z", 38 * hours, 40 * hours, policy=standard
                ),
            },
            "paused": {
                "first_response": clock_json(
                    "met",
                    "2026-03-03T09:00:00Z",
                    8 * hours - 1800,
                    8 * hours,
                    stopped_at="2026-03-02T09:30:00Z",
                    policy=standard,
                ),
                "resolution": clock_json(
                    "paused", None, 39 * hours, 40 * hours, paused_seconds=hours, policy=standard
                ),
            },
            "breached": {
                "first_response": clock_json(
                    "breached",
                    "2026-03-02T09:15:00Z",
                    15 * 60 - 2 * hours,
                    15 * 60,
                    # The warning at 80 % of 15 minutes, marked as it happened.
                    warned_at="2026-03-02T09:12:00Z",
                    breached_at="2026-03-02T09:15:00Z",
                    policy=urgent,
                ),
                "resolution": clock_json(
                    "running",
                    "2026-03-02T13:00:00Z",
                    2 * hours,
                    4 * hours,
                    warned_at=None,
                    policy=urgent,
                ),
            },
        }

    def test_the_list_and_the_detail_show_the_clocks(
        self, world, api, desk_history, expected, frozen_now
    ):
        frozen_now(MONDAY_10 + timedelta(hours=2))
        client = api(Role.AGENT, ["tickets:read"])
        rows = {row["number"]: row["sla"] for row in client.get("tickets/").json()["results"]}
        assert rows == {desk_history[name].key: expected[name] for name in desk_history}
        for name, ticket in desk_history.items():
            detail = client.get(f"tickets/{ticket.key}/")
            assert detail.json()["sla"] == expected[name], name

    def test_targets_without_a_clock_are_absent(self, world, api, agent):
        ticket = tickets.ticket_create(actor=agent, kind="incident", title="No policy applies")
        response = api(Role.AGENT, ["tickets:read"]).get(f"tickets/{ticket.key}/")
        assert response.json()["sla"] == {}

    def test_writes_answer_with_the_clocks_too(self, world, api, business_policy):
        client = api(Role.AGENT, ["tickets:read", "tickets:write"])
        created = client.post(
            "tickets/", {"title": "Keyboard sticks", "requester": world.user(Role.REQUESTER).email}
        )
        assert created.status_code == 201
        assert set(created.json()["sla"]) == {"first_response", "resolution"}
        moved = client.post(
            f"tickets/{created.json()['number']}/transition/", {"status": "in_progress"}
        )
        assert moved.json()["sla"]["first_response"]["state"] == "met"

    @pytest.mark.parametrize("role", [Role.AGENT, Role.LEAD, Role.ADMIN])
    def test_staff_see_the_sla(self, world, api, desk_history, role):
        client = api(role, ["tickets:read"])
        assert all(row["sla"] for row in client.get("tickets/").json()["results"])

    def test_requesters_do_not(self, world, api, desk_history, django_assert_num_queries):
        client = api(Role.REQUESTER, ["tickets:read"])
        rows = client.get("tickets/").json()["results"]
        assert len(rows) == 3
        assert ["sla" in row for row in rows] == [False, False, False]
        ticket = desk_history["breached"]
        assert "sla" not in client.get(f"tickets/{ticket.key}/").json()
        # Nor do they pay for it: no clocks query.
        # token, membership, raise the wall, the page, the tags, lower the wall
        with django_assert_num_queries(6):
            client.get("tickets/")
        with django_assert_num_queries(6):
            client.get(f"tickets/{ticket.key}/")

    @pytest.mark.parametrize("rows", [5, 50])
    def test_the_clocks_cost_one_query_per_page(
        self, world, api, agent, urgent_policy, rows, django_assert_num_queries
    ):
        for n in range(rows):
            tickets.ticket_create(
                actor=agent, kind="incident", title=f"Outage {n}", impact=1, urgency=1
            )
        client = api(Role.AGENT, ["tickets:read"])
        client.get("tickets/")  # the token's last_used_at is written once a minute
        # token, membership, raise the wall, the page, the tags, the clocks, lower the wall
        with django_assert_num_queries(7):
            response = client.get("tickets/", page_size=50)
        body = response.json()["results"]
        assert len(body) == rows
        assert all(set(row["sla"]) == {"first_response", "resolution"} for row in body)
        # The detail: the ticket, its tags and its clocks.
        with django_assert_num_queries(7):
            client.get(f"tickets/{body[0]['number']}/")


# --- The schema --------------------------------------------------------------------------


def test_the_schema_documents_every_sla_route_without_warnings(db, tmp_path):
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.json"
    call_command(
        "spectacular",
        "--fail-on-warn",
        "--validate",
        "--format",
        "openapi-json",
        "--file",
        str(target),
    )
    schema = json.loads(target.read_text())
    paths = set(schema["paths"])
    assert {
        "/api/v1/sla/calendars/",
        "/api/v1/sla/calendars/{calendar_id}/",
        "/api/v1/sla/calendars/{calendar_id}/due/",
        "/api/v1/sla/policies/",
        "/api/v1/sla/policies/{policy_id}/",
        "/api/v1/sla/policies/{policy_id}/move/",
        "/api/v1/sla/escalations/",
        "/api/v1/sla/escalations/{escalation_id}/",
    } <= paths
    ticket = schema["components"]["schemas"]["Ticket"]["properties"]
    assert ticket["sla"]["nullable"] is True
    clock = schema["components"]["schemas"]["SlaClock"]["properties"]
    assert {"due_at", "state", "remaining_business_seconds"} <= set(clock)
