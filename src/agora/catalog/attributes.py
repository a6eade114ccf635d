"""Listing attributes validated against their category's JSON Schema, inherited down the tree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agora.core.errors import InvalidInput


def check_schema(schema: dict[str, Any], *, field: str = "attribute_schema") -> dict[str, Any]:
    """Refuse a schema that is not a valid JSON Schema for an object (422 with the path)."""
    if not isinstance(schema, dict):
        raise InvalidInput(
            "The attribute schema must be a JSON object.",
            errors=[{"loc": ["body", field], "msg": "must be an object", "type": "schema"}],
        )
    if not schema:
        return schema
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise InvalidInput(
            f"The attribute schema is not valid JSON Schema: {error.message}",
            errors=[
                {
                    "loc": ["body", field, *map(str, error.absolute_path)],
                    "msg": error.message,
                    "type": "schema",
                }
            ],
        ) from error
    for path in _references(schema):
        # Schemas are merged down the tree, so a reference could point at definitions that
        # another level replaces; an unresolvable one would fail every listing with a 500.
        raise InvalidInput(
            "Attribute schemas cannot use references ($ref); write the definition inline.",
            errors=[
                {
                    "loc": ["body", field, *path],
                    "msg": "references are not supported",
                    "type": "schema",
                }
            ],
        )
    if schema.get("type", "object") != "object":
        raise InvalidInput(
            "The attribute schema must describe an object.",
            errors=[{"loc": ["body", field, "type"], "msg": "must be 'object'", "type": "schema"}],
        )
    return schema


def _references(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths of every `$ref` / `$dynamicRef` keyword in a schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield (*path, key)
            else:
                yield from _references(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _references(item, (*path, str(index)))


def merged_schema(chain: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge schemas from the root category down to the leaf.

    A child adds properties and required names to its parent's; a property the child
    redefines replaces the parent's definition; any other keyword (e.g.
    `additionalProperties`) is taken from the deepest category that sets it.
    """
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for schema in chain:
        for key, value in schema.items():
            if key == "properties":
                merged["properties"].update(value)
            elif key == "required":
                merged["required"] = sorted(set(merged["required"]) | set(value))
            else:
                merged[key] = value
    if not merged["required"]:
        del merged["required"]
    return merged


def validate_attributes(attributes: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """Every violation at once, each with its path under body.attributes."""
    if not isinstance(attributes, dict):
        raise InvalidInput(
            "Attributes must be a JSON object.",
            errors=[{"loc": ["body", "attributes"], "msg": "must be an object", "type": "type"}],
        )
    validator = Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(attributes), key=lambda e: list(map(str, e.path)))
    if problems:
        raise InvalidInput(
            "The attributes do not match the category's schema.",
            errors=[
                {
                    "loc": ["body", "attributes", *map(str, problem.absolute_path)],
                    "msg": problem.message,
                    "type": str(problem.validator),
                }
                for problem in problems
            ],
        )
    return attributes
