"""The form renderer: Django's, with its commonest widgets written in Python.

Django renders every widget through a template, and a ``<select>`` through
one more template per ``<option>``: the desk's selects of agents, teams and
categories cost more than the rest of the ticket page's markup. For the
stock templates of text-like inputs, selects and their options this renderer
builds the very same HTML in Python (a test holds it to the templates' output,
byte for byte); any other template, or one a project overrides, goes through
the template engine as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "search",
        "tel",
        "checkbox",
    )
)
TEXTAREA_TEMPLATE = f"{WIDGETS}textarea.html"
# An empty error list renders nothing: every field's ``{{ field.errors }}``.
ERROR_TEMPLATES = frozenset(
    f"django/forms/errors/{kind}/{name}.html"
    for kind in ("list", "dict")
    for name in ("default", "ul")
)
SELECT_TEMPLATE = f"{WIDGETS}select.html"
# Radios and checkboxes: multiple_input.html around one input_option.html each.
CHOICE_INPUT_TEMPLATES = frozenset((f"{WIDGETS}radio.html", f"{WIDGETS}checkbox_select.html"))
CHOICE_OPTION_TEMPLATES = frozenset(
    (f"{WIDGETS}radio_option.html", f"{WIDGETS}checkbox_option.html")
)
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"


def _text(value: Any) -> str:
    """``{{ value }}``: localized, then escaped unless already safe."""
    return str(conditional_escape(localize(template_localtime(value))))


def _stringformat(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        formatted = f"{value}"
    except (ValueError, TypeError):
        return ""
    # A safe value stays unescaped, as the filter marks its output safe then.
    return formatted if isinstance(value, SafeData) else str(escape(formatted))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(
            f" {_text(name)}" if value is True else f' {_text(name)}="{_stringformat(value)}"'
        )
    return "".join(parts)


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_stringformat(value)}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}'
        f"{_attrs(widget['attrs'])}>"
    )


def _option(option: Mapping[str, Any]) -> str:
    return (
        f'<option value="{_stringformat(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_text(option['label'])}</option>"
    )


def _choice_option(option: Mapping[str, Any]) -> str:
    """``radio_option.html`` / ``checkbox_option.html`` as included: the
    input, wrapped in its label, with the templates' newlines."""
    if not option["wrap_label"]:
        return f"{_input(option)}\n\n\n"
    target = option["attrs"].get("id")
    opening = f'<label for="{_text(target)}">' if target else "<label>"
    return f"{opening}{_input(option)}\n {_text(option['label'])}</label>\n\n"


class FastWidgets(DjangoTemplates):
    """Django's template renderer, with inputs and selects built in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fast = self._fast(template_name, context)
        if fast is None:
            return str(super().render(template_name, context, request=request))
        return SafeString(fast)

    def _fast(self, template_name: str, context: Mapping[str, Any]) -> str | None:
        if template_name in ERROR_TEMPLATES:
            return None if context.get("errors") else ""
        widget = context.get("widget")
        if not isinstance(widget, Mapping):
            return None
        if template_name in INPUT_TEMPLATES:
            return _input(widget)
        if template_name == TEXTAREA_TEMPLATE:
            value = widget["value"]
            shown = _text(value) if value else ""
            return (
                f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
                f"{shown}</textarea>"
            )
        if template_name == SELECT_TEMPLATE:
            return self._select(widget, context)
        if template_name in CHOICE_INPUT_TEMPLATES:
            return self._choice_inputs(widget)
        return None

    def _choice_inputs(self, widget: Mapping[str, Any]) -> str | None:
        """``multiple_input.html``, its options as the stock option templates
        write them (each include keeps its closing newline)."""
        attrs = widget["attrs"]
        parts = [
            "<div",
            f' id="{_text(attrs["id"])}"' if attrs.get("id") else "",
            f' class="{_text(attrs["class"])}"' if attrs.get("class") else "",
            ">",
        ]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(f"\n  <div><label>{_text(group)}</label>")
            for option in options:
                if option["template_name"] not in CHOICE_OPTION_TEMPLATES:
                    return None
                parts.append(f"<div>\n    {_choice_option(option)}</div>")
            if group:
                parts.append("\n  </div>")
        parts.append("\n</div>")
        return "".join(parts)

    def _select(self, widget: Mapping[str, Any], context: Mapping[str, Any]) -> str:
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for option in group_choices:
                # An included template keeps its closing newline.
                parts.append(f"\n  {self._option(option, context)}\n")
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)

    def _option(self, option: Mapping[str, Any], context: Mapping[str, Any]) -> str:
        if option["template_name"] == OPTION_TEMPLATE:
            return _option(option)
        # Another option template: through the engine, unstripped, as an include renders it.
        render: Callable[..., str] = self.get_template(option["template_name"]).render
        return str(render({**context, "widget": option}))
