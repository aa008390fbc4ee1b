"""Business-time arithmetic: table-driven cases a person can check against a
wall calendar, then properties over random calendars (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from slo.business_time import (
    ALWAYS_OPEN,
    WEEKDAYS,
    BusinessCalendar,
    CalendarNeverOpens,
    add_business_minutes,
    add_business_time,
    build_calendar,
    business_minutes_between,
    business_time_between,
    next_opening,
    week_as_json,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}
EVERY_NIGHT = {day: [["00:00", "06:00"]] for day in WEEKDAYS}


def calendar(zone: str = "Europe/Berlin", hours=None, holidays=None) -> BusinessCalendar:
    return build_calendar(zone, OFFICE if hours is None else hours, holidays or [])


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


# --- Adding business minutes -----------------------------------------------------------------

ADD_CASES = [
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 27, 16, 30),  # a Friday
        60,
        local(BERLIN, 2026, 11, 30, 9, 30),
        id="friday 16:30 + 60 on 09-17 is monday 09:30",
    ),
    pytest.param(
        calendar(holidays=[{"date": "2026-11-30"}]),
        local(BERLIN, 2026, 11, 27, 16, 30),
        60,
        local(BERLIN, 2026, 12, 1, 9, 30),
        id="a holiday monday moves it to tuesday",
    ),
    pytest.param(
        calendar(holidays=[{"date": "2020-12-25", "recurring": True}]),
        local(BERLIN, 2026, 12, 24, 16, 0),  # Thursday; Christmas is Friday
        120,
        local(BERLIN, 2026, 12, 28, 10, 0),
        id="a yearly holiday recurs in later years",
    ),
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 28, 10, 0),  # Saturday
        30,
        local(BERLIN, 2026, 11, 30, 9, 30),
        id="outside hours the count starts at the next opening",
    ),
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 23, 10, 0),
        5 * 8 * 60,
        local(BERLIN, 2026, 11, 30, 10, 0),
        id="five business days are a calendar week",
    ),
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 23, 17, 0),
        0,
        local(BERLIN, 2026, 11, 23, 17, 0),
        id="nothing to add gives the start back",
    ),
    pytest.param(
        calendar(hours=EVERY_NIGHT),
        local(BERLIN, 2026, 3, 29, 0, 0),  # clocks go forward at 02:00
        300,
        local(BERLIN, 2026, 3, 29, 6, 0),
        id="berlin spring forward: 00-06 holds five real hours",
    ),
    pytest.param(
        calendar(hours=EVERY_NIGHT),
        local(BERLIN, 2026, 3, 29, 0, 0),
        301,
        local(BERLIN, 2026, 3, 30, 0, 1),
        id="berlin spring forward: the sixth hour is the next night",
    ),
    pytest.param(
        calendar(hours=EVERY_NIGHT),
        local(BERLIN, 2026, 10, 25, 0, 0),  # clocks go back at 03:00
        420,
        local(BERLIN, 2026, 10, 25, 6, 0),
        id="berlin fall back: 00-06 holds seven real hours",
    ),
    pytest.param(
        calendar("America/New_York", hours=EVERY_NIGHT),
        local(NEW_YORK, 2026, 3, 8, 0, 0),
        300,
        local(NEW_YORK, 2026, 3, 8, 6, 0),
        id="new york spring forward",
    ),
    pytest.param(
        calendar("America/New_York", hours=EVERY_NIGHT),
        local(NEW_YORK, 2026, 11, 1, 0, 0),
        420,
        local(NEW_YORK, 2026, 11, 1, 6, 0),
        id="new york fall back",
    ),
    pytest.param(
        calendar(hours={day: [["00:00", "24:00"]] for day in WEEKDAYS}),
        local(BERLIN, 2026, 3, 28, 12, 0),
        24 * 60,
        local(BERLIN, 2026, 3, 29, 13, 0),
        id="a whole-day calendar counts real time across the missing hour",
    ),
    pytest.param(
        calendar(hours={day: [["22:00", "06:00"]] for day in WEEKDAYS[:5]}),
        local(BERLIN, 2026, 11, 27, 21, 0),  # Friday
        60,
        local(BERLIN, 2026, 11, 27, 23, 0),
        id="overnight shift: friday 21:00 + 60 is 23:00",
    ),
    pytest.param(
        calendar(hours={day: [["22:00", "06:00"]] for day in WEEKDAYS[:5]}),
        local(BERLIN, 2026, 11, 28, 5, 0),  # Saturday morning, Friday's shift
        120,
        local(BERLIN, 2026, 11, 30, 23, 0),
        id="overnight shift: friday's shift runs into saturday, then monday night",
    ),
    pytest.param(
        calendar(hours={"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}),
        local(BERLIN, 2026, 11, 23, 23, 0),
        120,
        local(BERLIN, 2026, 11, 24, 1, 0),
        id="24:00 meets the next day's 00:00",
    ),
    pytest.param(
        calendar(
            hours={"fri": [["22:00", "06:00"]]},
            holidays=[{"date": "2026-11-28"}],  # the Saturday the shift runs into
        ),
        local(BERLIN, 2026, 11, 27, 23, 0),
        120,
        local(BERLIN, 2026, 11, 28, 1, 0),
        id="a shift belongs to the day it starts on, holiday or not the next",
    ),
    pytest.param(
        calendar(hours={day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WEEKDAYS[:5]}),
        local(BERLIN, 2026, 11, 23, 11, 0),
        120,
        local(BERLIN, 2026, 11, 23, 14, 0),
        id="a lunch break is skipped",
    ),
]


@pytest.mark.parametrize(("schedule", "start", "minutes", "expected"), ADD_CASES)
def test_add_business_minutes(schedule, start, minutes, expected):
    due = add_business_minutes(schedule, start, minutes)
    assert due == expected
    assert due.tzinfo == UTC
    if minutes:
        assert business_minutes_between(schedule, start, due) == minutes


BETWEEN_CASES = [
    pytest.param(
        calendar(hours=EVERY_NIGHT),
        local(BERLIN, 2026, 3, 29, 0, 0),
        local(BERLIN, 2026, 3, 29, 12, 0),
        300,
        id="berlin spring-forward night",
    ),
    pytest.param(
        calendar(hours=EVERY_NIGHT),
        local(BERLIN, 2026, 10, 25, 0, 0),
        local(BERLIN, 2026, 10, 25, 12, 0),
        420,
        id="berlin fall-back night",
    ),
    pytest.param(
        calendar("America/New_York", hours=EVERY_NIGHT),
        local(NEW_YORK, 2026, 3, 8, 0, 0),
        local(NEW_YORK, 2026, 3, 8, 12, 0),
        300,
        id="new york spring-forward night",
    ),
    pytest.param(
        calendar(hours={day: [["01:00", "04:00"]] for day in WEEKDAYS}),
        local(BERLIN, 2026, 3, 29, 0, 0),
        local(BERLIN, 2026, 3, 29, 12, 0),
        120,
        id="a shift across the skipped hour is an hour shorter",
    ),
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 27, 16, 0),  # Friday
        local(BERLIN, 2026, 11, 30, 10, 0),  # Monday
        120,
        id="a weekend does not count",
    ),
    pytest.param(
        calendar(),
        local(BERLIN, 2026, 11, 30, 10, 0),
        local(BERLIN, 2026, 11, 27, 16, 0),
        0,
        id="an end before the start is zero",
    ),
    pytest.param(
        calendar(holidays=[{"date": "2028-02-29", "recurring": True}]),
        local(BERLIN, 2027, 2, 26, 9, 0),
        local(BERLIN, 2027, 3, 2, 9, 0),  # 2027 has no 29 February
        2 * 8 * 60,
        id="a yearly 29 february is a holiday in leap years only",
    ),
]


@pytest.mark.parametrize(("schedule", "start", "end", "minutes"), BETWEEN_CASES)
def test_business_minutes_between(schedule, start, end, minutes):
    assert business_minutes_between(schedule, start, end) == minutes


def test_the_built_in_calendar_is_always_open():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
    # Real time, not wall time: 90 minutes after 00:30 is 03:00 that night.
    due = add_business_minutes(ALWAYS_OPEN, start, 90)
    assert due == start.astimezone(UTC) + timedelta(minutes=90)
    assert due.astimezone(BERLIN).hour == 3
    # Two wall-clock days over the night the clocks go forward are 47 hours.
    assert business_minutes_between(ALWAYS_OPEN, start, start + timedelta(days=2)) == 47 * 60


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(calendar(), datetime(2026, 1, 1, 9, 0), 5)  # noqa: DTZ001


def test_a_calendar_that_never_opens_is_reported_not_looped_on():
    never = BusinessCalendar(zone=BERLIN, week=((),) * 7)
    with pytest.raises(CalendarNeverOpens):
        add_business_minutes(never, local(BERLIN, 2026, 1, 1, 9), 30)


def test_holidays_over_the_only_shift_push_to_the_next_week():
    thursdays = calendar(hours={"thu": [["09:00", "10:00"]]}, holidays=[{"date": "2026-01-01"}])
    assert add_business_minutes(thursdays, local(BERLIN, 2026, 1, 1, 9), 30) == local(
        BERLIN, 2026, 1, 8, 9, 30
    )


# --- Validation of the data form ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "field", "fragment"),
    [
        ({"mon": [["09:00", "17:00"], ["16:00", "18:00"]]}, "mon", "overlaps mon 16:00–18:00"),
        ({"mon": [["22:00", "06:00"]], "tue": [["05:00", "07:00"]]}, "mon", "overlaps tue"),
        ({"sun": [["22:00", "06:00"]], "mon": [["05:00", "07:00"]]}, "sun", "overlaps mon"),
        ({"mon": [["9:00", "17:00"]]}, "mon", "not a time like 09:00"),
        ({"mon": [["09:00", "25:00"]]}, "mon", "not a time of day"),
        ({"mon": [["24:00", "10:00"]]}, "mon", "not a time of day"),
        ({"mon": [["09:00", "09:00"]]}, "mon", "has no length"),
        ({"mon": [["09:00"]]}, "mon", "pair"),
        ({"mon": "09:00-17:00"}, "mon", "list"),
        ({"monday": [["09:00", "17:00"]]}, "hours", "Unknown weekday"),
        ({day: [] for day in WEEKDAYS}, "hours", "at least one working interval"),
        (["09:00", "17:00"], "hours", "per weekday"),
    ],
)
def test_malformed_hours_are_named(hours, field, fragment):
    with pytest.raises(ValidationError) as caught:
        build_calendar("Europe/Berlin", hours, [])
    assert fragment in " ".join(caught.value.message_dict[field])


@pytest.mark.parametrize(
    ("holidays", "fragment"),
    [
        ([{"date": "2026-13-01"}], "not a date"),
        ([{"date": "26-12-25"}], "not a date"),
        ([{"day": "2026-12-25"}], '{"date": "YYYY-MM-DD"}'),
        ([{"date": "2026-12-25", "recurring": "yes"}], "true or false"),
        ([{"date": "2026-12-25", "colour": "red"}], "Unknown holiday field"),
        ("2026-12-25", "Give a list"),
    ],
)
def test_malformed_holidays_are_named(holidays, fragment):
    with pytest.raises(ValidationError) as caught:
        build_calendar("Europe/Berlin", OFFICE, holidays)
    assert fragment in " ".join(caught.value.message_dict["holidays"])


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        build_calendar("Mars/Olympus", {"mon": [["9", "17"]]}, [{"date": "soon"}])
    assert set(caught.value.message_dict) == {"timezone", "mon", "holidays"}


def test_the_data_form_round_trips():
    hours = {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["22:00", "06:00"]],
        "wed": [["06:00", "24:00"]],
        "thu": [],
        "fri": [["09:00", "17:00"]],
        "sat": [],
        "sun": [],
    }
    schedule = build_calendar("Europe/Berlin", hours, [])
    assert week_as_json(schedule.week) == hours


# --- Properties -----------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
WEEK_MINUTES = 7 * 1440


@st.composite
def schedules(draw) -> BusinessCalendar:
    """Random valid weekly schedules: up to eight shifts on quarter hours,
    some across midnight, in zones with odd offsets and half-hour DST."""
    points = draw(
        st.lists(
            st.integers(0, WEEK_MINUTES // 15 - 1).map(lambda q: q * 15),
            min_size=2,
            max_size=16,
            unique=True,
        ).map(sorted)
    )
    hours: dict[str, list[list[str]]] = {day: [] for day in WEEKDAYS}
    for start, end in zip(points[::2], points[1::2], strict=False):
        if end - start >= 1440:
            end = start + draw(st.integers(1, 95)) * 15  # at most a day long
            if end >= WEEK_MINUTES:
                continue
        day, begin = divmod(start, 1440)
        finish = end % 1440
        finish_text = (
            "24:00" if end == (day + 1) * 1440 else f"{finish // 60:02d}:{finish % 60:02d}"
        )
        hours[WEEKDAYS[day]].append([f"{begin // 60:02d}:{begin % 60:02d}", finish_text])
    if not any(hours.values()):
        hours["wed"] = [["10:00", "11:00"]]
    holidays = draw(
        st.lists(
            st.builds(
                lambda day, yearly: {"date": day.isoformat(), "recurring": yearly},
                st.dates(date(2026, 1, 1), date(2027, 12, 31)),
                st.booleans(),
            ),
            max_size=4,
        )
    )
    return build_calendar(draw(st.sampled_from(ZONES)), hours, holidays)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - made aware below
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=0))
amounts = st.integers(min_value=1, max_value=6 * 7 * 1440 * 60).map(
    lambda seconds: timedelta(seconds=seconds)
)


@settings(max_examples=200, deadline=None)
@given(schedule=schedules(), start=instants, amount=amounts)
def test_adding_then_measuring_back_gives_the_amount(schedule, start, amount):
    due = add_business_time(schedule, start, amount)
    assert due > start
    assert business_time_between(schedule, start, due) == amount


@settings(max_examples=200, deadline=None)
@given(schedule=schedules(), start=instants, first=amounts, second=amounts)
def test_adding_is_monotonic_and_additive(schedule, start, first, second):
    shorter, longer = sorted((first, second))
    assert add_business_time(schedule, start, shorter) <= add_business_time(schedule, start, longer)
    halfway = add_business_time(schedule, start, first)
    assert add_business_time(schedule, halfway, second) == add_business_time(
        schedule, start, first + second
    )


@settings(max_examples=200, deadline=None)
@given(schedule=schedules(), start=instants, amount=amounts)
def test_an_instant_outside_hours_snaps_to_the_next_opening(schedule, start, amount):
    opening = next_opening(schedule, start)
    assert opening >= start
    # Nothing counts between the instant and the opening…
    assert business_time_between(schedule, start, opening) == timedelta(0)
    # …the opening is working time…
    assert business_time_between(schedule, opening, opening + timedelta(seconds=1)) == timedelta(
        seconds=1
    )
    # …and counting from either gives the same due time.
    assert add_business_time(schedule, start, amount) == add_business_time(
        schedule, opening, amount
    )


@settings(max_examples=100, deadline=None)
@given(schedule=schedules(), start=instants, amount=amounts)
def test_the_due_time_is_working_time(schedule, start, amount):
    """The last second before a due time is counted: it is never pushed
    into closed hours."""
    due = add_business_time(schedule, start, amount)
    second = timedelta(seconds=1)
    assert business_time_between(schedule, due - second, due) == second


def test_a_calendar_its_holidays_close_for_years_is_refused(world):
    from slo.services import clean_calendar

    start = datetime.now(UTC).date()
    days = (start + timedelta(days=n) for n in range(4 * 366))
    mondays = [day for day in days if day.weekday() == 0]
    with pytest.raises(ValidationError) as caught:
        clean_calendar(
            name="Mondays",
            timezone_name="UTC",
            hours={"mon": [["09:00", "10:00"]]},
            holidays=[{"date": day.isoformat()} for day in mondays],
        )
    assert "no working time in the next three years" in caught.value.message_dict["holidays"][0]
