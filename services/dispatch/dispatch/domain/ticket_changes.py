"""What intake's news about a ticket means for the work orders opened for it.

Pure decisions: the caller loads the orders, applies each decision through the aggregate's own actions (so
the state machine checks them and they raise the usual events) and keeps the notes for the dispatcher.
A visit already under way (technician en route or on site, or a remote session running) is never
cancelled from here: a person decides, with a note telling them why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dispatch.domain.work_orders import WorkOrder, WorkOrderState

S = WorkOrderState
NOT_STARTED = frozenset({S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED})
UNDER_WAY = frozenset({S.EN_ROUTE, S.ON_SITE, S.REMOTE_SUPPORT})

# the field of intake's ticket saying a technician must visit
NEEDS_ON_SITE = "needs_on_site"
NO_VISIT_NEEDED = "the ticket no longer needs an on-site visit"


@dataclass(frozen=True)
class Cancel:
    """Cancel the order: ``reason`` is the contract's reason code, ``note`` says it in words."""

    reason: str
    note: str


@dataclass(frozen=True)
class OrderDecision:
    """What to do with one work order; all ``None`` leaves it as it is."""

    work_order_id: str
    cancel: Cancel | None = None
    move_to_ticket: str | None = None
    note: str | None = None

    @property
    def changes_nothing(self) -> bool:
        return self.cancel is None and self.move_to_ticket is None and self.note is None


# --- a ticket merged into another --------------------------------------------------------------------


@dataclass(frozen=True)
class Survivor:
    """The ticket a duplicate was merged into, as dispatch knows it now."""

    ticket_id: str
    label: str  # its number when known, else its id
    open_work_order_ids: tuple[str, ...] = ()
    cancelled: bool = False
    merged: bool = False  # itself merged into a third ticket since (its copy does not say which)


def after_merge(order: WorkOrder, *, absorbed_label: str, survivor: Survivor) -> OrderDecision:
    """A work order of a ticket that was merged into ``survivor``.

    The survivor already has an open order: this one is a duplicate and is cancelled if its visit has not
    started. It has none: this order carries on for the survivor, so the survivor's later changes and
    cancellation reach it. A visit under way moves with the ticket but is left for the dispatcher to
    reconcile with the survivor's own order. A finished order keeps the ticket it was done for."""
    if not order.is_open:
        return OrderDecision(order.id)
    into = survivor.label
    under_way = order.state in UNDER_WAY
    if survivor.merged:
        return OrderDecision(
            order.id,
            note=f"ticket {absorbed_label} was merged into {into}, itself merged since: check which ticket "
            "this work order serves",
        )
    if survivor.cancelled:
        if under_way:
            return OrderDecision(
                order.id,
                note=f"ticket {absorbed_label} was merged into {into}, which is cancelled: the visit under "
                "way is left for the dispatcher",
            )
        text = f"duplicate ticket merged into {into}, which is cancelled"
        return OrderDecision(order.id, cancel=Cancel("ticket_merged", text), note=text)
    if not survivor.open_work_order_ids:
        return OrderDecision(
            order.id,
            move_to_ticket=survivor.ticket_id,
            note=f"ticket {absorbed_label} was merged into {into}: this work order now serves {into}",
        )
    if not under_way:
        text = f"duplicate ticket merged into {into}"
        return OrderDecision(order.id, cancel=Cancel("ticket_merged", text), note=text)
    others = ", ".join(survivor.open_work_order_ids)
    return OrderDecision(
        order.id,
        move_to_ticket=survivor.ticket_id,
        note=f"ticket {absorbed_label} was merged into {into}, which has its own open work order "
        f"({others}): decide which visit to keep",
    )


# --- the ticket's need for a visit changed ------------------------------------------------------------


class VisitChange(StrEnum):
    UNCHANGED = "unchanged"
    REQUESTED = "requested"  # the ticket now asks for a visit it did not ask for before
    DROPPED = "dropped"  # the ticket says no visit is needed any more


def visit_change(*, needs_on_site: bool, before: bool | None, changed_fields: Collection[str]) -> VisitChange:
    """How an edit of a ticket changed its need for a visit: against the copy held (``before``, ``None``
    when none is), or as the edit itself says (its changed fields) when it overtook earlier events."""
    flipped = NEEDS_ON_SITE in changed_fields or (before is not None and before != needs_on_site)
    if not flipped:
        return VisitChange.UNCHANGED
    return VisitChange.REQUESTED if needs_on_site else VisitChange.DROPPED


def opens_work_order(
    *,
    needs_technician: bool,
    needs_on_site: bool,
    change: VisitChange,
    first_news: bool,
    orders: Sequence[WorkOrder],
) -> bool:
    """Whether a ticket's creation or edit opens a work order.

    The first news of a ticket opens one when the ticket needs a technician (by its type or because it asks
    for a visit). Later, a ticket without orders opens one only when it asks for a visit: needing one by its
    type alone was already decided on its first news (a visit dropped since stays dropped). A ticket whose
    orders were all cancelled opens a new one only when it asks for a visit again."""
    if change is VisitChange.DROPPED:
        return False
    if not orders:
        return needs_technician if first_news else needs_on_site
    if all(order.state is S.CANCELLED for order in orders):
        return change is VisitChange.REQUESTED
    return False


def after_visit_dropped(order: WorkOrder) -> OrderDecision:
    """The ticket no longer needs a visit: an order whose visit has not started is cancelled, one whose
    technician is on the way or there is left for the dispatcher with a note. Remote support needs no
    visit, so it carries on."""
    if order.state in NOT_STARTED:
        return OrderDecision(order.id, cancel=Cancel("other", NO_VISIT_NEEDED), note=NO_VISIT_NEEDED)
    if order.state in (S.EN_ROUTE, S.ON_SITE):
        return OrderDecision(
            order.id, note=f"{NO_VISIT_NEEDED}, but the technician is {order.state.value.replace('_', ' ')}"
        )
    return OrderDecision(order.id)
