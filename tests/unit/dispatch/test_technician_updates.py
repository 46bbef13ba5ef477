"""The technician app retries updates after losing its connection: a replay must change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.appointments import Appointment
from dispatch.domain.completion import CompletionReport
from dispatch.domain.values import Actor, Role
from dispatch.domain.work_orders import WorkOrder, WorkOrderState
from kit.domain import Conflict, IllegalTransition

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
DISPATCHER = Actor("dispatcher-1", Role.DISPATCHER)
TECH = Actor("tech-1", Role.TECHNICIAN)


@pytest.fixture
def en_route(new_order: Callable[..., WorkOrder]) -> WorkOrder:
    order = new_order()
    order.assign("tech-1", Appointment.at(T0 + timedelta(hours=2), 60), at=T0, actor=DISPATCHER)
    order.accept(at=T0, actor=TECH, client_update_id="u-1")
    order.start_travel(at=T0 + timedelta(hours=1), actor=TECH, client_update_id="u-2")
    order.pull_events()
    return order


def test_replayed_arrive_with_the_same_update_id_is_a_no_op(en_route: WorkOrder) -> None:
    en_route.arrive(at=T0 + timedelta(minutes=110), actor=TECH, client_update_id="u-3")
    version, history = en_route.version, list(en_route.history)
    en_route.pull_events()

    en_route.arrive(at=T0 + timedelta(minutes=140), actor=TECH, client_update_id="u-3")

    assert en_route.state is WorkOrderState.ON_SITE
    assert en_route.arrived_at == T0 + timedelta(minutes=110)
    assert en_route.version == version
    assert en_route.history == history
    assert en_route.pull_events() == []


def test_a_new_arrive_without_the_same_update_id_is_still_illegal(en_route: WorkOrder) -> None:
    en_route.arrive(at=T0 + timedelta(minutes=110), actor=TECH, client_update_id="u-3")
    with pytest.raises(IllegalTransition):
        en_route.arrive(at=T0 + timedelta(minutes=111), actor=TECH, client_update_id="u-4")


def test_replaying_an_older_update_after_later_ones_changes_nothing(
    en_route: WorkOrder, make_report: Callable[..., CompletionReport]
) -> None:
    en_route.arrive(at=T0 + timedelta(minutes=110), actor=TECH, client_update_id="u-3")
    en_route.complete(make_report(), at=T0 + timedelta(minutes=170), actor=TECH, client_update_id="u-4")
    en_route.pull_events()
    for update, replay in [
        ("u-1", lambda: en_route.accept(at=T0, actor=TECH, client_update_id="u-1")),
        ("u-2", lambda: en_route.start_travel(at=T0, actor=TECH, client_update_id="u-2")),
        ("u-3", lambda: en_route.arrive(at=T0, actor=TECH, client_update_id="u-3")),
        ("u-4", lambda: en_route.complete(make_report(), at=T0, actor=TECH, client_update_id="u-4")),
    ]:
        replay()
        assert en_route.state is WorkOrderState.COMPLETED, update
    assert en_route.pull_events() == []


def test_an_update_id_reused_for_another_action_is_a_conflict(en_route: WorkOrder) -> None:
    with pytest.raises(Conflict):
        en_route.arrive(at=T0 + timedelta(minutes=110), actor=TECH, client_update_id="u-2")
    assert en_route.state is WorkOrderState.EN_ROUTE
