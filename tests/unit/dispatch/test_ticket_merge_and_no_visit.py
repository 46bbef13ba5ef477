"""What a ticket merged into another, or no longer needing a visit, does to its work orders: duplicates not
started are cancelled, the others follow the surviving ticket, and a visit under way is left to a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from contracts.dispatch import WorkOrderCancelled as ContractCancelled
from dispatch import events
from dispatch.domain.events import RequestUpdated, WorkOrderCancelled
from dispatch.domain.ticket_changes import (
    NO_VISIT_NEEDED,
    OrderDecision,
    Survivor,
    VisitChange,
    after_merge,
    after_visit_dropped,
    opens_work_order,
    visit_change,
)
from dispatch.domain.values import Actor, Role, WorkOrderType
from dispatch.domain.work_orders import WorkOrder, WorkOrderState
from kit.domain import IllegalTransition

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)
MERGE = Actor.system("intake:event-42")
AT = T0 + timedelta(hours=1)
FACTS = {"number": "WO-1", "site": None, "region_code": "region-1"}
S = WorkOrderState
NewOrder = Callable[..., WorkOrder]

SURVIVOR_WITH_ORDER = Survivor("t-2", "T-0002", open_work_order_ids=("wo-2",))
SURVIVOR_WITHOUT_ORDER = Survivor("t-2", "T-0002")


@pytest.fixture
def order_in(
    new_order: NewOrder, drive_to: Callable[[WorkOrderState, WorkOrder], WorkOrder]
) -> Callable[..., WorkOrder]:
    def build(state: WorkOrderState) -> WorkOrder:
        kind = WorkOrderType.REMOTE_SUPPORT if state is S.REMOTE_SUPPORT else WorkOrderType.REPAIR
        order = drive_to(state, new_order(type=kind))
        order.pull_events()
        return order

    return build


def carry_out(order: WorkOrder, decision: OrderDecision) -> None:
    """What the service does with a decision: the order's own actions, attributed to the intake event."""
    if decision.cancel is not None:
        order.cancel(reason=decision.cancel.reason, note=decision.cancel.note, at=AT, actor=MERGE)
    elif decision.move_to_ticket is not None:
        order.move_to_ticket(decision.move_to_ticket, at=AT, actor=MERGE)


# --- merged tickets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED])
def test_a_duplicate_not_started_is_cancelled_when_the_surviving_ticket_has_its_own_order(
    state: WorkOrderState, order_in: Callable[..., WorkOrder]
) -> None:
    order = order_in(state)
    decision = after_merge(order, absorbed_label="T-0001", survivor=SURVIVOR_WITH_ORDER)
    carry_out(order, decision)

    assert order.state is S.CANCELLED
    assert order.ticket_id == "t-1"
    [cancelled] = order.pull_events()
    assert isinstance(cancelled, WorkOrderCancelled)
    payload = events.to_contract(cancelled, order, version=order.version + 1, facts=FACTS)
    assert isinstance(payload, ContractCancelled)
    assert (payload.reason, payload.note) == ("ticket_merged", "duplicate ticket merged into T-0002")
    assert payload.cancelled_by.id == "intake:event-42"
    assert order.history[-1].actor == MERGE


@pytest.mark.parametrize("state", [S.NEW, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE])
def test_the_only_order_follows_the_surviving_ticket(
    state: WorkOrderState, order_in: Callable[..., WorkOrder]
) -> None:
    order = order_in(state)
    decision = after_merge(order, absorbed_label="T-0001", survivor=SURVIVOR_WITHOUT_ORDER)
    carry_out(order, decision)

    assert (order.state, order.ticket_id) == (state, "t-2")
    assert decision.note == "ticket T-0001 was merged into T-0002: this work order now serves T-0002"
    [moved] = order.pull_events()
    assert isinstance(moved, RequestUpdated) and moved.changed == ("ticket",)
    assert (order.history[-1].action, order.history[-1].actor) == ("move_to_ticket", MERGE)


@pytest.mark.parametrize("state", [S.EN_ROUTE, S.ON_SITE, S.REMOTE_SUPPORT])
def test_a_visit_under_way_is_never_cancelled_by_a_merge_but_flagged_to_the_dispatcher(
    state: WorkOrderState, order_in: Callable[..., WorkOrder]
) -> None:
    order = order_in(state)
    decision = after_merge(order, absorbed_label="T-0001", survivor=SURVIVOR_WITH_ORDER)
    carry_out(order, decision)

    assert decision.cancel is None
    assert (order.state, order.ticket_id) == (state, "t-2")
    assert decision.note is not None
    assert "wo-2" in decision.note and "decide which visit to keep" in decision.note


def test_a_merge_into_a_cancelled_ticket_cancels_what_has_not_started_and_flags_the_rest(
    order_in: Callable[..., WorkOrder],
) -> None:
    gone = Survivor("t-2", "T-0002", cancelled=True)
    waiting, travelling = order_in(S.ASSIGNED), order_in(S.EN_ROUTE)

    cancel = after_merge(waiting, absorbed_label="T-0001", survivor=gone)
    flag = after_merge(travelling, absorbed_label="T-0001", survivor=gone)

    assert cancel.cancel is not None and cancel.cancel.reason == "ticket_merged"
    assert (flag.cancel, flag.move_to_ticket) == (None, None)
    assert flag.note is not None and "left for the dispatcher" in flag.note


def test_a_merge_into_a_ticket_merged_again_since_only_asks_the_dispatcher(
    order_in: Callable[..., WorkOrder],
) -> None:
    decision = after_merge(
        order_in(S.NEW), absorbed_label="T-0001", survivor=Survivor("t-2", "T-0002", merged=True)
    )
    assert (decision.cancel, decision.move_to_ticket) == (None, None)
    assert decision.note is not None


@pytest.mark.parametrize("state", [S.COMPLETED, S.CANCELLED])
def test_a_finished_order_keeps_the_ticket_it_was_done_for(
    state: WorkOrderState, order_in: Callable[..., WorkOrder]
) -> None:
    for survivor in (SURVIVOR_WITH_ORDER, SURVIVOR_WITHOUT_ORDER):
        assert after_merge(order_in(state), absorbed_label="T-0001", survivor=survivor).changes_nothing


def test_moving_is_checked_by_the_state_machine_and_moving_twice_changes_nothing(
    order_in: Callable[..., WorkOrder],
) -> None:
    order = order_in(S.ASSIGNED)
    assert order.move_to_ticket("t-2", at=AT, actor=MERGE)
    version = order.version
    assert not order.move_to_ticket("t-2", at=AT, actor=MERGE)
    assert order.version == version
    with pytest.raises(IllegalTransition):
        order_in(S.COMPLETED).move_to_ticket("t-2", at=AT, actor=MERGE)


# --- a visit no longer needed, or needed again --------------------------------------------------------


@pytest.mark.parametrize("state", [S.NEW, S.SCHEDULED, S.ASSIGNED, S.ACCEPTED])
def test_an_order_not_started_is_cancelled_when_the_ticket_no_longer_needs_a_visit(
    state: WorkOrderState, order_in: Callable[..., WorkOrder]
) -> None:
    order = order_in(state)
    carry_out(order, after_visit_dropped(order))

    assert order.state is S.CANCELLED
    payload = events.to_contract(order.pull_events()[-1], order, version=9, facts=FACTS)
    assert isinstance(payload, ContractCancelled)
    assert (payload.reason, payload.note) == ("other", NO_VISIT_NEEDED)


@pytest.mark.parametrize(("state", "where"), [(S.EN_ROUTE, "en route"), (S.ON_SITE, "on site")])
def test_a_technician_on_the_way_or_there_is_not_called_off_but_the_dispatcher_is_told(
    state: WorkOrderState, where: str, order_in: Callable[..., WorkOrder]
) -> None:
    order = order_in(state)
    decision = after_visit_dropped(order)
    carry_out(order, decision)

    assert order.state is state
    assert decision.note == f"{NO_VISIT_NEEDED}, but the technician is {where}"


def test_remote_support_needs_no_visit_and_carries_on(order_in: Callable[..., WorkOrder]) -> None:
    assert after_visit_dropped(order_in(S.REMOTE_SUPPORT)).changes_nothing


def test_an_edit_turning_the_visit_off_or_on_is_seen_against_the_copy_or_by_its_changed_fields() -> None:
    assert visit_change(needs_on_site=False, before=True, changed_fields=()) is VisitChange.DROPPED
    assert visit_change(needs_on_site=True, before=False, changed_fields=()) is VisitChange.REQUESTED
    # the edit overtook the ticket's creation: it says itself what changed
    assert (
        visit_change(needs_on_site=False, before=None, changed_fields=["needs_on_site"])
        is VisitChange.DROPPED
    )
    assert visit_change(needs_on_site=False, before=False, changed_fields=["priority"]) is (
        VisitChange.UNCHANGED
    )
    assert visit_change(needs_on_site=False, before=None, changed_fields=()) is VisitChange.UNCHANGED


def test_a_ticket_opens_an_order_when_it_first_needs_a_technician_or_asks_for_a_visit_again(
    order_in: Callable[..., WorkOrder],
) -> None:
    def opens(**given: object) -> bool:
        values: dict[str, object] = {
            "needs_technician": True,
            "needs_on_site": False,
            "change": VisitChange.UNCHANGED,
            "first_news": False,
            "orders": [],
        }
        values.update(given)
        return opens_work_order(**values)  # type: ignore[arg-type]

    # first news of a repair ticket: a technician by its type, as on creation
    assert opens(first_news=True)
    # an update overtaking the creation that drops the visit opens nothing
    assert not opens(first_news=True, change=VisitChange.DROPPED)
    # a visit dropped earlier stays dropped while the ticket does not ask for one
    assert not opens()
    # turned from no visit to a visit: opened, as creation would have
    assert opens(needs_on_site=True, change=VisitChange.REQUESTED)
    # its earlier order was cancelled (visit dropped): asking again opens a new one, other edits do not
    cancelled = [order_in(S.CANCELLED)]
    assert opens(needs_on_site=True, change=VisitChange.REQUESTED, orders=cancelled)
    assert not opens(needs_on_site=True, orders=cancelled)
    # an open or finished order serves the ticket: nothing new
    assert not opens(needs_on_site=True, change=VisitChange.REQUESTED, orders=[order_in(S.ASSIGNED)])
    assert not opens(needs_on_site=True, change=VisitChange.REQUESTED, orders=[order_in(S.COMPLETED)])
