"""Business time: pure arithmetic over a weekly schedule of working shifts
in one time zone, minus holidays.

Everything here is a pure function of its arguments (no database, no clock),
so SLA clocks, the admin preview, the API and the property tests all ask the
same questions of the same code.

Rules, chosen to match what a person reading the calendar expects:

- A shift is a local wall-clock interval of one weekday. A shift whose end
  is earlier than its start (``22:00``–``06:00``) runs past midnight into the
  next day; ``24:00`` ends a shift at midnight.
- A shift belongs to the day it starts on: a holiday cancels the shifts that
  start on it, and an overnight shift that began the evening before runs to
  its end.
- Durations are real elapsed time: a 00:00–06:00 shift lasts 7 hours on the
  night the clocks go back and 5 on the night they go forward. A shift edge
  that falls into the skipped hour of spring-forward moves to the first
  instant after it.
- Instants are aware datetimes; results are in UTC.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = timedelta(days=1)
ZERO = timedelta(0)
# How far ahead a search for working time gives up: a calendar that stays
# closed this long is broken, not busy.
SEARCH_LIMIT_DAYS = 3 * 366

_CLOCK_TIME = re.compile(r"^(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})$")


class CalendarNeverOpens(ValueError):
    """No working time within the search limit (every day a holiday, say)."""


@dataclass(frozen=True)
class Shift:
    """Working time on one weekday, in local wall-clock time. ``end`` is
    ``None`` for 24:00; an end at or before the start runs into the next
    day."""

    start: time
    end: time | None

    @property
    def crosses_midnight(self) -> bool:
        return self.end is not None and self.end <= self.start

    def minutes(self) -> tuple[int, int]:
        """(start, end) in minutes from the start of its day; the end may
        reach into the next day (up to 2,880)."""
        start = self.start.hour * 60 + self.start.minute
        if self.end is None:
            return start, 1440
        end = self.end.hour * 60 + self.end.minute
        return start, end + 1440 if end <= start else end

    def label(self) -> tuple[str, str]:
        end = "24:00" if self.end is None else self.end.strftime("%H:%M")
        return self.start.strftime("%H:%M"), end


@dataclass(frozen=True)
class Holiday:
    day: date
    recurring: bool = False
    name: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"date": self.day.isoformat(), "recurring": self.recurring}
        if self.name:
            data["name"] = self.name
        return data


@dataclass(frozen=True)
class BusinessCalendar:
    """A weekly schedule of shifts in one zone, minus holidays.
    ``always_open`` is the built-in 24×7 calendar."""

    zone: zoneinfo.ZoneInfo
    week: tuple[tuple[Shift, ...], ...] = ((),) * 7
    holidays: tuple[Holiday, ...] = ()
    always_open: bool = False
    _single_days: frozenset[date] = field(init=False, repr=False, compare=False)
    _yearly_days: frozenset[tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_single_days", frozenset(h.day for h in self.holidays if not h.recurring)
        )
        object.__setattr__(
            self,
            "_yearly_days",
            frozenset((h.day.month, h.day.day) for h in self.holidays if h.recurring),
        )

    def is_holiday(self, day: date) -> bool:
        # A yearly 29 February is a holiday in leap years only.
        return day in self._single_days or (day.month, day.day) in self._yearly_days

    def shifts_starting_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC intervals of the shifts that start on local ``day``."""
        if self.is_holiday(day):
            return []
        intervals = []
        for shift in self.week[day.weekday()]:
            start = _to_utc(day, shift.start, self.zone)
            if shift.end is None:
                end = _to_utc(day + DAY, time(0), self.zone)
            elif shift.crosses_midnight:
                end = _to_utc(day + DAY, shift.end, self.zone)
            else:
                end = _to_utc(day, shift.end, self.zone)
            if end > start:  # a shift inside the skipped hour has no length
                intervals.append((start, end))
        return sorted(intervals)


ALWAYS_OPEN = BusinessCalendar(zone=zoneinfo.ZoneInfo("UTC"), always_open=True)


def _to_utc(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (clocks going back) is its first
    # occurrence; a skipped one (clocks going forward) maps past the gap.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("Business time needs aware datetimes")
    return instant.astimezone(UTC)


def open_intervals(
    calendar: BusinessCalendar, since: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals in UTC, in order and never overlapping, from
    ``since`` on (the first one clipped to start at ``since``). Endless;
    raises ``CalendarNeverOpens`` after a long closed stretch."""
    since = _aware(since)
    if calendar.always_open:
        yield since, datetime.max.replace(tzinfo=UTC)
        return
    # Start a day early: yesterday's overnight shift may still be running.
    day = since.astimezone(calendar.zone).date() - DAY
    counted_to = since
    closed_days = 0
    while closed_days <= SEARCH_LIMIT_DAYS:
        closed_days += 1
        for start, end in calendar.shifts_starting_on(day):
            closed_days = 0
            # Shifts of one schedule do not overlap (validation), but an
            # edge in a DST fold must not be counted twice either.
            start = max(start, counted_to)
            if end > start:
                yield start, end
                counted_to = end
        day += DAY
    raise CalendarNeverOpens("The calendar has no working time in the next three years.")


def next_opening(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """``instant`` itself inside working time, else the next opening."""
    start, _ = next(open_intervals(calendar, instant))
    return start


def add_business_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant at which ``amount`` of working time has passed since
    ``start``. Outside working hours the count starts at the next opening;
    nothing to add gives ``start`` back (in UTC)."""
    start = _aware(start)
    if amount <= ZERO:
        return start
    if calendar.always_open:
        return start + amount
    remaining = amount
    for begin, end in open_intervals(calendar, start):
        length = end - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise AssertionError("open_intervals is endless")  # pragma: no cover


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time from ``start`` to ``end`` (zero when ``end`` is not
    later)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return ZERO
    if calendar.always_open:
        return end - start
    total = ZERO
    for begin, finish in open_intervals(calendar, start):
        if begin >= end:
            break
        total += min(finish, end) - begin
    return total


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def business_minutes_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    return business_time_between(calendar, start, end) / timedelta(minutes=1)


# --- The calendar as data: parsing and validation --------------------------------------


def _clock_time(text: Any, *, is_end: bool) -> time | None:
    """``"09:30"`` -> time; ``"24:00"`` (ends only) -> None."""
    match = _CLOCK_TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"“{str(text)[:20]}” is not a time like 09:00.")
    hour, minute = int(match["hour"]), int(match["minute"])
    if is_end and hour == 24 and minute == 0:
        return None
    if hour > 23 or minute > 59:
        raise ValueError(f"“{text}” is not a time of day (00:00 to 23:59, or 24:00 as an end).")
    return time(hour, minute)


def parse_week(hours: Any) -> tuple[tuple[Shift, ...], ...]:
    """``{"mon": [["09:00", "17:00"]], …}`` -> seven tuples of shifts.

    Raises ``ValidationError`` keyed by weekday (or ``hours``) for malformed
    intervals, a shift without length and shifts that overlap, also across
    midnight and from Sunday night into Monday."""
    if not isinstance(hours, Mapping):
        raise ValidationError(
            {"hours": 'Give working hours per weekday: {"mon": [["09:00", "17:00"]], …}.'}
        )
    unknown = sorted(str(key) for key in hours if key not in WEEKDAYS)
    if unknown:
        raise ValidationError(
            {"hours": f"Unknown weekday {', '.join(unknown)}; use {', '.join(WEEKDAYS)}."}
        )
    errors: dict[str, list[str]] = {}
    week: list[tuple[Shift, ...]] = []
    for name in WEEKDAYS:
        raw = hours.get(name, [])
        shifts: list[Shift] = []
        if not isinstance(raw, list):
            errors.setdefault(name, []).append('Give a list of ["start", "end"] pairs.')
            raw = []
        for pair in raw:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                errors.setdefault(name, []).append(
                    f'Each interval is a ["start", "end"] pair, not {str(pair)[:40]}.'
                )
                continue
            try:
                start = _clock_time(pair[0], is_end=False) or time(0)  # never 24:00
                end = _clock_time(pair[1], is_end=True)
            except ValueError as error:
                errors.setdefault(name, []).append(str(error))
                continue
            if end == start:
                errors.setdefault(name, []).append(
                    f"{pair[0]}–{pair[1]} has no length; use 00:00–24:00 for a whole day."
                )
                continue
            shifts.append(Shift(start, end))
        week.append(tuple(sorted(shifts, key=lambda s: s.start)))
    if errors:
        raise ValidationError(errors)
    _check_overlaps(week)
    if not any(week):
        raise ValidationError({"hours": "A calendar needs at least one working interval."})
    return tuple(week)


def _check_overlaps(week: list[tuple[Shift, ...]]) -> None:
    span = 7 * 1440
    ranges: list[tuple[int, int, str, Shift]] = []
    for index, shifts in enumerate(week):
        for shift in shifts:
            start, end = shift.minutes()
            ranges.append((index * 1440 + start, index * 1440 + end, WEEKDAYS[index], shift))
    ranges.sort(key=lambda item: item[0])
    errors: dict[str, list[str]] = {}
    for position, (start, end, day, shift) in enumerate(ranges):
        # Compare with the next range, and wrap Sunday night into Monday.
        others = ranges[position + 1 :] + [(s + span, e + span, d, sh) for s, e, d, sh in ranges]
        for other_start, _other_end, other_day, other in others:
            if other_start >= end:
                break
            if other is shift and other_start == start + span:
                continue
            first, second = shift.label(), other.label()
            errors.setdefault(day, []).append(
                f"{first[0]}–{first[1]} overlaps {other_day} {second[0]}–{second[1]}."
            )
            break
    if errors:
        raise ValidationError(errors)


def parse_holidays(raw: Any) -> tuple[Holiday, ...]:
    """``[{"date": "2026-12-25", "recurring": true, "name": "…"}]`` ->
    holidays, sorted; ``ValidationError`` under ``holidays`` otherwise."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValidationError({"holidays": 'Give a list of {"date": "YYYY-MM-DD"} entries.'})
    holidays: dict[tuple[Any, ...], Holiday] = {}
    problems: list[str] = []
    for entry in raw:
        if not isinstance(entry, Mapping) or "date" not in entry:
            problems.append(f'Each holiday is {{"date": "YYYY-MM-DD"}}, not {str(entry)[:40]}.')
            continue
        unknown = sorted(set(entry) - {"date", "recurring", "name"})
        if unknown:
            problems.append(f"Unknown holiday field {', '.join(map(str, unknown))}.")
            continue
        try:
            day = date.fromisoformat(entry["date"]) if isinstance(entry["date"], str) else None
        except ValueError:
            day = None
        if day is None or len(entry["date"]) != 10:
            problems.append(f"“{str(entry['date'])[:20]}” is not a date like 2026-12-25.")
            continue
        recurring = entry.get("recurring", False)
        if not isinstance(recurring, bool):
            problems.append(f"{day}: recurring is true or false.")
            continue
        name = entry.get("name", "")
        if not isinstance(name, str) or len(name) > 100:
            problems.append(f"{day}: the name is text of at most 100 characters.")
            continue
        key = (day.month, day.day) if recurring else (day,)
        holidays.setdefault(key, Holiday(day, recurring, " ".join(name.split())))
    if problems:
        raise ValidationError({"holidays": problems})
    if len(holidays) > 1000:
        raise ValidationError({"holidays": "At most 1,000 holidays per calendar."})
    return tuple(sorted(holidays.values(), key=lambda h: (h.day, h.recurring)))


@functools.cache
def _known_zones() -> frozenset[str]:
    # Read once: the scan walks the zone database on disk each time.
    return frozenset(zoneinfo.available_timezones())


def parse_zone(name: Any) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in _known_zones():
        raise ValidationError({"timezone": f"“{str(name)[:60]}” is not a known time zone."})
    return zoneinfo.ZoneInfo(name)


def week_as_json(week: Iterable[Iterable[Shift]]) -> dict[str, list[list[str]]]:
    return {
        name: [list(shift.label()) for shift in shifts]
        for name, shifts in zip(WEEKDAYS, week, strict=True)
    }


def build_calendar(timezone: Any, hours: Any, holidays: Any = None) -> BusinessCalendar:
    """A calendar from its data form, every problem reported at once."""
    errors: dict[str, Any] = {}

    def collect(parse: Any, value: Any) -> Any:
        try:
            return parse(value)
        except ValidationError as error:
            errors.update(error.message_dict)
            return None

    zone = collect(parse_zone, timezone)
    week = collect(parse_week, hours)
    parsed_holidays = collect(parse_holidays, holidays)
    if errors:
        raise ValidationError(errors)
    return BusinessCalendar(zone=zone, week=week, holidays=parsed_holidays)
