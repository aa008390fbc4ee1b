"""Form schemas: an ordered list of typed fields with conditions, checked
before it is saved and used to validate answers on the server.

One engine for every form a tenant defines — a catalog item's order form,
and the same shape for ticket custom fields or configuration-item
attributes — so the rules (types, coercion, conditions, limits) are written
once. A schema is plain JSON::

    [{"key": "cost", "type": "number", "label": "Cost", "min": 0},
     {"key": "justification", "type": "long_text", "label": "Why?",
      "show_when": {"field": "cost", "op": "gt", "value": 1000},
      "required": true}]

``parse_schema`` refuses a schema that could not work (duplicate keys, a
condition on an unknown or later-resolving field, a cycle of conditions,
limits exceeded) with messages a form builder can show. ``validate_answers``
checks a requester's answers against it: each value coerced to its type,
hidden fields dropped, unknown keys refused, every error by field key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

TEXT = "text"
LONG_TEXT = "long_text"
NUMBER = "number"
CHOICE = "choice"
MULTI_CHOICE = "multi_choice"
DATE = "date"
PERSON = "person"
YES_NO = "yes_no"

FIELD_TYPES: dict[str, str] = {
    TEXT: "Short text",
    LONG_TEXT: "Long text",
    NUMBER: "Number",
    CHOICE: "Single choice",
    MULTI_CHOICE: "Multiple choice",
    DATE: "Date",
    PERSON: "Person in this organisation",
    YES_NO: "Yes / no",
}

OPERATORS: dict[str, str] = {
    "eq": "is",
    "ne": "is not",
    "gt": "is more than",
    "lt": "is less than",
    "in": "is one of",
    "set": "is answered",
}
ORDERED_OPERATORS = frozenset({"gt", "lt"})

MAX_FIELDS = 100
MAX_CHOICES = 500
MAX_LABEL = 200
MAX_HELP = 1000
MAX_TEXT = 500
MAX_LONG_TEXT = 10_000
# Numbers are kept exactly (Decimal) within a range a form can mean.
MAX_MAGNITUDE = Decimal("1e12")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.field)
        if self.op == "set":
            return answer not in (None, "", [], False)
        if answer is None:
            return False
        if self.op == "in":
            values = self.value if isinstance(self.value, list) else [self.value]
            if isinstance(answer, list):
                return any(_same(a, v) for a in answer for v in values)
            return any(_same(answer, v) for v in values)
        if isinstance(answer, list):
            hit = any(_same(a, self.value) for a in answer)
            return hit if self.op == "eq" else not hit if self.op == "ne" else False
        if self.op == "eq":
            return _same(answer, self.value)
        if self.op == "ne":
            return not _same(answer, self.value)
        try:
            left, right = Decimal(str(answer)), Decimal(str(self.value))
        except InvalidOperation:
            return False
        return left > right if self.op == "gt" else left < right

    def describe(self, labels: Mapping[str, str]) -> str:
        shown = ", ".join(map(str, self.value)) if isinstance(self.value, list) else self.value
        tail = "" if self.op == "set" else f" {shown}"
        return f"{labels.get(self.field, self.field)} {OPERATORS[self.op]}{tail}"


def _same(answer: Any, value: Any) -> bool:
    if isinstance(answer, bool) or isinstance(value, bool):
        return answer is value or str(answer).lower() == str(value).lower()
    if isinstance(answer, Decimal):
        try:
            return answer == Decimal(str(value))
        except InvalidOperation:
            return False
    return str(answer) == str(value)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: str
    help: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[Choice, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    integer: bool = False
    show_when: Condition | None = None
    require_when: Condition | None = None

    @property
    def type_label(self) -> str:
        return FIELD_TYPES[self.type]

    def choice_label(self, value: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return value


@dataclass(frozen=True)
class Schema:
    fields: tuple[Field, ...] = ()
    by_key: Mapping[str, Field] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    @property
    def is_empty(self) -> bool:
        return not self.fields

    def visible(self, answers: Mapping[str, Any]) -> dict[str, bool]:
        """Which fields show for these (coerced) answers. A field whose
        condition's field is hidden is hidden too: conditions point only at
        earlier fields, so one pass in order decides them all."""
        shown: dict[str, bool] = {}
        for f in self.fields:
            condition = f.show_when
            shown[f.key] = condition is None or (
                shown.get(condition.field, False) and condition.holds(answers)
            )
        return shown

    def is_required(self, f: Field, answers: Mapping[str, Any]) -> bool:
        return f.required or (f.require_when is not None and f.require_when.holds(answers))


# --- Checking a schema ------------------------------------------------------------------


def parse_schema(raw: Any) -> Schema:
    """The schema ``raw`` describes, or a ``ValidationError`` listing what is
    wrong with it (each message names the field, by position and key)."""
    if raw in (None, ""):
        return Schema()
    if not isinstance(raw, list):
        raise ValidationError("A form is a list of fields.")
    if len(raw) > MAX_FIELDS:
        raise ValidationError(f"A form has at most {MAX_FIELDS} fields.")
    errors: list[str] = []
    fields: list[Field] = []
    seen: dict[str, Field] = {}
    for position, item in enumerate(raw, start=1):
        where = f"Field {position}"
        if not isinstance(item, dict):
            errors.append(f"{where}: each field is an object with a key, a type and a label.")
            continue
        key = item.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            errors.append(
                f"{where}: the key must be 1–40 lower-case letters, digits or underscores, "
                "starting with a letter."
            )
            continue
        where = f"Field {position} ({key})"
        if key in seen:
            errors.append(f"{where}: the key {key} is used twice.")
            continue
        try:
            parsed = _parse_field(item, seen)
        except ValidationError as error:
            errors.extend(f"{where}: {message}" for message in error.messages)
            continue
        seen[key] = parsed
        fields.append(parsed)
    if errors:
        raise ValidationError(errors)
    return Schema(fields=tuple(fields), by_key=dict(seen))


ALLOWED_KEYS = frozenset(
    {
        "key",
        "type",
        "label",
        "help",
        "required",
        "default",
        "choices",
        "min",
        "max",
        "integer",
        "show_when",
        "require_when",
    }
)


def _parse_field(item: Mapping[str, Any], earlier: Mapping[str, Field]) -> Field:
    unknown = sorted(set(item) - ALLOWED_KEYS)
    if unknown:
        raise ValidationError(f"unknown setting {', '.join(map(str, unknown))[:200]}.")
    kind = item.get("type")
    if kind not in FIELD_TYPES:
        raise ValidationError(f"the type must be one of {', '.join(FIELD_TYPES)}.")
    label = _plain_text(item.get("label"), "label", MAX_LABEL, required=True)
    help_text = _plain_text(item.get("help", ""), "help", MAX_HELP)
    for flag in ("required", "integer"):
        if not isinstance(item.get(flag, False), bool):
            raise ValidationError(f"{flag} is true or false.")
    choices: tuple[Choice, ...] = ()
    if kind in (CHOICE, MULTI_CHOICE):
        choices = _parse_choices(item.get("choices"))
    elif "choices" in item:
        raise ValidationError("only choice fields have choices.")
    low = _bound(item.get("min"), "min") if kind == NUMBER else None
    high = _bound(item.get("max"), "max") if kind == NUMBER else None
    if kind != NUMBER and ("min" in item or "max" in item or "integer" in item):
        raise ValidationError("only number fields have bounds.")
    if low is not None and high is not None and low > high:
        raise ValidationError("min is more than max.")
    conditions = {
        name: _parse_condition(item.get(name), name, item["key"], earlier)
        for name in ("show_when", "require_when")
    }
    parsed = Field(
        key=item["key"],
        type=kind,
        label=label,
        help=help_text,
        required=bool(item.get("required", False)),
        choices=choices,
        min=low,
        max=high,
        integer=bool(item.get("integer", False)),
        show_when=conditions["show_when"],
        require_when=conditions["require_when"],
    )
    default = item.get("default")
    if default not in (None, "", []):
        try:
            default = coerce(parsed, default, people=None)
        except ValidationError as error:
            raise ValidationError(
                f"the default is not a valid answer: {error.messages[0]}"
            ) from None
        if kind == PERSON:
            raise ValidationError("a person field has no default.")
        return replace(parsed, default=default)
    return parsed


def _plain_text(value: Any, name: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"the {name} is text.")
    value = value.strip()
    if "\x00" in value:
        raise ValidationError(f"the {name} contains a NUL character.")
    if required and not value:
        raise ValidationError(f"the {name} is required.")
    if len(value) > limit:
        raise ValidationError(f"the {name} has at most {limit} characters.")
    return value


def _parse_choices(raw: Any) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError("a choice field lists its choices.")
    if len(raw) > MAX_CHOICES:
        raise ValidationError(f"a choice field has at most {MAX_CHOICES} choices.")
    choices: list[Choice] = []
    values: set[str] = set()
    for entry in raw:
        value: Any
        label: Any
        if isinstance(entry, str):
            value = label = entry
        elif isinstance(entry, dict) and set(entry) <= {"value", "label"}:
            value = entry.get("value")
            label = entry.get("label", value)
        else:
            raise ValidationError('each choice is text or {"value": …, "label": …}.')
        value = _plain_text(value, "choice value", MAX_LABEL, required=True)
        label = _plain_text(label, "choice label", MAX_LABEL, required=True)
        if value in values:
            raise ValidationError(f"the choice {value} is listed twice.")
        values.add(value)
        choices.append(Choice(value, label))
    return tuple(choices)


def _bound(raw: Any, name: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValidationError(f"{name} is a number.")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationError(f"{name} is a number.") from None
    if not value.is_finite() or abs(value) > MAX_MAGNITUDE:
        raise ValidationError(f"{name} is a number up to {MAX_MAGNITUDE:,.0f} in size.")
    return value


def _parse_condition(
    raw: Any, name: str, key: str, earlier: Mapping[str, Field]
) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not set(raw) <= {"field", "op", "value"}:
        raise ValidationError(f'{name} is {{"field": …, "op": …, "value": …}}.')
    target, op, value = raw.get("field"), raw.get("op", "eq"), raw.get("value")
    if target == key:
        raise ValidationError(f"{name} cannot depend on the field itself.")
    if not isinstance(target, str) or target not in earlier:
        # Conditions point back only, so they can never form a cycle and one
        # pass in order decides what shows.
        raise ValidationError(
            f"{name} names {str(target)[:40]!s}, which is not a field above this one."
        )
    if op not in OPERATORS:
        raise ValidationError(f"{name}: the operator must be one of {', '.join(OPERATORS)}.")
    subject = earlier[target]
    if op in ORDERED_OPERATORS and subject.type != NUMBER:
        raise ValidationError(f"{name}: more than / less than apply to number fields only.")
    if op != "set":
        if op == "in" and not isinstance(value, list):
            raise ValidationError(f"{name}: 'is one of' takes a list of values.")
        for one in value if isinstance(value, list) else [value]:
            if not isinstance(one, str | int | float | bool) or (
                isinstance(one, float) and not math.isfinite(one)
            ):
                raise ValidationError(f"{name}: the value is text, a number or true/false.")
            if subject.choices and str(one) not in {c.value for c in subject.choices}:
                raise ValidationError(f"{name}: {str(one)[:40]} is not a choice of {target}.")
    return Condition(field=target, op=op, value=value)


# --- Answers ---------------------------------------------------------------------------


PeopleCheck = Callable[[int], bool]
YES = frozenset({"yes", "true", "on", "1"})
NO = frozenset({"no", "false", "off", "0"})


def coerce(f: Field, value: Any, *, people: PeopleCheck | None) -> Any:
    """``value`` as the type of ``f`` (a JSON value or a posted string), or a
    ``ValidationError`` with the message a person reads. ``None``/empty means
    no answer and is handled by the caller."""
    if f.type in (TEXT, LONG_TEXT):
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        value = value.strip() if f.type == TEXT else value.replace("\r\n", "\n").strip()
        if "\x00" in value:
            raise ValidationError("Text may not contain NUL characters.")
        limit = MAX_TEXT if f.type == TEXT else MAX_LONG_TEXT
        if len(value) > limit:
            raise ValidationError(f"Enter at most {limit:,} characters.")
        return value
    if f.type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValidationError("Enter a number.")
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationError("Enter a number.") from None
        if not number.is_finite() or abs(number) > MAX_MAGNITUDE:
            raise ValidationError("Enter a number of a sensible size.")
        if f.integer and number != number.to_integral_value():
            raise ValidationError("Enter a whole number.")
        if f.min is not None and number < f.min:
            raise ValidationError(f"Enter {f.min} or more.")
        if f.max is not None and number > f.max:
            raise ValidationError(f"Enter {f.max} or less.")
        return int(number) if number == number.to_integral_value() else number
    if f.type == CHOICE:
        if not isinstance(value, str) or value not in {c.value for c in f.choices}:
            raise ValidationError("Choose one of the options.")
        return value
    if f.type == MULTI_CHOICE:
        values = value if isinstance(value, list) else [value]
        allowed = [c.value for c in f.choices]
        if not all(isinstance(v, str) and v in allowed for v in values):
            raise ValidationError("Choose among the options.")
        return [v for v in allowed if v in values]  # the schema's order, once each
    if f.type == DATE:
        if not isinstance(value, str):
            raise ValidationError("Enter a date as YYYY-MM-DD.")
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise ValidationError("Enter a date as YYYY-MM-DD.") from None
    if f.type == YES_NO:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in YES | NO:
            return value.strip().lower() in YES
        raise ValidationError("Answer yes or no.")
    if f.type == PERSON:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Choose a person of this organisation.")
        text = str(value).strip()
        if not text.isdigit() or len(text) > 12:
            raise ValidationError("Choose a person of this organisation.")
        person = int(text)
        if people is not None and not people(person):
            raise ValidationError("Choose a person of this organisation.")
        return person
    raise ValidationError("Unknown field type.")  # parse_schema admits none


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


class AnswersInvalid(ValidationError):
    """Answers that do not fit the schema; ``errors`` by field key."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {key: list(messages) for key, messages in errors.items()}
        super().__init__({key: list(messages) for key, messages in errors.items()})


def validate_answers(
    schema: Schema, raw: Any, *, people: PeopleCheck | None = None
) -> dict[str, Any]:
    """The answers, each coerced to its field's type, only those of fields
    that show; raises ``AnswersInvalid`` with every problem by field key.
    Values are JSON-ready: whole numbers as integers, others as strings
    that keep their exact digits."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise AnswersInvalid({"__all__": ['Answers are an object: {"field_key": value}.']})
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in schema.by_key:
            errors[str(key)[:40]] = ["This form has no such field."]
    coerced: dict[str, Any] = {}
    shown: dict[str, bool] = {}
    for f in schema.fields:
        condition = f.show_when
        shown[f.key] = condition is None or (
            shown.get(condition.field, False) and condition.holds(coerced)
        )
        if not shown[f.key]:
            continue  # a hidden field's answer is ignored, whatever it was
        value = raw.get(f.key)
        if _is_blank(value):
            if schema.is_required(f, coerced):
                errors[f.key] = ["This field is required."]
            continue
        try:
            coerced[f.key] = coerce(f, value, people=people)
        except ValidationError as error:
            errors[f.key] = error.messages
    if errors:
        raise AnswersInvalid(errors)
    return {key: str(v) if isinstance(v, Decimal) else v for key, v in coerced.items()}


def answers_from_post(schema: Schema, data: Any, prefix: str = "a-") -> dict[str, Any]:
    """The raw answers a posted HTML form carries (``data`` a QueryDict):
    every field of the schema, by its input's name; multiple choices as a list."""
    answers: dict[str, Any] = {}
    for f in schema.fields:
        name = prefix + f.key
        if f.type == MULTI_CHOICE:
            answers[f.key] = [v for v in data.getlist(name) if v]
        elif f.type == YES_NO:
            value = data.get(name)
            answers[f.key] = None if value in (None, "") else value
        else:
            answers[f.key] = data.get(name)
    return answers


def lenient(schema: Schema, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that coerce, ignoring the rest: what decides which fields
    show while a person is still filling the form in."""
    out: dict[str, Any] = {}
    for f in schema.fields:
        value = raw.get(f.key)
        if _is_blank(value):
            continue
        try:
            out[f.key] = coerce(f, value, people=None)
        except ValidationError:
            continue
    return out


# --- Showing answers --------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    key: str
    label: str
    value: str
    person_id: int | None = None


def answer_rows(
    schema: Schema, answers: Mapping[str, Any], people: Mapping[int, str] | None = None
) -> list[AnswerRow]:
    """The answers as rows of (label, text) in the form's order, read with
    the schema they were given under (a later edit of the form changes nothing)."""
    rows: list[AnswerRow] = []
    for f in schema.fields:
        if f.key not in answers:
            continue
        value = answers[f.key]
        person_id = None
        if f.type == CHOICE:
            text = f.choice_label(str(value))
        elif f.type == MULTI_CHOICE:
            text = (
                ", ".join(f.choice_label(str(v)) for v in value)
                if isinstance(value, list)
                else str(value)
            )
        elif f.type == YES_NO:
            text = "Yes" if value is True else "No" if value is False else str(value)
        elif f.type == PERSON:
            person_id = value if isinstance(value, int) else None
            text = (people or {}).get(person_id or -1, "A former member")
        else:
            text = str(value)
        rows.append(AnswerRow(key=f.key, label=f.label, value=text, person_id=person_id))
    return rows


def people_ids(schema: Schema, answers: Mapping[str, Any]) -> set[int]:
    return {
        answers[f.key]
        for f in schema.fields
        if f.type == PERSON and isinstance(answers.get(f.key), int)
    }
