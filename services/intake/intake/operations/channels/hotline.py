"""Hotline use cases: a CTI event applied to its call, the call-back list, a ticket opened on a call.

The rules (ring time against the three-ring target, what counts as missed, who owns a call-back and
when it is due) are in :mod:`intake.domain.hotline` and :mod:`intake.domain.callbacks`; this module
loads, applies, saves and publishes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from contracts import intake as contract
from intake.channels.metrics import CALLBACKS_ESCALATED, CALLS, RING_SECONDS
from intake.channels.settings import ChannelSettings, channel_settings
from intake.domain import hotline as h
from intake.domain.callbacks import CallBackEscalated, CallBackOutcome, CallBackTask
from intake.domain.common import Actor
from intake.domain.cti import CallDirection, CtiEvent, HangupCause
from intake.domain.ticket_values import Channel
from intake.operations.channels import tickets
from intake.store import channels as store
from kit import scheduler
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound
from kit.scheduler import Timer

CALLBACK_DUE = "intake.callback.due"
PBX = Actor.partner("pbx")

MissedOutcome = Literal["no_answer", "abandoned", "busy", "out_of_hours", "failed"]
_MISSED_BY_CAUSE: dict[HangupCause | None, MissedOutcome] = {
    HangupCause.BUSY: "busy",
    HangupCause.CONGESTION: "failed",
    HangupCause.NOT_FOUND: "failed",
}


@dataclass(frozen=True)
class CallRecorded:
    """A call after one CTI event: whether the event changed it, the call-back it caused, and for a
    ringing inbound call the caller's card for the agent's screen."""

    call: h.Call
    within_target: bool | None
    changed: bool
    callback: CallBackTask | None = None
    card: tickets.CallerCard | None = None


async def record_cti_event(uow: UnitOfWork, event: CtiEvent, settings: ChannelSettings) -> CallRecorded:
    """Apply one telephony event to its call (in any order, any number of times)."""
    rules = settings.hotline()
    call = await store.lock_call(uow, event.call_id)
    if call is None:
        # two webhooks of a new call may race: one row is made, both then apply under its lock
        await store.add_call(
            uow, h.Call(call_id=event.call_id, direction=event.direction), within_target=None
        )
        call = await store.lock_call(uow, event.call_id)
        assert call is not None
    stored_version = call.version
    changed = call.apply(event, rules)
    callback: CallBackTask | None = None
    card: tickets.CallerCard | None = None
    if changed:
        if call.customer_id is None and call.customer_number:
            call.customer_id = await tickets.match_customer(uow, phone=call.customer_number)
        for raised in call.pull_events():
            found = await _on_call_event(uow, call, raised, rules)
            callback = found or callback
        await store.save_call(
            uow, call, stored_version=stored_version, within_target=call.answered_within_target(rules)
        )
    if event.kind is h.CtiEventKind.NEW_CALL and call.direction is CallDirection.IN and call.customer_number:
        card = await tickets.caller_card(uow, call.customer_number)
    return CallRecorded(call, call.answered_within_target(rules), changed, callback, card)


async def _on_call_event(
    uow: UnitOfWork, call: h.Call, raised: object, rules: h.HotlineSettings
) -> CallBackTask | None:
    service = uow.db.service
    if isinstance(raised, h.CallAnswered):
        await _close_callbacks_reached_by(uow, call, raised.answered_at)
        if call.direction is CallDirection.IN:
            ring = raised.ring_time or timedelta(0)
            uow.after_commit(partial(RING_SECONDS.labels(service).observe, ring.total_seconds()))
            uow.emit(
                contract.CallAnswered(
                    call_id=call.call_id,
                    caller_number=_raw_number(call.from_number),
                    queue=_code(call.queue),
                    # the PBX may not say who answered; the extension that rang stands in
                    agent_id=(raised.agent or (call.users[0] if call.users else None) or "unknown")[:64],
                    customer_id=call.customer_id,
                    started_at=raised.started_at or raised.answered_at,
                    answered_at=raised.answered_at,
                    ring_seconds=int(ring.total_seconds()),
                    within_target=bool(raised.within_target),
                ),
                time=raised.answered_at,
            )
    elif isinstance(raised, h.CallMissed):
        return await _open_callback(uow, call, raised)
    elif isinstance(raised, h.CallEnded):
        uow.after_commit(CALLS.labels(service, raised.outcome.value).inc)
        if call.customer_id:
            await tickets.note_contact(
                uow,
                customer_id=call.customer_id,
                kind="call",
                reference=call.call_id,
                at=raised.at,
                summary=f"{call.direction.value}bound call, {raised.outcome.value}",
            )
    return None


async def _open_callback(uow: UnitOfWork, call: h.Call, missed: h.CallMissed) -> CallBackTask | None:
    task = CallBackTask.for_missed_call(missed)
    if task is not None:
        task.customer_id = call.customer_id
        if await store.add_callback(uow, task):
            await _schedule_due(uow, task)
        else:
            task = None
    uow.emit(
        contract.CallMissed(
            call_id=call.call_id,
            caller_number=_raw_number(missed.caller_number),
            callee_number=_raw_number(call.to_number),
            queue=_code(missed.queue),
            outcome=missed_outcome(missed.outcome, call.cause),
            customer_id=call.customer_id,
            started_at=missed.started_at,
            ended_at=missed.ended_at,
            ring_seconds=int(missed.ring_time.total_seconds()),
            callback_task_id=task.id if task else None,
            callback_due_at=task.due_at if task else None,
            callback_owner_id=task.owner[:64] if task else None,
        ),
        time=missed.at,
    )
    return task


def missed_outcome(outcome: h.CallOutcome, cause: HangupCause | None) -> MissedOutcome:
    """The contract's word for an unanswered call: the caller gave up (abandoned), nobody was there
    (out of hours), or the network's reason (busy, failed), else simply no answer."""
    if outcome is h.CallOutcome.ABANDONED:
        return "abandoned"
    if outcome is h.CallOutcome.OUT_OF_HOURS:
        return "out_of_hours"
    return _MISSED_BY_CAUSE.get(cause, "no_answer")


async def _close_callbacks_reached_by(uow: UnitOfWork, call: h.Call, at: datetime) -> None:
    if not call.customer_number:
        return
    for task in await store.open_callbacks_for_number(uow, call.customer_number):
        stored = task.version
        if task.close_by_call(call, at):
            await store.save_callback(uow, task, stored_version=stored)
            await scheduler.cancel(uow, kind=CALLBACK_DUE, key=task.id)
            uow.audit(
                actor=PBX.ref,
                action="callback.closed_by_call",
                entity_type="callback",
                entity_id=task.id,
                call_id=call.call_id,
            )


# --- the call-back list --------------------------------------------------------------------------


async def take_callback(uow: UnitOfWork, task_id: str, *, actor: Actor, if_match: str | None) -> CallBackTask:
    task = await store.lock_callback(uow, task_id)
    check_if_match(if_match, task.version)
    stored = task.version
    task.take(actor=actor, at=uow.now())
    if task.version != stored:
        await store.save_callback(uow, task, stored_version=stored)
        uow.audit(actor=actor.ref, action="callback.taken", entity_type="callback", entity_id=task.id)
    return task


async def complete_callback(
    uow: UnitOfWork,
    task_id: str,
    *,
    outcome: CallBackOutcome,
    note: str,
    actor: Actor,
    if_match: str | None,
) -> CallBackTask:
    """Record what calling back came to; an unreached customer keeps the task open and due again."""
    settings = channel_settings(uow.db.service)
    task = await store.lock_callback(uow, task_id)
    check_if_match(if_match, task.version)
    stored = task.version
    now = uow.now()
    task.record_outcome(outcome, actor=actor, at=now, note=note, settings=settings.hotline())
    await store.save_callback(uow, task, stored_version=stored)
    if task.status.value == "open":
        await _schedule_due(uow, task)
    else:
        await scheduler.cancel(uow, kind=CALLBACK_DUE, key=task.id)
    uow.audit(
        actor=actor.ref,
        action="callback.outcome",
        entity_type="callback",
        entity_id=task.id,
        outcome=outcome.value,
        note=note[:200],
    )
    if task.customer_id:
        await tickets.note_contact(
            uow,
            customer_id=task.customer_id,
            kind="call",
            reference=f"callback:{task.id}:{len(task.attempts)}",
            at=now,
            summary=f"call-back: {outcome.value}",
        )
    return task


async def _schedule_due(uow: UnitOfWork, task: CallBackTask) -> None:
    """(Re)set the timer that fires when the call-back falls due (see :func:`callback_due`)."""
    await scheduler.schedule(
        uow, kind=CALLBACK_DUE, key=task.id, due_at=task.due_at, payload={"task_id": task.id}
    )


async def callback_due(uow: UnitOfWork, timer: Timer) -> None:
    """A call-back's due time passed: if it is still open and overdue it goes to the supervisors."""
    task_id = str(timer.payload.get("task_id") or timer.key)
    try:
        task = await store.lock_callback(uow, task_id)
    except NotFound:
        return
    stored = task.version
    settings = channel_settings(uow.db.service)
    if not task.escalate(to_owner=settings.callback_escalate_to, at=uow.now()):
        return
    await store.save_callback(uow, task, stored_version=stored)
    for raised in task.pull_events():
        if isinstance(raised, CallBackEscalated):
            uow.audit(
                actor=Actor.system().ref,
                action="callback.escalated",
                entity_type="callback",
                entity_id=task.id,
                level=raised.level,
                to_owner=raised.to_owner,
            )
    uow.after_commit(CALLBACKS_ESCALATED.labels(uow.db.service).inc)


# --- a ticket opened on a call -------------------------------------------------------------------


async def open_ticket_for_call(
    uow: UnitOfWork, call_id: str, *, actor: Actor, command: tickets.OpenTicket
) -> tickets.TicketRef:
    """The agent on a call opens its ticket; the call and the ticket point at each other. The caller
    is the customer unless the agent names another (or a contact to register)."""
    call = await store.lock_call(uow, call_id)
    if call is None:
        raise NotFound(f"call {call_id} not found", code="call-not-found")
    if call.ticket_id is not None:
        raise Conflict(
            f"call {call_id} already has ticket {call.ticket_id}",
            code="call-has-ticket",
            ticket_id=call.ticket_id,
        )
    stored = call.version
    named_someone = command.customer_id or command.contact_phone or command.contact_email
    ticket = await tickets.open_ticket(
        uow,
        actor=actor,
        command=dataclasses.replace(
            command,
            channel=Channel.PHONE,
            customer_id=command.customer_id or (None if named_someone else call.customer_id),
            contact_phone=command.contact_phone or (None if command.customer_id else call.customer_number),
            source_reference=tickets.call_ref(call.call_id)[:300],
        ),
    )
    call.link_ticket(ticket.id)
    rules = channel_settings(uow.db.service).hotline()
    await store.save_call(uow, call, stored_version=stored, within_target=call.answered_within_target(rules))
    uow.audit(
        actor=actor.ref,
        action="call.ticket_opened",
        entity_type="call",
        entity_id=call.call_id,
        ticket_id=ticket.id,
    )
    return ticket


def _raw_number(number: str | None) -> str | None:
    return number[:40] if number else None


def _code(text: str | None) -> str | None:
    return text[:40] if text else None
