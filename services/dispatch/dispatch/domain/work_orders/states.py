"""The work order's states, and which actions each state allows."""

from __future__ import annotations

from enum import StrEnum

from kit.domain import StateMachine


class WorkOrderState(StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"
    REMOTE_SUPPORT = "remote_support"


S = WorkOrderState
TERMINAL = frozenset({S.COMPLETED, S.INCOMPLETE, S.CANCELLED})
OPEN = frozenset(set(S) - TERMINAL)
AWAITING_VISIT = frozenset({S.SCHEDULED, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE})

WORK_ORDER_STATES: StateMachine[WorkOrderState] = StateMachine(
    "work order",
    {
        "schedule": (frozenset({S.NEW}), S.SCHEDULED),
        "assign": (frozenset({S.NEW, S.SCHEDULED}), S.ASSIGNED),
        "reassign": (frozenset({S.ASSIGNED, S.ACCEPTED}), S.ASSIGNED),
        "accept": (frozenset({S.ASSIGNED}), S.ACCEPTED),
        "decline": (frozenset({S.ASSIGNED, S.ACCEPTED}), S.SCHEDULED),
        "start_travel": (frozenset({S.ACCEPTED}), S.EN_ROUTE),
        "arrive": (frozenset({S.EN_ROUTE}), S.ON_SITE),
        "complete": (frozenset({S.ON_SITE}), S.COMPLETED),
        "report_incomplete": (frozenset({S.ON_SITE}), S.INCOMPLETE),
        "cancel": (
            frozenset({S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.REMOTE_SUPPORT}),
            S.CANCELLED,
        ),
        "start_remote_support": (frozenset({S.NEW}), S.REMOTE_SUPPORT),
        "resolve_remotely": (frozenset({S.REMOTE_SUPPORT}), S.COMPLETED),
        "escalate_to_on_site": (frozenset({S.REMOTE_SUPPORT}), S.NEW),
    },
)

# Actions that change facts of the order but not its state, and the states they are allowed in.
IN_PLACE_ACTIONS: dict[str, frozenset[WorkOrderState]] = {
    "reschedule": AWAITING_VISIT,
    "confirm_appointment": AWAITING_VISIT,
    "hand_to_dealer": frozenset({S.NEW, S.SCHEDULED}),
    "dealer_accept": frozenset({S.NEW, S.SCHEDULED}),
    "dealer_return": frozenset({S.NEW, S.SCHEDULED}),
    "update_request": OPEN - {S.ON_SITE},
    "move_to_ticket": OPEN,
    "apply_entitlement": OPEN,
    "accept_estimate": OPEN,
    "escalate": OPEN,
    "request_loaner": OPEN - {S.REMOTE_SUPPORT},
    "lock": frozenset({S.ASSIGNED, S.ACCEPTED}),
    "unlock": frozenset({S.ASSIGNED, S.ACCEPTED}),
}


def allowed_actions(state: WorkOrderState) -> list[str]:
    """Every action a work order in ``state`` accepts, state-changing or not."""
    in_place = [a for a, states in IN_PLACE_ACTIONS.items() if state in states]
    return sorted({*WORK_ORDER_STATES.allowed_actions(state), *in_place})
