"""The form-schema engine: each field type valid and invalid, conditions,
hostile values, the schema's own checks, and old answers after an edit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from servicedesk import formschema
from servicedesk.formschema import AnswersInvalid, parse_schema, validate_answers

LAPTOP = [
    {
        "key": "model",
        "type": "choice",
        "label": "Model",
        "choices": ["standard", "performance"],
        "required": True,
    },
    {"key": "cost", "type": "number", "label": "Cost", "min": 0, "max": 10000, "integer": True},
    {
        "key": "justification",
        "type": "long_text",
        "label": "Why",
        "required": True,
        "show_when": {"field": "cost", "op": "gt", "value": 1000},
    },
    {"key": "level", "type": "choice", "label": "Access level", "choices": ["user", "admin"]},
    {
        "key": "manager",
        "type": "person",
        "label": "Manager",
        "require_when": {"field": "level", "op": "eq", "value": "admin"},
    },
    {"key": "when", "type": "date", "label": "Needed by"},
    {"key": "extras", "type": "multi_choice", "label": "Extras", "choices": ["bag", "mouse"]},
    {"key": "return_old", "type": "yes_no", "label": "Return the old one?"},
    {"key": "note", "type": "text", "label": "Note"},
]


def schema():
    return parse_schema(LAPTOP)


def errors_of(raw, people=None):
    with pytest.raises(AnswersInvalid) as caught:
        validate_answers(schema(), raw, people=people)
    return caught.value.errors


# --- Field types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "given", "stored"),
    [
        ("model", "performance", "performance"),
        ("cost", "950", 950),
        ("cost", 999, 999),
        ("when", "2027-01-31", "2027-01-31"),
        ("extras", ["mouse", "bag", "mouse"], ["bag", "mouse"]),
        ("extras", "bag", ["bag"]),
        ("return_old", "yes", True),
        ("return_old", False, False),
        ("return_old", "off", False),
        ("note", "  spaced  ", "spaced"),
    ],
)
def test_each_type_coerces_a_valid_answer(key, given, stored):
    answers = validate_answers(schema(), {"model": "standard", key: given})
    assert answers[key] == stored


def test_decimals_keep_their_exact_digits():
    fractional = parse_schema([{"key": "gb", "type": "number", "label": "GB"}])
    assert validate_answers(fractional, {"gb": "0.1"}) == {"gb": "0.1"}
    assert validate_answers(fractional, {"gb": "1,250"}) == {"gb": 1250}


@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("model", "gold-plated", "Choose one of the options."),
        ("model", ["standard"], "Choose one of the options."),
        ("cost", "lots", "Enter a number."),
        ("cost", "12.5", "Enter a whole number."),
        ("cost", -1, "Enter 0 or more."),
        ("cost", 10001, "Enter 10000 or less."),
        ("cost", "1e400", "Enter a number of a sensible size."),
        ("cost", "NaN", "Enter a number of a sensible size."),
        ("cost", True, "Enter a number."),
        ("cost", {"$gt": 1}, "Enter a number."),
        ("when", "31/01/2027", "Enter a date as YYYY-MM-DD."),
        ("when", 20270131, "Enter a date as YYYY-MM-DD."),
        ("extras", ["bag", "jetpack"], "Choose among the options."),
        ("return_old", "maybe", "Answer yes or no."),
        ("note", ["a", "list"], "Enter text."),
        ("note", "nul\x00byte", "Text may not contain NUL characters."),
        ("note", "x" * 501, "Enter at most 500 characters."),
        ("manager", "1 OR 1=1", "Choose a person of this organisation."),
        ("manager", 10**20, "Choose a person of this organisation."),
    ],
)
def test_each_type_refuses_a_wrong_answer(key, given, message):
    assert errors_of({"model": "standard", key: given}) == {key: [message]}


def test_a_person_must_be_a_member():
    members = {7}
    assert (
        validate_answers(
            schema(), {"model": "standard", "manager": "7"}, people=members.__contains__
        )["manager"]
        == 7
    )
    assert errors_of({"model": "standard", "manager": 8}, people=members.__contains__) == {
        "manager": ["Choose a person of this organisation."]
    }


def test_unknown_fields_are_refused_and_required_ones_named():
    assert errors_of({"colour": "red"}) == {
        "colour": ["This form has no such field."],
        "model": ["This field is required."],
    }


@pytest.mark.parametrize("raw", [["model"], "model=standard", 42])
def test_answers_must_be_an_object(raw):
    assert "__all__" in errors_of(raw)


# --- Conditions -------------------------------------------------------------------------


def test_show_when_reveals_and_requires_a_field():
    assert errors_of({"model": "performance", "cost": 1900}) == {
        "justification": ["This field is required."]
    }
    answers = validate_answers(
        schema(), {"model": "performance", "cost": 1900, "justification": "Builds."}
    )
    assert answers["justification"] == "Builds."


def test_a_hidden_fields_answer_is_ignored_whatever_it_is():
    answers = validate_answers(
        schema(), {"model": "standard", "cost": 500, "justification": ["not", "even", "text"]}
    )
    assert "justification" not in answers


def test_require_when_makes_a_field_required():
    assert errors_of({"model": "standard", "level": "admin"}) == {
        "manager": ["This field is required."]
    }
    assert "manager" not in validate_answers(schema(), {"model": "standard", "level": "user"})


def test_a_field_behind_a_hidden_field_is_hidden_too():
    chained = parse_schema(
        [
            {"key": "a", "type": "yes_no", "label": "A"},
            {
                "key": "b",
                "type": "yes_no",
                "label": "B",
                "show_when": {"field": "a", "op": "eq", "value": True},
            },
            {
                "key": "c",
                "type": "text",
                "label": "C",
                "required": True,
                "show_when": {"field": "b", "op": "set"},
            },
        ]
    )
    # b answered but hidden (a is no): c stays hidden, so not required.
    assert validate_answers(chained, {"a": "no", "b": "yes"}) == {"a": False}
    assert chained.visible({"a": False, "b": True}) == {"a": True, "b": False, "c": False}


def test_in_and_multi_choice_conditions():
    form = parse_schema(
        [
            {
                "key": "extras",
                "type": "multi_choice",
                "label": "Extras",
                "choices": ["bag", "dock"],
            },
            {
                "key": "desk",
                "type": "text",
                "label": "Desk number",
                "required": True,
                "show_when": {"field": "extras", "op": "in", "value": ["dock"]},
            },
        ]
    )
    assert validate_answers(form, {"extras": ["bag"]}) == {"extras": ["bag"]}
    with pytest.raises(AnswersInvalid):
        validate_answers(form, {"extras": ["bag", "dock"]})


# --- The schema's own checks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"key": "a"}, "A form is a list of fields."),
        ([{"key": "a", "type": "text", "label": "A"}] * 2, "is used twice"),
        ([{"key": "Bad Key", "type": "text", "label": "A"}], "the key must be"),
        ([{"key": "a", "type": "blob", "label": "A"}], "the type must be one of"),
        ([{"key": "a", "type": "text", "label": ""}], "the label is required"),
        ([{"key": "a", "type": "text", "label": "A\x00"}], "NUL"),
        ([{"key": "a", "type": "text", "label": "A" * 201}], "at most 200"),
        ([{"key": "a", "type": "choice", "label": "A"}], "lists its choices"),
        ([{"key": "a", "type": "choice", "label": "A", "choices": ["x", "x"]}], "listed twice"),
        (
            [
                {
                    "key": "a",
                    "type": "choice",
                    "label": "A",
                    "choices": [str(i) for i in range(10_000)],
                }
            ],
            "at most 500 choices",
        ),
        (
            [{"key": "a", "type": "number", "label": "A", "min": 5, "max": 1}],
            "min is more than max",
        ),
        ([{"key": "a", "type": "number", "label": "A", "max": "1e400"}], "up to"),
        ([{"key": "a", "type": "text", "label": "A", "min": 1}], "only number fields"),
        (
            [
                {
                    "key": "a",
                    "type": "text",
                    "label": "A",
                    "show_when": {"field": "ghost", "op": "set"},
                }
            ],
            "not a field above this one",
        ),
        (
            [
                {
                    "key": "a",
                    "type": "text",
                    "label": "A",
                    "show_when": {"field": "b", "op": "set"},
                },
                {
                    "key": "b",
                    "type": "text",
                    "label": "B",
                    "show_when": {"field": "a", "op": "set"},
                },
            ],
            "not a field above this one",
        ),
        (
            [{"key": "a", "type": "text", "label": "A", "show_when": {"field": "a", "op": "set"}}],
            "cannot depend on the field itself",
        ),
        (
            [
                {"key": "a", "type": "text", "label": "A"},
                {
                    "key": "b",
                    "type": "text",
                    "label": "B",
                    "show_when": {"field": "a", "op": "gt", "value": 1},
                },
            ],
            "number fields only",
        ),
        (
            [
                {"key": "a", "type": "choice", "label": "A", "choices": ["x"]},
                {
                    "key": "b",
                    "type": "text",
                    "label": "B",
                    "show_when": {"field": "a", "op": "eq", "value": "y"},
                },
            ],
            "not a choice of a",
        ),
        ([{"key": "a", "type": "number", "label": "A", "default": "many"}], "the default is not"),
        ([{"key": "a", "type": "text", "label": "A", "colour": "red"}], "unknown setting"),
        (
            [{"key": f"f{i}", "type": "text", "label": "F"} for i in range(101)],
            "at most 100 fields",
        ),
        (["text"], "each field is an object"),
    ],
)
def test_a_broken_schema_is_refused_with_a_reason(raw, fragment):
    with pytest.raises(ValidationError) as caught:
        parse_schema(raw)
    assert any(fragment in message for message in caught.value.messages), caught.value.messages


def test_script_in_labels_is_kept_as_text_for_escaping():
    form = parse_schema([{"key": "a", "type": "text", "label": "<script>alert(1)</script>"}])
    assert form.by_key["a"].label == "<script>alert(1)</script>"


# --- Showing answers --------------------------------------------------------------------


def test_answers_read_with_the_schema_they_were_given_under():
    old = schema()
    answers = validate_answers(
        old, {"model": "performance", "cost": 1200, "justification": "Big data", "manager": 3}
    )
    rows = formschema.answer_rows(old, answers, {3: "Maya Manager"})
    assert [(r.label, r.value) for r in rows] == [
        ("Model", "performance"),
        ("Cost", "1200"),
        ("Why", "Big data"),
        ("Manager", "Maya Manager"),
    ]
    # The item's form changed since (the cost field renamed and retyped):
    # the old order reads with its own stored form, unchanged.
    edited = parse_schema([{"key": "budget", "type": "text", "label": "Budget"}])
    assert formschema.answer_rows(edited, answers) == []
    assert formschema.answer_rows(old, answers, {})[3].value == "A former member"
