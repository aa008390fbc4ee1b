"""Forms of the SLA admin pages.

They parse what a browser sends into the data form ``slo.services`` speaks
and show its ``ValidationError``s next to the fields they name; the rules
themselves (overlaps, zones, ranges) live in the services, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.http import QueryDict

from servicedesk.models import Team, Tenant, User, timezone_names
from servicedesk.selectors import staff_users, team_list
from slo.business_time import WEEKDAYS
from slo.models import Calendar, EscalationAction, Policy, Target, Trigger
from slo.selectors import calendar_list
from tickets.models import Category, Priority, Status, Tag, TicketKind
from tickets.selectors import category_list

WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
SHORT_WEEKDAY = {day: day.title() for day in WEEKDAYS}
# Interval rows per weekday a page offers at most; more than a handful of
# shifts a day is a schedule, not opening hours.
MAX_SLOTS = 8
HOLIDAY_ROWS_MORE = 3
MAX_HOLIDAYS = 1000
PAUSE_CHOICES = [
    (Status.PENDING.value, "Pending (waiting for the requester)"),
    (Status.KNOWN_ERROR.value, "Known error (waiting for a fix)"),
]
DEFAULT_PREVIEW_MINUTES = 60

_HH_MM = re.compile(r"^(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?$")
_HHMM = re.compile(r"^(?P<hour>\d{2})(?P<minute>\d{2})$")
_DURATION = re.compile(
    r"^(?:(?P<hours>\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*"
    r"(?:(?P<minutes>\d+)\s*m(?:in(?:utes?|s)?)?)?$",
    re.IGNORECASE,
)


# --- Presenting SLA settings -------------------------------------------------------------


def format_minutes(minutes: int | None) -> str:
    """240 -> "4h", 90 -> "1h 30m", 45 -> "45m" (business time, so no days:
    a business day's length depends on the calendar)."""
    if not minutes:
        return ""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h {rest}m" if rest else f"{hours}h"


def describe_week(hours: Mapping[str, Any]) -> list[str]:
    """Consecutive weekdays with the same intervals, as
    ``["Mon–Fri 09:00–17:00", "Sat 10:00–14:00"]``."""
    runs: list[tuple[str, str, list[Any]]] = []
    for day in WEEKDAYS:
        intervals = list(hours.get(day) or [])
        if runs and intervals and runs[-1][2] == intervals:
            runs[-1] = (runs[-1][0], day, intervals)
        elif intervals:
            runs.append((day, day, intervals))
        else:
            runs.append((day, day, []))
    lines = []
    for first, last, intervals in runs:
        if not intervals:
            continue
        days = (
            SHORT_WEEKDAY[first]
            if first == last
            else f"{SHORT_WEEKDAY[first]}–{SHORT_WEEKDAY[last]}"
        )
        lines.append(f"{days} {', '.join(f'{start}–{end}' for start, end in intervals)}")
    return lines


def describe_conditions(policy: Policy) -> list[str]:
    """What a policy asks of a ticket, one phrase per condition."""
    parts = []
    if policy.kinds:
        parts.append(", ".join(TicketKind(kind).label for kind in sorted(policy.kinds)))
    if policy.priorities:
        parts.append(", ".join(f"P{priority}" for priority in sorted(policy.priorities)))
    return parts + describe_other_conditions(policy)


def describe_other_conditions(policy: Policy) -> list[str]:
    """The conditions beyond kind and priority."""
    parts = []
    if policy.team_id:
        parts.append(f"team {policy.team}")
    if policy.category_id:
        parts.append(f"category {policy.category}")
    if policy.tag_id:
        parts.append(f"tag {policy.tag}")
    if policy.requester_organisation:
        parts.append(f"organisation {policy.requester_organisation}")
    if policy.vip_only:
        parts.append("VIP requesters")
    return parts


def describe_targets(policy: Policy) -> list[tuple[str, str]]:
    """(target label, business time) for the targets the policy sets."""
    return [
        (Target(target).label, format_minutes(minutes))
        for target in Target.values
        if (minutes := policy.target_minutes(target))
    ]


# --- Calendars ---------------------------------------------------------------------------


def normalise_clock(text: str) -> str:
    """Forgiving entry of a time: ``9`` -> ``09:00``, ``9:30``/``9.30`` ->
    ``09:30``, ``0930`` -> ``09:30``. Anything else goes to the service as
    typed, which says what is wrong with it."""
    text = text.strip()
    match = _HHMM.match(text) or _HH_MM.match(text)
    if match is None:
        return text
    return f"{int(match['hour']):02d}:{match['minute'] or '00'}"


class ClockInput(forms.TextInput):
    """A wall-clock time as text: ``<input type="time">`` cannot say 24:00."""

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "class": "sla-time",
                "size": "5",
                "maxlength": "5",
                "inputmode": "numeric",
                "autocomplete": "off",
                "placeholder": "hh:mm",
            }
        )


class HolidayForm(forms.Form):
    date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    recurring = forms.BooleanField(required=False, label="Every year")
    name = forms.CharField(required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("date") and "date" not in self.errors and data.get("name"):
            self.add_error("date", f"Give the date of “{data['name']}”.")
        return data


HolidayFormSet = formset_factory(
    HolidayForm,
    extra=2,
    can_delete=True,
    max_num=MAX_HOLIDAYS,
    absolute_max=MAX_HOLIDAYS,
    validate_max=True,
)


class CalendarForm(forms.Form):
    """A calendar: its name and zone, a weekly grid of intervals and a
    table of holidays (a formset), each as plain form fields, so the page
    works without JavaScript.

    The grid has a number of interval rows per weekday: as many as the
    calendar (or the posted form) has, plus one empty row; the "Add
    interval" button posts the form back with one more."""

    name = forms.CharField(required=False)
    timezone = forms.CharField(
        required=False,
        label="Time zone",
        help_text="Working hours and holidays are wall-clock times in this zone; "
        "daylight saving time is taken into account.",
        widget=forms.Select(),
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        calendar: Calendar | None = None,
        default_timezone: str = "UTC",
        quiet: bool = False,
    ) -> None:
        hours: Mapping[str, Any] = calendar.hours if calendar else {}
        initial: dict[str, Any] = {
            "name": calendar.name if calendar else "",
            "timezone": calendar.timezone if calendar else default_timezone,
        }
        for day in WEEKDAYS:
            for index, (start, end) in enumerate(hours.get(day) or []):
                initial[f"{day}-{index}-start"] = start
                initial[f"{day}-{index}-end"] = end
        super().__init__(data, initial=initial)
        # A form posted back by one of its own buttons shows what was typed
        # without complaining about what is still half done.
        self.quiet = quiet
        cast(forms.Select, self.fields["timezone"].widget).choices = [
            (name, name) for name in timezone_names()
        ]
        self.slots = {
            day: min(MAX_SLOTS, self._slots_posted(data, day) or len(hours.get(day) or []) + 1)
            for day in WEEKDAYS
        }
        for day in WEEKDAYS:
            for index in range(self.slots[day]):
                for edge in ("start", "end"):
                    self.fields[f"{day}-{index}-{edge}"] = forms.CharField(
                        required=False,
                        label=f"{WEEKDAY_NAMES[day]}, interval {index + 1}, {edge}",
                        widget=ClockInput(),
                    )
        self.holidays = HolidayFormSet(
            data,
            prefix="holidays",
            initial=[
                {"date": h["date"], "recurring": h.get("recurring", False), "name": h.get("name")}
                for h in (calendar.holidays if calendar else [])
            ],
        )
        # The services' complaints about the holidays as a whole.
        self.holiday_errors: list[str] = []

    @staticmethod
    def _slots_posted(data: QueryDict | None, day: str) -> int:
        if data is None:
            return 0
        found = 0
        for index in range(MAX_SLOTS):
            if f"{day}-{index}-start" in data or f"{day}-{index}-end" in data:
                found = index + 1
        return found

    def week_rows(self) -> list[dict[str, Any]]:
        """Per weekday: its label, its (start, end) bound fields and its
        errors, for the grid."""
        rows = []
        for day in WEEKDAYS:
            slots = [
                (self[f"{day}-{index}-start"], self[f"{day}-{index}-end"])
                for index in range(self.slots[day])
            ]
            errors = [str(e) for pair in slots for field in pair for e in field.errors]
            rows.append(
                {
                    "key": day,
                    "label": WEEKDAY_NAMES[day],
                    "slots": slots,
                    "errors": errors,
                    "can_add": self.slots[day] < MAX_SLOTS,
                }
            )
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.quiet:
            return data
        for day in WEEKDAYS:
            for index in range(self.slots[day]):
                start = data.get(f"{day}-{index}-start", "").strip()
                end = data.get(f"{day}-{index}-end", "").strip()
                if bool(start) != bool(end):
                    missing, what = ("start", "a start") if not start else ("end", "an end")
                    self.add_error(
                        f"{day}-{index}-{missing}",
                        f"Interval {index + 1} needs {what} too (or clear both to drop it).",
                    )
        return data

    def hours(self) -> dict[str, list[list[str]]]:
        data = self.cleaned_data
        week: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            week[day] = []
            for index in range(self.slots[day]):
                start = normalise_clock(data.get(f"{day}-{index}-start", ""))
                end = normalise_clock(data.get(f"{day}-{index}-end", ""))
                if start and end:
                    week[day].append([start, end])
        return week

    def holiday_entries(self) -> list[dict[str, Any]]:
        entries = []
        for form in self.holidays.forms:
            if not form.is_valid() or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            if data.get("date") is None:
                continue
            entry: dict[str, Any] = {
                "date": data["date"].isoformat(),
                "recurring": bool(data.get("recurring")),
            }
            if data.get("name"):
                entry["name"] = data["name"]
            entries.append(entry)
        return entries

    def values(self) -> dict[str, Any]:
        """The calendar in the services' keyword form (after ``is_valid``)."""
        return {
            "name": self.cleaned_data.get("name", ""),
            "timezone_name": self.cleaned_data.get("timezone", ""),
            "hours": self.hours(),
            "holidays": self.holiday_entries(),
        }

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's ``ValidationError`` where it belongs: a weekday's
        problems on that day's row, the holidays' above the holiday table."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, errors in error.error_dict.items():
            messages = [message for item in errors for message in item.messages]
            if key in WEEKDAYS:
                self.add_error(f"{key}-0-start", messages)
            elif key == "holidays":
                self.holiday_errors += messages
            elif key == "timezone_name":
                self.add_error("timezone", messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)

    def has_problems(self) -> bool:
        return bool(self.errors) or bool(self.holiday_errors) or not self.holidays.is_valid()


def calendar_post_action(data: QueryDict) -> tuple[QueryDict, str] | None:
    """A grid or holiday button (not "Save") was pressed: the data with its
    change applied and what changed, for the form to be shown again."""
    changed = data.copy()
    if "add_interval" in data:
        day = data["add_interval"]
        if day not in WEEKDAYS:
            return changed, ""
        index = CalendarForm._slots_posted(data, day)
        if index < MAX_SLOTS:
            changed[f"{day}-{index}-start"] = ""
            changed[f"{day}-{index}-end"] = ""
        return changed, f"Another interval row for {WEEKDAY_NAMES[day]}."
    if "copy_monday" in data:
        monday = CalendarForm._slots_posted(data, "mon")
        for day in ("tue", "wed", "thu", "fri"):
            for index in range(MAX_SLOTS):
                changed.pop(f"{day}-{index}-start", None)
                changed.pop(f"{day}-{index}-end", None)
            for index in range(monday):
                for edge in ("start", "end"):
                    changed[f"{day}-{index}-{edge}"] = data.get(f"mon-{index}-{edge}", "")
        return changed, "Monday's hours copied to Tuesday–Friday; save to keep them."
    if "add_holidays" in data:
        try:
            total = int(data.get("holidays-TOTAL_FORMS", "0"))
        except ValueError:
            total = 0
        changed["holidays-TOTAL_FORMS"] = str(max(0, min(MAX_HOLIDAYS, total + HOLIDAY_ROWS_MORE)))
        return changed, "More holiday rows."
    return None


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, left naive: the page says which zone it
    is read in (a calendar's, not the viewer's)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        # The base class parses with ``strptime`` (naive); DateTimeField's
        # own ``to_python`` would then read it in the viewer's zone.
        result: datetime | None = forms.fields.BaseTemporalField.to_python(self, str(value))
        return result


class BusinessDurationField(forms.Field):
    """Business time as typed by a person: ``90`` (minutes), ``45m``,
    ``4h``, ``1h30m``, ``1.5h``; cleaned to whole minutes (or ``None``)."""

    default_error_messages = {  # noqa: RUF012 - Django's own pattern
        "invalid": "Give business time like 90 (minutes), 45m, 4h or 1h30m.",
        "fraction": "That is not a whole number of minutes.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"class": "sla-duration", "autocomplete": "off", "maxlength": "20"}
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return format_minutes(value)
        return value

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 20:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if text.isdecimal():
            return int(text)
        match = _DURATION.match(text)
        if match is None or not (match["hours"] or match["minutes"]):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            total = Decimal((match["hours"] or "0").replace(",", ".")) * 60
        except InvalidOperation as error:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from error
        total += int(match["minutes"] or 0)
        if total != total.to_integral_value():
            raise ValidationError(self.error_messages["fraction"], code="fraction")
        return int(total)


class CalendarPreviewForm(forms.Form):
    """The preview on the calendar page (a GET form): start + business time."""

    start = LocalDateTimeField(label="Start")
    minutes = BusinessDurationField(
        label="Business time",
        required=True,
        help_text="Minutes, or like 4h or 1h30m.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "preview_%s")
        super().__init__(*args, **kwargs)

    def clean_minutes(self) -> int:
        minutes = cast(int, self.cleaned_data["minutes"])
        if not 1 <= minutes <= 366 * 24 * 60:
            raise ValidationError("Between 1 minute and 366 days.")
        return minutes


# --- Policies ----------------------------------------------------------------------------


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.email})" if obj.full_name else str(obj.email)


class PolicyForm(forms.Form):
    """A policy's fields, named as ``slo.services.policy_create`` takes them."""

    name = forms.CharField(required=False)
    is_active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="An inactive policy is skipped; tickets it applied to move to the next "
        "matching policy at their next change.",
    )
    kinds = forms.MultipleChoiceField(
        choices=TicketKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Kinds",
        help_text="None ticked: every kind.",
    )
    priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Priorities",
        help_text="None ticked: every priority.",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="Any team"
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, empty_label="Any category"
    )
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(),
        required=False,
        to_field_name="name",
        widget=forms.TextInput(attrs={"list": "sla-tag-names", "autocomplete": "off"}),
        help_text="Tickets with this tag; empty for any.",
        error_messages={"invalid_choice": "No ticket has a tag of that name yet."},
    )
    requester_organisation = forms.CharField(
        required=False,
        max_length=100,
        label="Requester's organisation",
        help_text="As set on the member's page; empty for any.",
        widget=forms.TextInput(attrs={"list": "sla-organisations", "autocomplete": "off"}),
    )
    vip_only = forms.BooleanField(
        required=False, label="VIP requesters only", help_text="As set on the member's page."
    )
    calendar = forms.ModelChoiceField(
        queryset=Calendar.objects.none(),
        required=False,
        empty_label="Built-in 24×7 (always open)",
        help_text="Targets count working time of this calendar only.",
    )
    first_response_minutes = BusinessDurationField(
        label="First response",
        help_text="From opening to the first public reply. Like 30m, 4h or 1h30m.",
    )
    next_response_minutes = BusinessDurationField(
        label="Next response",
        help_text="From each requester reply to the team's answer.",
    )
    resolution_minutes = BusinessDurationField(
        label="Resolution",
        help_text="From opening to resolved; a reopen resumes it.",
    )
    warning_percent = forms.IntegerField(
        label="Warn at (% of the target used)",
        help_text="Escalations on “warning” fire then.",
        widget=forms.NumberInput(attrs={"min": "1", "max": "99", "class": "sla-number"}),
    )
    pause_statuses = forms.MultipleChoiceField(
        choices=PAUSE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Pause while",
        help_text="The clocks stop while the ticket has one of these statuses.",
    )

    def __init__(
        self, data: QueryDict | None = None, *, tenant: Tenant, policy: Policy | None = None
    ) -> None:
        initial: dict[str, Any] = {"is_active": True, "warning_percent": 80}
        initial["pause_statuses"] = [Status.PENDING.value]
        if policy is not None:
            initial = {
                "name": policy.name,
                "is_active": policy.is_active,
                "kinds": policy.kinds,
                "priorities": policy.priorities,
                "team": policy.team_id,
                "category": policy.category_id,
                "tag": policy.tag.name if policy.tag else None,
                "requester_organisation": policy.requester_organisation,
                "vip_only": policy.vip_only,
                "calendar": policy.calendar_id,
                "first_response_minutes": policy.first_response_minutes,
                "next_response_minutes": policy.next_response_minutes,
                "resolution_minutes": policy.resolution_minutes,
                "warning_percent": policy.warning_percent,
                "pause_statuses": policy.pause_statuses,
            }
        super().__init__(data, initial=initial)
        fields = self.fields
        cast(forms.ModelChoiceField, fields["team"]).queryset = team_list(tenant=tenant)
        cast(forms.ModelChoiceField, fields["category"]).queryset = category_list(tenant=tenant)
        self.tags = Tag.objects.for_tenant(tenant).order_by("name")
        cast(forms.ModelChoiceField, fields["tag"]).queryset = self.tags
        cast(forms.ModelChoiceField, fields["calendar"]).queryset = calendar_list(tenant=tenant)

    def tag_names(self) -> list[str]:
        """Suggestions for the tag field (the first 500 by name)."""
        return list(self.tags.values_list("name", flat=True)[:500])


class PolicyPreviewForm(forms.Form):
    """The preview on the policy page (a GET form): a P2 incident opened at …"""

    kind = forms.ChoiceField(choices=TicketKind.choices, initial=TicketKind.INCIDENT)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=2)
    opened_at = LocalDateTimeField(label="Opened at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "preview_%s")
        super().__init__(*args, **kwargs)


class EscalationForm(forms.Form):
    trigger = forms.ChoiceField(choices=Trigger.choices, label="When")
    target = forms.ChoiceField(
        choices=[("", "Any target"), *Target.choices], required=False, label="Of"
    )
    action = forms.ChoiceField(choices=EscalationAction.choices, label="Then")
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="The ticket's team",
        help_text="Whose lead to notify, or where to reassign (needed for that).",
    )
    users = PeopleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="People to notify",
        help_text="Active agents, leads and admins.",
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "escalation_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = team_list(tenant=tenant)
        cast(PeopleChoiceField, self.fields["users"]).queryset = staff_users(tenant=tenant)


class PolicyMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


# --- Members -----------------------------------------------------------------------------


class MemberSlaProfileForm(forms.Form):
    """What SLA policies may ask of a requester."""

    organisation = forms.CharField(
        required=False,
        max_length=100,
        help_text="A customer or department; policies can target it.",
        widget=forms.TextInput(attrs={"list": "sla-organisations", "autocomplete": "off"}),
    )
    is_vip = forms.BooleanField(
        required=False, label="VIP", help_text="Policies can give VIPs their own targets."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "sla_%s")
        super().__init__(*args, **kwargs)
