"""The renderer that builds inputs and selects in Python writes the very
HTML Django's templates write: widget by widget, and on the desk's pages."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse
from django.utils.safestring import mark_safe

from servicedesk.form_renderer import FastWidgets
from servicedesk.models import Role
from tickets import services

TEMPLATES = DjangoTemplates()
FAST = FastWidgets()


class Everything(forms.Form):
    name = forms.CharField(max_length=20, initial='a "quoted" <b>name</b> & more')
    empty = forms.CharField(required=False)
    count = forms.IntegerField(initial=12345, min_value=0)
    ratio = forms.DecimalField(initial="1.50", required=False)
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"autofocus": True}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="x<y")
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h&i")
    flags = forms.CharField(
        widget=forms.TextInput(attrs={"disabled": False, "readonly": True, "data-x": "1 < 2"})
    )
    choice = forms.ChoiceField(choices=[("", "—"), ("a", "A & B"), ("b", "<b>")], initial="b")
    number = forms.TypedChoiceField(choices=[(1, 1000), (2, 2000)], coerce=int, initial=2)
    grouped = forms.ChoiceField(
        choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("none", "None")],
        initial="pear",
    )
    many = forms.MultipleChoiceField(
        choices=[("x", "X"), ("y", "Y"), ("z", "Z")], initial=["x", "z"], required=False
    )
    maybe = forms.NullBooleanField(required=False)
    safe = forms.ChoiceField(choices=[("s", mark_safe("<em>safe</em>"))])
    radio = forms.ChoiceField(choices=[("r", "R"), ("s", "S & T")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("Group", [("g1", "G1"), ("g2", "G<2>")]), ("x", "X")],
        initial=["g2"],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "menu"}),
    )
    bare_boxes = forms.MultipleChoiceField(
        choices=[("a", "A")],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"id": ""}),
    )
    text = forms.CharField(widget=forms.Textarea, initial="line\nline")
    tick = forms.BooleanField(required=False, initial=True)


@pytest.mark.parametrize("bound", [False, True])
def test_each_widget_renders_as_the_templates_do(bound):
    data = {
        "name": "<x>",
        "count": "7",
        "choice": "a",
        "many": ["y"],
        "grouped": "apple",
        "radio": "s",
        "boxes": ["g1", "x"],
    }
    for field in Everything().fields:
        plain = Everything(data if bound else None, renderer=TEMPLATES)
        fast = Everything(data if bound else None, renderer=FAST)
        assert str(fast[field]) == str(plain[field]), field
        assert str(fast[field].errors) == str(plain[field].errors), field
    assert str(fast.non_field_errors()) == str(plain.non_field_errors())
    assert str(fast.errors) == str(plain.errors)


# CSRF tokens are masked afresh on every response.
MASKED = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[A-Za-z0-9]{64}')


def _page(client, url: str, renderer: str, settings) -> str:
    settings.FORM_RENDERER = renderer
    response = client.get(url)
    assert response.status_code == 200
    return MASKED.sub(r"\1…", response.content.decode())


@pytest.mark.django_db
def test_the_desk_pages_are_the_same_html_with_either_renderer(world, login, settings):
    agent = services.Actor.of(world.members[Role.AGENT])
    ticket = services.ticket_create(
        actor=agent, kind="incident", title="Printer <jammed> & more", tags=["vpn"]
    )
    client = login(world.user(Role.AGENT))
    for url in (
        reverse("tickets:desk_ticket", args=[world.tenant.slug, ticket.key]),
        reverse("desk", args=[world.tenant.slug]),
        reverse("tickets:desk_ticket_create", args=[world.tenant.slug]),
    ):
        fast = _page(client, url, "servicedesk.form_renderer.FastWidgets", settings)
        plain = _page(client, url, "django.forms.renderers.DjangoTemplates", settings)
        assert "<select" in fast
        assert fast == plain, url
