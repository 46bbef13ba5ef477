"""The work order aggregate (``WorkOrder``), its states and the values it is made of."""

from dispatch.domain.work_orders.aggregate import WorkOrder
from dispatch.domain.work_orders.records import (
    AssignmentRecord,
    EscalationRecord,
    Site,
    TransitionRecord,
    UnitRef,
)
from dispatch.domain.work_orders.states import (
    AWAITING_VISIT,
    IN_PLACE_ACTIONS,
    OPEN,
    TERMINAL,
    WORK_ORDER_STATES,
    WorkOrderState,
    allowed_actions,
)

__all__ = [
    "AWAITING_VISIT",
    "IN_PLACE_ACTIONS",
    "OPEN",
    "TERMINAL",
    "WORK_ORDER_STATES",
    "AssignmentRecord",
    "EscalationRecord",
    "Site",
    "TransitionRecord",
    "UnitRef",
    "WorkOrder",
    "WorkOrderState",
    "allowed_actions",
]
