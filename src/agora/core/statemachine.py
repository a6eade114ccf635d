"""Audited state machines: a lifecycle moves only along its declared transitions.

A transition is a conditional `UPDATE ... WHERE id = %s AND status = <from>`, so two
concurrent moves from the same state cannot both succeed, plus an audit row in the same
transaction (ARCHITECTURE.md invariant 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction
from django.dispatch import Signal

from agora.core.audit import audit_log
from agora.core.errors import InvalidTransition

M = TypeVar("M", bound=models.Model)

# Sent inside the transaction of every transition, with `instance`, `source` and
# `target`: the conditional UPDATE bypasses save(), so copies of the row (search
# documents) follow this instead of post_save.
transitioned = Signal()


@dataclass(frozen=True)
class StateMachine:
    """`name` prefixes audit actions (`vendor.approved`); `transitions` maps state → targets."""

    name: str
    transitions: Mapping[str, frozenset[str]]
    field: str = "status"

    @classmethod
    def of(cls, name: str, transitions: Mapping[str, Iterable[str]], field: str = "status"):
        return cls(name, {src: frozenset(dst) for src, dst in transitions.items()}, field)

    def can(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        if not self.can(current, target):
            raise InvalidTransition(
                f"A {self.name} cannot move from '{current}' to '{target}'.",
                extra={"from": current, "to": target},
            )

    def apply(
        self,
        instance: M,
        target: str,
        *,
        actor: Any,
        action: str | None = None,
        reason: str = "",
        data: dict[str, Any] | None = None,
        updates: dict[str, Any] | None = None,
    ) -> M:
        """Move `instance` to `target`, with `updates` to other fields in the same UPDATE.

        Raises InvalidTransition when the move is not declared, or when another request
        moved the row first (the conditional UPDATE then matches nothing).
        """
        current = getattr(instance, self.field)
        self.check(current, target)
        values = {self.field: target, **(updates or {})}
        with transaction.atomic():
            model = type(instance)
            moved = model._default_manager.filter(pk=instance.pk, **{self.field: current}).update(
                **values
            )
            if not moved:
                fresh = model._default_manager.filter(pk=instance.pk).values_list(
                    self.field, flat=True
                )
                now_state = fresh.first() or current
                raise InvalidTransition(
                    f"A {self.name} cannot move from '{now_state}' to '{target}'.",
                    extra={"from": now_state, "to": target},
                )
            for name, value in values.items():
                setattr(instance, name, value)
            audit_log(
                actor=actor,
                action=action or f"{self.name}.{target}",
                target=instance,
                data={"from": current, "to": target, "reason": reason, **(data or {})},
            )
            transitioned.send(sender=model, instance=instance, source=current, target=target)
        return instance
