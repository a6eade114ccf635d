"""Form fields generated from a category's attribute JSON Schema.

Each property of the (inherited, merged) schema becomes a labelled input: a choice list for
`enum`, yes/no for `boolean`, number inputs for `integer` and `number`, text for `string`,
check boxes for an array of enum values and a comma-separated text for an array of strings;
anything else is edited as JSON. The fields only turn text into JSON values — whether the
values obey the schema (required, minimum, maxLength, ...) is decided by the catalogue
service, whose messages are then shown next to the fields they concern.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.html import escape

PREFIX = "attr__"
UNSET = ""


def field_name(prop: str) -> str:
    return PREFIX + prop


@dataclass(frozen=True)
class AttributeSpec:
    """How one schema property is edited."""

    name: str
    label: str
    widget: str  # enum | boolean | integer | number | string | multi | list | json
    required: bool
    choices: tuple[Any, ...] = ()
    help_text: str = ""


def _label(name: str, definition: dict[str, Any]) -> str:
    title = definition.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    return name.replace("_", " ").capitalize()


def _hints(definition: dict[str, Any]) -> str:
    parts = []
    if isinstance(definition.get("description"), str):
        parts.append(definition["description"])
    low, high = definition.get("minimum"), definition.get("maximum")
    if low is not None and high is not None:
        parts.append(f"From {low} to {high}.")
    elif low is not None:
        parts.append(f"At least {low}.")
    elif high is not None:
        parts.append(f"At most {high}.")
    if definition.get("maxLength") is not None:
        parts.append(f"Up to {definition['maxLength']} characters.")
    return " ".join(parts)


def specs_for(schema: dict[str, Any]) -> list[AttributeSpec]:
    """One spec per property of `schema`, in the schema's order."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    specs = []
    for name, definition in properties.items():
        definition = definition if isinstance(definition, dict) else {}
        kind = definition.get("type")
        raw_items = definition.get("items")
        items: dict[str, Any] = raw_items if isinstance(raw_items, dict) else {}
        if isinstance(definition.get("enum"), list):
            widget, choices = "enum", tuple(definition["enum"])
        elif kind == "boolean":
            widget, choices = "boolean", ()
        elif kind in ("integer", "number", "string"):
            widget, choices = kind, ()
        elif kind == "array" and isinstance(items.get("enum"), list):
            widget, choices = "multi", tuple(items["enum"])
        elif kind == "array" and items.get("type", "string") == "string":
            widget, choices = "list", ()
        else:
            widget, choices = "json", ()
        hint = _hints(definition)
        if widget == "list":
            hint = " ".join(filter(None, ["Separate values with commas.", hint]))
        if widget == "json":
            hint = " ".join(filter(None, ["A JSON value.", hint]))
        specs.append(
            AttributeSpec(
                name=name,
                label=_label(name, definition),
                widget=widget,
                required=name in required,
                choices=choices,
                help_text=hint,
            )
        )
    return specs


def _choice_key(value: Any) -> str:
    return json.dumps(value)


def _choice_label(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value) if value is not None else "none"


def make_field(spec: AttributeSpec) -> forms.Field:
    """A Django field for `spec`. Never `required` in Django's sense: a missing required
    attribute is the schema's refusal, reported with the schema's message."""
    label = f"{spec.label} (required)" if spec.required else spec.label
    # Django's field templates render help text as HTML (`|safe`); the hint is the
    # operator's schema text, so it is escaped here — a label is escaped by Django itself.
    common: dict[str, Any] = {
        "label": label,
        "required": False,
        "help_text": escape(spec.help_text),
    }
    field: forms.Field
    if spec.widget == "enum":
        field = forms.ChoiceField(
            choices=[(UNSET, "—"), *((_choice_key(v), _choice_label(v)) for v in spec.choices)],
            **common,
        )
    elif spec.widget == "boolean":
        field = forms.ChoiceField(
            choices=[(UNSET, "—"), ("true", "Yes"), ("false", "No")], **common
        )
    elif spec.widget == "integer":
        field = forms.IntegerField(**common)
    elif spec.widget == "number":
        field = forms.FloatField(**common)
    elif spec.widget == "multi":
        field = forms.MultipleChoiceField(
            choices=[(_choice_key(v), _choice_label(v)) for v in spec.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    elif spec.widget == "json":
        field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    else:
        field = forms.CharField(**common)
    if spec.required:
        field.widget.attrs["aria-required"] = "true"
    return field


def initial_value(spec: AttributeSpec, value: Any) -> Any:
    """A stored attribute value as its form field shows it."""
    if value is None:
        return None
    if spec.widget == "enum":
        return _choice_key(value)
    if spec.widget == "boolean":
        return "true" if value is True else "false" if value is False else None
    if spec.widget == "multi":
        return [_choice_key(item) for item in value] if isinstance(value, list) else None
    if spec.widget == "list":
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if spec.widget == "json":
        return json.dumps(value)
    return value


class NotJson(ValueError):
    pass


def json_value(spec: AttributeSpec, cleaned: Any) -> tuple[bool, Any]:
    """(present, value) for a cleaned field value: blank inputs leave the attribute out."""
    if cleaned in (None, "", []):
        return False, None
    if spec.widget == "enum":
        return True, json.loads(cleaned)
    if spec.widget == "boolean":
        return True, cleaned == "true"
    if spec.widget == "multi":
        return True, [json.loads(item) for item in cleaned]
    if spec.widget == "list":
        items = [part.strip() for part in str(cleaned).split(",")]
        return True, [item for item in items if item]
    if spec.widget == "number" and float(cleaned).is_integer():
        return True, int(cleaned)
    if spec.widget == "json":
        try:
            return True, json.loads(cleaned)
        except ValueError as error:
            raise NotJson(str(error)) from None
    if spec.widget == "string":
        return True, str(cleaned).strip()
    return True, cleaned
