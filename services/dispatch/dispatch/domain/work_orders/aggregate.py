"""The work order aggregate: one job for a technician (or remote support), from opening to completion.

Every change is an explicit action checked against ``WORK_ORDER_STATES`` (or, for actions that keep the
state, against ``IN_PLACE_ACTIONS``), timestamped and attributed, and raises a domain event collected in
``events`` for the store to drain. Technician-app actions carry the app's ``client_update_id``: a replay
of an update already applied is a no-op, so an app that lost its connection can simply send again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.domain.appointments import Appointment, reschedule
from dispatch.domain.billing import Billing
from dispatch.domain.calendar import ALWAYS_OPEN, WorkingCalendar
from dispatch.domain.completion import CompletionReport, IncompleteReason
from dispatch.domain.events import (
    AppointmentConfirmed,
    AppointmentLate,
    AppointmentRescheduled,
    DealerAccepted,
    EscalatedToOnSite,
    EscalationKind,
    HandedToDealer,
    LoanerRequested,
    RemoteSupportStarted,
    RequestUpdated,
    ReturnedByDealer,
    TechnicianArrived,
    TravelStarted,
    WorkOrderAccepted,
    WorkOrderAssigned,
    WorkOrderCancelled,
    WorkOrderCompleted,
    WorkOrderDeclined,
    WorkOrderEscalated,
    WorkOrderEvent,
    WorkOrderIncomplete,
    WorkOrderOpened,
    WorkOrderScheduled,
)
from dispatch.domain.network import DEFAULT_SERVICE_LEVELS, ServiceLevelPolicy
from dispatch.domain.sla import SlaDeadlines, compute_deadlines
from dispatch.domain.values import (
    Actor,
    PartNeed,
    Priority,
    Role,
    Skill,
    TimeWindow,
    WorkOrderType,
    ensure_utc,
)
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
    WORK_ORDER_STATES,
    WorkOrderState,
    allowed_actions,
)
from kit.domain import Conflict, DomainError, Forbidden, IllegalTransition

# how far ahead of the server's clock a device's clock may run
CLOCK_SKEW = timedelta(minutes=2)


@dataclass(eq=False)
class WorkOrder:
    """A job to be done at a customer's site (or remotely). Build with :meth:`open`."""

    id: str
    type: WorkOrderType
    priority: Priority
    site: Site
    product_line: str
    opened_at: datetime
    deadlines: SlaDeadlines
    ticket_id: str | None = None
    customer_id: str | None = None
    unit: UnitRef | None = None
    required_skills: frozenset[Skill] = frozenset()
    required_certifications: frozenset[str] = frozenset()
    needed_parts: tuple[PartNeed, ...] = ()
    estimated_minutes: int = 60
    availability: tuple[TimeWindow, ...] = ()
    billing: Billing | None = None
    follow_up_of: str | None = None
    planned_until: datetime | None = None
    maintenance_plan_id: str | None = None
    policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS
    calendar: WorkingCalendar = ALWAYS_OPEN

    state: WorkOrderState = WorkOrderState.NEW
    technician_id: str | None = None
    appointment: Appointment | None = None
    assignment: AssignmentRecord | None = None
    locked: bool = False
    dealer_id: str | None = None
    dealer_centre_id: str | None = None
    handed_to_dealer_at: datetime | None = None
    dealer_accepted_at: datetime | None = None
    arranged_at: datetime | None = None
    remote_started_at: datetime | None = None
    on_site_requested_at: datetime | None = None
    arrived_at: datetime | None = None
    finished_at: datetime | None = None
    report: CompletionReport | None = None
    incomplete_reason: IncompleteReason | None = None
    cancel_reason: str | None = None
    loaner_requested_at: datetime | None = None
    escalations: list[EscalationRecord] = field(default_factory=list)
    history: list[TransitionRecord] = field(default_factory=list)
    applied_updates: dict[str, str] = field(default_factory=dict)
    version: int = 0
    events: list[WorkOrderEvent] = field(default_factory=list)

    # --- opening ------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        id: str,
        type: WorkOrderType,
        priority: Priority,
        site: Site,
        product_line: str,
        at: datetime,
        actor: Actor,
        ticket_id: str | None = None,
        customer_id: str | None = None,
        unit: UnitRef | None = None,
        required_skills: Iterable[Skill] | None = None,
        required_certifications: Iterable[str] = (),
        needed_parts: Iterable[PartNeed] = (),
        estimated_minutes: int = 60,
        availability: Iterable[TimeWindow] = (),
        billing: Billing | None = None,
        follow_up_of: str | None = None,
        planned_until: datetime | None = None,
        maintenance_plan_id: str | None = None,
        policy: ServiceLevelPolicy = DEFAULT_SERVICE_LEVELS,
        calendar: WorkingCalendar = ALWAYS_OPEN,
    ) -> WorkOrder:
        """A new work order with its SLA deadlines. Required skills default to the type's capability on
        the product line (repair of a water heater needs ``repair:water_heater``). ``planned_until`` makes
        it planned work, due on site by then rather than by the region's response time."""
        at = ensure_utc(at, "opened_at")
        if estimated_minutes <= 0:
            raise DomainError("a job takes some time", code="bad-estimate")
        skills = frozenset(required_skills or {Skill(product_line, type.capability)})
        order = cls(
            id=id,
            type=type,
            priority=priority,
            site=site,
            product_line=product_line,
            opened_at=at,
            deadlines=compute_deadlines(
                policy,
                opened_at=at,
                grade=site.grade,
                priority=priority,
                premium_contract=bool(billing and billing.premium_contract),
                remote=type is WorkOrderType.REMOTE_SUPPORT,
                planned_until=planned_until,
                calendar=calendar,
            ),
            ticket_id=ticket_id,
            customer_id=customer_id,
            unit=unit,
            required_skills=skills,
            required_certifications=frozenset(required_certifications),
            needed_parts=tuple(needed_parts),
            estimated_minutes=estimated_minutes,
            availability=tuple(sorted(availability)),
            billing=billing,
            follow_up_of=follow_up_of,
            planned_until=planned_until,
            maintenance_plan_id=maintenance_plan_id,
            policy=policy,
            calendar=calendar,
        )
        order._raise(
            WorkOrderOpened(
                work_order_id=id,
                at=at,
                actor=actor,
                ticket_id=ticket_id,
                type=type,
                priority=priority,
                region_id=site.region_id,
                on_site_by=order.deadlines.on_site_by,
                arrange_by=order.deadlines.arrange_by,
            )
        )
        return order

    def follow_up(
        self, *, id: str, at: datetime, actor: Actor, needed_parts: Iterable[PartNeed] = ()
    ) -> WorkOrder:
        """A new work order to finish what this incomplete visit could not."""
        if self.state is not WorkOrderState.INCOMPLETE:
            raise DomainError("only an incomplete work order needs a follow-up", code="follow-up-not-needed")
        return WorkOrder.open(
            id=id,
            type=self.type,
            priority=self.priority,
            site=self.site,
            product_line=self.product_line,
            at=at,
            actor=actor,
            ticket_id=self.ticket_id,
            customer_id=self.customer_id,
            unit=self.unit,
            required_skills=self.required_skills,
            required_certifications=self.required_certifications,
            needed_parts=tuple(needed_parts) or self.needed_parts,
            estimated_minutes=self.estimated_minutes,
            availability=self.availability,
            billing=self.billing,
            follow_up_of=self.id,
            maintenance_plan_id=self.maintenance_plan_id,
            policy=self.policy,
            calendar=self.calendar,
        )

    # --- reading --------------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    @property
    def awaiting_visit(self) -> bool:
        return self.state in AWAITING_VISIT

    @property
    def premium(self) -> bool:
        return self.deadlines.premium

    @property
    def awaiting_dealer(self) -> bool:
        """Handed to a service point that has not accepted it yet."""
        return (
            self.dealer_id is not None
            and self.dealer_accepted_at is None
            and self.state in IN_PLACE_ACTIONS["dealer_accept"]
        )

    def accepts(self, action: str) -> bool:
        """Whether ``action`` is allowed in the order's current state."""
        return action in self.allowed_actions()

    @property
    def installer_technician_id(self) -> str | None:
        return self.unit.installer_technician_id if self.unit else None

    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.state)

    def pull_events(self) -> list[WorkOrderEvent]:
        """Hand the raised events over (to the outbox) and forget them."""
        events, self.events = self.events, []
        return events

    def has_escalated(self, kind: EscalationKind, due_at: datetime | None = None) -> bool:
        return any(e.kind is kind and (due_at is None or e.due_at == due_at) for e in self.escalations)

    # --- dispatcher actions ---------------------------------------------------------------------------

    def schedule(self, appointment: Appointment, *, at: datetime, actor: Actor) -> None:
        """Agree a visit time before a technician is chosen."""
        self._require_on_site_job("schedule")
        self._require_available(appointment.window)
        at = self._transition("schedule", at, actor)
        self.appointment = appointment
        self._raise(
            WorkOrderScheduled(work_order_id=self.id, at=at, actor=actor, appointment=appointment.window)
        )

    def assign(
        self,
        technician_id: str,
        appointment: Appointment,
        *,
        at: datetime,
        actor: Actor,
        reasons: Iterable[str] = (),
        cost: Iterable[tuple[str, float]] = (),
        override_lock: bool = False,
    ) -> None:
        """Give the job to a technician for ``appointment``; also the dispatcher's override of an
        earlier assignment. A locked assignment changes only with ``override_lock``."""
        self._require_on_site_job("assign")
        if self.dealer_id is not None and actor.role is not Role.DEALER:
            raise Conflict(
                f"work order {self.id} is with dealer {self.dealer_id}: take it back before assigning it",
                code="with-dealer",
            )
        if self.locked and not override_lock and technician_id != self.technician_id:
            raise Conflict(
                f"work order {self.id} is locked to technician {self.technician_id}", code="assignment-locked"
            )
        self._require_available(appointment.window)
        previous = self.technician_id
        action = "reassign" if self.state in (WorkOrderState.ASSIGNED, WorkOrderState.ACCEPTED) else "assign"
        at = self._transition(action, at, actor)
        self.technician_id = technician_id
        self.appointment = appointment
        self.arranged_at = self.arranged_at or at
        if previous != technician_id:
            self.locked = False
        record = AssignmentRecord(technician_id, at, actor, tuple(reasons), tuple(cost))
        self.assignment = record
        self._raise(
            WorkOrderAssigned(
                work_order_id=self.id,
                at=at,
                actor=actor,
                technician_id=technician_id,
                previous_technician_id=previous,
                appointment=appointment.window,
                reasons=record.reasons,
                cost=record.cost,
            )
        )

    def lock(self, *, at: datetime, actor: Actor) -> None:
        """Keep the current technician: the optimiser will not move this job."""
        self._in_place("lock", at, actor)
        self.locked = True

    def unlock(self, *, at: datetime, actor: Actor) -> None:
        self._in_place("unlock", at, actor)
        self.locked = False

    def reschedule(
        self, window: TimeWindow, *, reason: str, at: datetime, actor: Actor, notify_customer: bool = True
    ) -> None:
        """Move the appointment; the customer is told (``AppointmentRescheduled.notify_customer``)."""
        if actor.role is Role.TECHNICIAN:
            self._require_assigned_technician(actor)
        self._require_available(window)
        at = self._in_place("reschedule", at, actor)
        outcome = reschedule(self.appointment, window, reason=reason, at=at)
        previous = self.appointment.window if self.appointment else None
        self.appointment = outcome.appointment
        self._raise(
            AppointmentRescheduled(
                work_order_id=self.id,
                at=at,
                actor=actor,
                previous=previous,
                appointment=window,
                reason=reason,
                notify_customer=notify_customer,
                notice=outcome.notice,
                moved_before_start=outcome.moved_before_start,
            )
        )

    def confirm_appointment(self, *, via: str, at: datetime, actor: Actor) -> bool:
        """The customer agreed the visit time. Confirming a confirmed appointment changes nothing;
        returns whether it was new."""
        if self.appointment is None:
            raise DomainError("there is no appointment to confirm", code="no-appointment")
        if self.appointment.confirmed and self.state in IN_PLACE_ACTIONS["confirm_appointment"]:
            return False
        at = self._in_place("confirm_appointment", at, actor)
        self.appointment = self.appointment.confirm(at=at, actor=actor)
        self._raise(
            AppointmentConfirmed(
                work_order_id=self.id, at=at, actor=actor, appointment=self.appointment.window, via=via
            )
        )
        return True

    def report_appointment_late(self, *, minutes_late: int, at: datetime, actor: Actor) -> None:
        """Tell whoever must act (supervisor, the customer's agent) that the visit did not start on time."""
        if self.appointment is None:
            raise DomainError("there is no appointment to be late for", code="no-appointment")
        self._raise(
            AppointmentLate(
                work_order_id=self.id,
                at=self._at(at),
                actor=actor,
                appointment=self.appointment.window,
                technician_id=self.technician_id,
                minutes_late=minutes_late,
            )
        )

    # --- dealers (authorised service points) ------------------------------------------------------------

    def hand_to_dealer(
        self, *, dealer_id: str, centre_id: str, reason: str, at: datetime, actor: Actor
    ) -> None:
        """Pass the job to an authorised service point. It must accept and arrange it within the
        policy's ``dealer_arranges_within`` (2 hours) of receiving it, or the job comes back."""
        self._require_on_site_job("hand to a dealer")
        if self.dealer_id is not None:
            raise Conflict(
                f"work order {self.id} is already with dealer {self.dealer_id}", code="already-with-dealer"
            )
        at = self._in_place("hand_to_dealer", at, actor)
        self.dealer_id = dealer_id
        self.dealer_centre_id = centre_id
        self.handed_to_dealer_at = at
        self.dealer_accepted_at = None
        self._recompute_deadlines()
        self._raise(
            HandedToDealer(
                work_order_id=self.id,
                at=at,
                actor=actor,
                dealer_id=dealer_id,
                centre_id=centre_id,
                reason=reason,
                accept_by=self.deadlines.arrange_by,
            )
        )

    def accept_for_dealer(self, dealer_id: str, *, at: datetime, actor: Actor) -> bool:
        """The service point takes the job on. Accepting twice changes nothing; returns whether it was new."""
        self._require_dealer(dealer_id)
        if self.dealer_accepted_at is not None:
            return False
        self.dealer_accepted_at = at = self._in_place("dealer_accept", at, actor)
        self._raise(DealerAccepted(work_order_id=self.id, at=at, actor=actor, dealer_id=dealer_id))
        return True

    def return_from_dealer(
        self, *, reason: str, at: datetime, actor: Actor, dealer_id: str | None = None
    ) -> str:
        """The job comes back to the company's dispatchers: the dealer ``dealer_id`` declined it, a
        dispatcher took it back, or it was not accepted in time. Returns the dealer it came back from."""
        self._require_dealer(dealer_id or self.dealer_id or "")
        at = self._in_place("dealer_return", at, actor)
        dealer = self.dealer_id or ""
        self.dealer_id = None
        self.dealer_centre_id = None
        self.handed_to_dealer_at = None
        self.dealer_accepted_at = None
        self._recompute_deadlines()
        self._raise(
            ReturnedByDealer(work_order_id=self.id, at=at, actor=actor, dealer_id=dealer, reason=reason)
        )
        return dealer

    # --- changes to the request behind the order ------------------------------------------------------

    def update_request(
        self,
        *,
        priority: Priority,
        site: Site,
        availability: Iterable[TimeWindow],
        at: datetime,
        actor: Actor,
    ) -> list[str]:
        """The ticket changed: take its new priority, site and customer availability (deadlines follow).
        Returns what a dispatcher should now look at (an appointment outside the new availability, a
        technician assigned for the old site); nothing when nothing changed."""
        windows = tuple(sorted(availability))
        changed = tuple(
            name
            for name, same in (
                ("priority", priority is self.priority),
                ("site", site == self.site),
                ("availability", windows == self.availability),
            )
            if not same
        )
        if not changed:
            return []
        at = self._in_place("update_request", at, actor)
        self.priority = priority
        self.site = site
        self.availability = windows
        self._recompute_deadlines()
        self._raise(RequestUpdated(work_order_id=self.id, at=at, actor=actor, changed=changed))
        attention = []
        appointment = self.appointment
        if (
            appointment is not None
            and windows
            and not any(w.covers(appointment.start, appointment.end) for w in windows)
        ):
            attention.append("the appointment is outside the customer's new availability: reschedule it")
        if "site" in changed and self.technician_id is not None:
            attention.append(
                f"the site changed after {self.technician_id} was assigned: check the assignment"
            )
        return attention

    def apply_entitlement(self, billing: Billing, *, at: datetime, actor: Actor) -> None:
        """Record who pays; a premium contract tightens the fix deadline."""
        self._in_place("apply_entitlement", at, actor)
        self.billing = billing
        self._recompute_deadlines()

    def accept_estimate(self, *, at: datetime, actor: Actor) -> None:
        """The customer agreed to the price of paid work."""
        if self.billing is None:
            raise DomainError("no billing recorded yet", code="no-estimate")
        self.billing = self.billing.accepted(self._in_place("accept_estimate", at, actor))

    def cancel(self, *, reason: str, at: datetime, actor: Actor, note: str | None = None) -> None:
        """Call the job off; ``note`` says why in words where the reason code does not."""
        self.finished_at = at = self._transition("cancel", at, actor)
        self.cancel_reason = reason
        self._raise(WorkOrderCancelled(work_order_id=self.id, at=at, actor=actor, reason=reason, note=note))

    def move_to_ticket(self, ticket_id: str, *, at: datetime, actor: Actor) -> bool:
        """Serve another ticket (the one this order's ticket was merged into). Returns whether it moved."""
        if ticket_id == self.ticket_id:
            return False
        at = self._in_place("move_to_ticket", at, actor)
        self.ticket_id = ticket_id
        self._raise(RequestUpdated(work_order_id=self.id, at=at, actor=actor, changed=("ticket",)))
        return True

    # --- remote support -------------------------------------------------------------------------------

    def start_remote_support(self, *, at: datetime, actor: Actor) -> None:
        if self.type is not WorkOrderType.REMOTE_SUPPORT:
            raise DomainError(f"a {self.type.value} job is done on site", code="not-remote-support")
        self.remote_started_at = at = self._transition("start_remote_support", at, actor)
        self._raise(
            RemoteSupportStarted(
                work_order_id=self.id, at=at, actor=actor, escalate_at=self.deadlines.remote_escalation_at
            )
        )

    def resolve_remotely(self, report: CompletionReport, *, at: datetime, actor: Actor) -> None:
        self._require_diagnosis(report)
        self._complete_with(
            report, self._transition("resolve_remotely", at, actor), actor, technician_id=None
        )

    def escalate_to_on_site(
        self, *, reason: str, at: datetime, actor: Actor, repair_type: WorkOrderType = WorkOrderType.REPAIR
    ) -> None:
        """Remote support did not solve it: the job becomes an on-site one, its on-site clock starting now."""
        at = self._transition("escalate_to_on_site", at, actor)
        self.type = repair_type
        self.on_site_requested_at = at
        self.required_skills = frozenset({Skill(self.product_line, repair_type.capability)})
        self._recompute_deadlines()
        self._raise(
            EscalatedToOnSite(
                work_order_id=self.id, at=at, actor=actor, reason=reason, on_site_by=self.deadlines.on_site_by
            )
        )

    # --- escalations and loaners (decided by dispatch.domain.escalation) --------------------------------

    def escalate(
        self,
        kind: EscalationKind,
        *,
        due_at: datetime,
        reason: str,
        at: datetime,
        actor: Actor,
        dealer_id: str | None = None,
    ) -> bool:
        """Record an escalation; the same escalation for the same deadline is recorded once.
        Returns whether it was new."""
        at = self._in_place("escalate", at, actor)
        due_at = ensure_utc(due_at)
        if self.has_escalated(kind, due_at):
            return False
        self.escalations.append(EscalationRecord(kind, due_at, at, reason, actor))
        self._raise(
            WorkOrderEscalated(
                work_order_id=self.id,
                at=at,
                actor=actor,
                kind=kind,
                reason=reason,
                due_at=due_at,
                dealer_id=dealer_id or self.dealer_id,
            )
        )
        return True

    def request_loaner(self, *, at: datetime, actor: Actor) -> bool:
        """Ask for a free loaner unit of the same grade at the site, once. Returns whether it was new."""
        if self.unit is None or not self.unit.model_grade:
            raise DomainError("a loaner needs the unit's model grade", code="unit-grade-unknown")
        at = self._in_place("request_loaner", at, actor)
        if self.loaner_requested_at is not None:
            return False
        self.loaner_requested_at = at
        self._raise(
            LoanerRequested(
                work_order_id=self.id,
                at=at,
                actor=actor,
                model=self.unit.model,
                model_grade=self.unit.model_grade,
                site_address=self.site.address,
                region_id=self.site.region_id,
            )
        )
        return True

    # --- technician app (idempotent by client_update_id) ----------------------------------------------

    def accept(self, *, at: datetime, actor: Actor, client_update_id: str | None = None) -> None:
        if step := self._technician_step("accept", at, actor, client_update_id):
            technician, at = step
            self._raise(
                WorkOrderAccepted(work_order_id=self.id, at=at, actor=actor, technician_id=technician)
            )

    def decline(
        self, *, reason: str, at: datetime, actor: Actor, client_update_id: str | None = None
    ) -> None:
        """The technician gives the job back; it keeps its appointment and waits for another technician."""
        if step := self._technician_step("decline", at, actor, client_update_id):
            technician, at = step
            self.technician_id = None
            self.assignment = None
            self.locked = False
            self._raise(
                WorkOrderDeclined(
                    work_order_id=self.id, at=at, actor=actor, technician_id=technician, reason=reason
                )
            )

    def start_travel(self, *, at: datetime, actor: Actor, client_update_id: str | None = None) -> None:
        if step := self._technician_step("start_travel", at, actor, client_update_id):
            technician, at = step
            self._raise(TravelStarted(work_order_id=self.id, at=at, actor=actor, technician_id=technician))

    def arrive(self, *, at: datetime, actor: Actor, client_update_id: str | None = None) -> None:
        """On site: the visit starts, and for premium work the fix clock with it."""
        if step := self._technician_step("arrive", at, actor, client_update_id):
            technician, at = step
            self.arrived_at = at
            self._recompute_deadlines()
            self._raise(
                TechnicianArrived(work_order_id=self.id, at=at, actor=actor, technician_id=technician)
            )

    def complete(
        self, report: CompletionReport, *, at: datetime, actor: Actor, client_update_id: str | None = None
    ) -> None:
        """Finish the visit with the technician's report, signed by the customer."""
        if step := self._technician_step(
            "complete", at, actor, client_update_id, check=lambda: self._require_completable(report)
        ):
            technician, at = step
            self._complete_with(report, at, actor, technician_id=technician)

    def report_incomplete(
        self,
        reason: IncompleteReason,
        *,
        at: datetime,
        actor: Actor,
        report: CompletionReport | None = None,
        client_update_id: str | None = None,
    ) -> None:
        """The visit ended without a fix; a follow-up work order is needed (see :meth:`follow_up`)."""
        if step := self._technician_step("report_incomplete", at, actor, client_update_id):
            technician, at = step
            self.report = report
            self.incomplete_reason = reason
            self.finished_at = at
            self._raise(
                WorkOrderIncomplete(
                    work_order_id=self.id, at=at, actor=actor, technician_id=technician, reason=reason.value
                )
            )

    def reported_time(self, reported: datetime | None, now: datetime) -> datetime:
        """When an app update happened: the time the device recorded it (an update sent after a spell
        offline), else ``now``. Never in the future, and never before the order's previous step."""
        if reported is None:
            return now
        reported = ensure_utc(reported, "occurred_at")
        if reported > now + CLOCK_SKEW:
            raise DomainError("an update cannot have happened in the future", code="occurred-in-future")
        previous = self.history[-1].at if self.history else self.opened_at
        return min(max(reported, previous), now)

    # --- internals ------------------------------------------------------------------------------------

    def _at(self, at: datetime) -> datetime:
        at = ensure_utc(at)
        if at < self.opened_at - timedelta(minutes=5):
            raise DomainError(
                "an action cannot happen before the work order was opened", code="time-before-opening"
            )
        return at

    def _transition(
        self, action: str, at: datetime, actor: Actor, client_update_id: str | None = None
    ) -> datetime:
        """Move the order by ``action`` and record it; returns the action's (checked) time."""
        try:
            target = WORK_ORDER_STATES.next_state(self.state, action)
        except IllegalTransition:
            raise IllegalTransition(
                WORK_ORDER_STATES.entity, self.state, action, self.allowed_actions()
            ) from None
        at = self._at(at)
        self.history.append(TransitionRecord(action, self.state, target, at, actor, client_update_id))
        self.state = target
        if client_update_id is not None:
            self.applied_updates[client_update_id] = action
        self.version += 1
        return at

    def _in_place(self, action: str, at: datetime, actor: Actor) -> datetime:
        """Record ``action``, which keeps the state; returns the action's (checked) time."""
        if self.state not in IN_PLACE_ACTIONS[action]:
            raise IllegalTransition(WORK_ORDER_STATES.entity, self.state, action, self.allowed_actions())
        at = self._at(at)
        self.history.append(TransitionRecord(action, self.state, self.state, at, actor))
        self.version += 1
        return at

    def _technician_step(
        self,
        action: str,
        at: datetime,
        actor: Actor,
        client_update_id: str | None,
        *,
        check: Callable[[], None] | None = None,
    ) -> tuple[str, datetime] | None:
        """Apply a technician-app ``action``: ``None`` when its update was already applied, else the
        assigned technician and the step's time. ``check`` runs once the technician is known to be the
        assigned one, before anything changes."""
        if self._replayed(action, client_update_id):
            return None
        technician = self._require_assigned_technician(actor)
        if check is not None:
            check()
        return technician, self._transition(action, at, actor, client_update_id)

    def _complete_with(
        self, report: CompletionReport, at: datetime, actor: Actor, *, technician_id: str | None
    ) -> None:
        """Keep the report of a fixed job; without a technician it was solved by remote support."""
        self.report = report
        self.finished_at = at
        self._raise(
            WorkOrderCompleted(
                work_order_id=self.id,
                at=at,
                actor=actor,
                technician_id=technician_id,
                remote=technician_id is None,
                first_time_fix=report.first_time_fix,
            )
        )

    def _replayed(self, action: str, client_update_id: str | None) -> bool:
        if client_update_id is None or client_update_id not in self.applied_updates:
            return False
        applied = self.applied_updates[client_update_id]
        if applied != action:
            raise Conflict(
                f"update {client_update_id} was already applied as '{applied}'",
                code="client-update-reused",
            )
        return True

    def _require_assigned_technician(self, actor: Actor) -> str:
        if self.technician_id is None:
            # the state machine gives the precise answer (with the allowed actions)
            return ""
        if actor.role is Role.TECHNICIAN and actor.id != self.technician_id:
            raise Forbidden(f"work order {self.id} is assigned to another technician")
        return self.technician_id

    def _require_diagnosis(self, report: CompletionReport) -> None:
        if self.type in (WorkOrderType.REPAIR, WorkOrderType.REMOTE_SUPPORT) and not report.diagnosed:
            raise DomainError(
                "a repair is completed with its fault code and cause", code="fault-code-required"
            )

    def _require_completable(self, report: CompletionReport) -> None:
        if not report.signature_ref:
            raise DomainError("a completed job carries the customer's signature", code="signature-required")
        self._require_diagnosis(report)
        if self.billing is not None and not self.billing.ready_for_work:
            raise DomainError(
                "paid work needs the customer's acceptance of the estimate", code="estimate-not-accepted"
            )

    def _require_dealer(self, dealer_id: str) -> None:
        if self.dealer_id is None:
            raise DomainError(f"work order {self.id} is not with a dealer", code="not-with-dealer")
        if dealer_id != self.dealer_id:
            raise Forbidden(f"work order {self.id} is with another dealer")

    def _require_on_site_job(self, action: str) -> None:
        if self.type is WorkOrderType.REMOTE_SUPPORT:
            raise DomainError(
                f"cannot {action} a remote support job; escalate it to on site first",
                code="remote-support-job",
            )

    def _require_available(self, window: TimeWindow) -> None:
        if self.availability and not any(w.covers(window.start, window.end) for w in self.availability):
            raise DomainError(
                "the visit falls outside the customer's availability", code="outside-availability"
            )

    def _recompute_deadlines(self) -> None:
        remote = self.type is WorkOrderType.REMOTE_SUPPORT
        self.deadlines = compute_deadlines(
            self.policy,
            opened_at=self.opened_at,
            grade=self.site.grade,
            priority=self.priority,
            premium_contract=bool(self.billing and self.billing.premium_contract),
            remote=remote,
            on_site_clock_from=self.on_site_requested_at,
            dealer_received_at=self.handed_to_dealer_at,
            arrived_at=self.arrived_at,
            planned_until=self.planned_until,
            calendar=self.calendar,
        )

    def _raise(self, event: WorkOrderEvent) -> None:
        self.events.append(event)
