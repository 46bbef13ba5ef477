"""Pure-Python building blocks for every service's domain model.

Nothing here imports a web framework or the ORM; the HTTP layer maps these errors to RFC 9457
problems (``DomainError`` -> 422, ``NotFound`` -> 404, ``Conflict`` and ``IllegalTransition`` ->
409, ``PreconditionFailed`` -> 412, ``Forbidden`` -> 403).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Generic, TypeVar


class DomainError(Exception):
    """A business rule refused the request. ``code`` becomes the problem ``type`` suffix."""

    code = "business-rule-violated"
    status = 422

    def __init__(self, detail: str, *, code: str | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class NotFound(DomainError):
    code = "not-found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class PreconditionFailed(DomainError):
    code = "precondition-failed"
    status = 412


class IllegalTransition(Conflict):
    """An action not allowed from the entity's current state."""

    code = "illegal-transition"

    def __init__(self, entity: str, state: str, action: str, allowed: Iterable[str]) -> None:
        allowed_list = sorted(allowed)
        super().__init__(
            f"{entity} in state '{state}' cannot '{action}'"
            + (f"; allowed: {', '.join(allowed_list)}" if allowed_list else "; no action is allowed"),
            state=state,
            action=action,
            allowed_actions=allowed_list,
        )
        self.state = state
        self.action = action
        self.allowed = allowed_list


S = TypeVar("S", bound=str)


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """A table of ``action -> (from states, to state)`` for one kind of entity."""

    entity: str
    transitions: Mapping[str, tuple[frozenset[S], S]]

    def allowed_actions(self, state: S) -> list[str]:
        return sorted(a for a, (sources, _) in self.transitions.items() if state in sources)

    def can(self, state: S, action: str) -> bool:
        entry = self.transitions.get(action)
        return entry is not None and state in entry[0]

    def next_state(self, state: S, action: str) -> S:
        """The state after ``action``, or :class:`IllegalTransition` with the allowed actions."""
        entry = self.transitions.get(action)
        if entry is None or state not in entry[0]:
            raise IllegalTransition(self.entity, state, action, self.allowed_actions(state))
        return entry[1]


CENT = Decimal("0.01")


@dataclass(frozen=True, order=True)
class Money:
    """An amount in one currency, kept as a Decimal rounded to cents."""

    amount: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", Decimal(self.amount).quantize(CENT, rounding=ROUND_HALF_UP))
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise DomainError(
                f"currency must be an ISO 4217 code, got {self.currency!r}", code="bad-currency"
            )

    @classmethod
    def zero(cls, currency: str = "EUR") -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise DomainError(
                f"cannot combine {self.currency} with {other.currency}", code="currency-mismatch"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
