"""The one error availability raises for bad input, with field paths for a 422."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict


class ErrorItem(TypedDict):
    """One problem with the input, shaped like the API's `errors` members.

    `loc` is the path inside the submitted document (the API layer prefixes "body");
    `type` is a stable machine word: "missing", "type_error", "value_error",
    "extra_forbidden".
    """

    loc: list[str | int]
    msg: str
    type: str


def error_item(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> ErrorItem:
    return {"loc": list(loc), "msg": msg, "type": kind}


class ScheduleError(ValueError):
    """A schedule, override or slot rule is invalid; `errors` says where and why.

    A subclass of ValueError so code that validates generically can still catch it; the
    API turns `errors` into a 422 problem document with field details.
    """

    def __init__(self, errors: Sequence[ErrorItem]) -> None:
        if not errors:
            raise ValueError("ScheduleError needs at least one error item")
        self.errors: list[ErrorItem] = list(errors)
        first = self.errors[0]
        path = ".".join(str(part) for part in first["loc"]) or "(document)"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{path}: {first['msg']}{more}")

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str, kind: str = "value_error") -> ScheduleError:
        return cls([error_item(loc, msg, kind)])
