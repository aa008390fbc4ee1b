"""How the catalog reads on a page: an item's form as inputs (with what
shows for the answers so far) and an order's answers as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from catalog import selectors
from catalog.models import Order
from servicedesk import formschema
from servicedesk.formschema import Field, Schema

PREFIX = "a-"


@dataclass(frozen=True)
class Input:
    """One field of an order form as the template draws it."""

    field: Field
    name: str
    value: Any
    shown: bool
    required: bool
    errors: Sequence[str]
    options: Sequence[tuple[str, str]]
    condition: str = ""

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def selected(self) -> set[str]:
        if isinstance(self.value, list):
            return {str(v) for v in self.value}
        return set() if self.value in (None, "") else {str(self.value)}

    controls: bool = False


def form_inputs(
    schema: Schema,
    raw: Mapping[str, Any] | None,
    errors: Mapping[str, Sequence[str]] | None,
    people: Sequence[tuple[int, str]],
) -> list[Input]:
    """Inputs for every field in order, each marked shown or hidden for the
    answers so far (``raw``: posted, or ``None`` for the defaults)."""
    if raw is None:
        raw = {f.key: f.default for f in schema.fields if f.default is not None}
    coerced = formschema.lenient(schema, raw)
    shown = schema.visible(coerced)
    labels = {f.key: f.label for f in schema.fields}
    controlling = controlling_keys(schema)
    inputs = []
    for f in schema.fields:
        options: list[tuple[str, str]] = []
        if f.choices:
            options = [(c.value, c.label) for c in f.choices]
        elif f.type == formschema.PERSON:
            options = [(str(pk), name) for pk, name in people]
        value = raw.get(f.key)
        if f.type == formschema.YES_NO and isinstance(value, bool):
            value = "yes" if value else "no"
        condition = ""
        if f.require_when is not None:
            condition = f"Required when {f.require_when.describe(labels)}."
        inputs.append(
            Input(
                field=f,
                name=PREFIX + f.key,
                value="" if value is None else value,
                shown=shown[f.key],
                required=schema.is_required(f, coerced),
                errors=(errors or {}).get(f.key, ()),
                options=options,
                condition=condition,
                controls=f.key in controlling,
            )
        )
    return inputs


def controlling_keys(schema: Schema) -> set[str]:
    """The fields whose answers decide whether another shows or is required."""
    keys = set()
    for f in schema.fields:
        for condition in (f.show_when, f.require_when):
            if condition is not None:
                keys.add(condition.field)
    return keys


@dataclass(frozen=True)
class OrderView:
    order: Order
    rows: Sequence[formschema.AnswerRow]


def order_view(order: Order) -> OrderView:
    """An order's answers in the form's order, read with the form they were
    given under."""
    return order_views(order.tenant_id, [order])[order.ticket_id]


def order_views(tenant_id: int, orders: Sequence[Order]) -> dict[int, OrderView]:
    """Views of these orders by ticket id; the people they name are read in
    one query for them all."""
    schemas = {order.pk: order.schema() for order in orders}
    wanted: set[int] = set()
    for order in orders:
        wanted |= formschema.people_ids(schemas[order.pk], order.answers)
    names = selectors.people_names(tenant_id, wanted)
    return {
        order.ticket_id: OrderView(
            order=order, rows=formschema.answer_rows(schemas[order.pk], order.answers, names)
        )
        for order in orders
    }
