from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.common import Actor
from intake.domain.ticket_events import (
    TicketAcknowledged,
    TicketFirstResponse,
    TicketMerged,
    TicketOpened,
    TicketOwnerChanged,
    TicketReopened,
    TicketUpdated,
)
from intake.domain.ticket_values import (
    AckMethod,
    AttachmentRef,
    CancelReason,
    Channel,
    CloseReason,
    LinkKind,
    Priority,
    ProductRef,
    Resolution,
    TicketStatus,
    find_ticket_numbers,
    format_ticket_number,
)
from intake.domain.tickets import EDIT_ACTIONS, TICKET_MACHINE, Ticket
from kit.domain import Conflict, DomainError, Forbidden, IllegalTransition

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
NewTicket = Callable[..., Ticket]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_ticket_number_is_the_year_and_a_zero_padded_sequence() -> None:
    assert format_ticket_number(2026, 123) == "T-2026-000123"
    assert format_ticket_number(2026, 1_234_567) == "T-2026-1234567"
    with pytest.raises(DomainError):
        format_ticket_number(2026, 0)


def test_ticket_numbers_are_found_in_a_subject_once_each() -> None:
    subject = "Re: [T-2026-000123] still broken (see T-2025-000007, T-2026-000123)"
    assert find_ticket_numbers(subject) == ["T-2026-000123", "T-2025-000007"]
    assert find_ticket_numbers("order T-26-1 and XT-2026-000001X") == []


def test_ticket_with_a_malformed_number_is_refused(new_ticket: NewTicket) -> None:
    with pytest.raises(DomainError, match="ticket number"):
        new_ticket(number="2026-123")


def test_email_ticket_arrives_new_and_unowned(new_ticket: NewTicket) -> None:
    ticket = new_ticket()
    assert ticket.status is TicketStatus.NEW
    assert ticket.owner_id is None
    assert [type(e) for e in ticket.pull_events()] == [TicketOpened]
    assert ticket.timeline[0].kind == "opened"
    assert ticket.timeline[0].actor_ref == "system:intake"


def test_agent_opening_a_hotline_ticket_owns_it_and_has_acknowledged_and_answered(
    new_ticket: NewTicket, agent: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    assert ticket.owner_id == "anna"
    assert ticket.status is TicketStatus.ACKNOWLEDGED
    assert ticket.acknowledged_at == ticket.first_response_at == T0
    events = ticket.pull_events()
    assert any(isinstance(e, TicketAcknowledged) and e.method is AckMethod.PHONE for e in events)
    assert any(isinstance(e, TicketFirstResponse) for e in events)


def test_first_member_of_staff_to_work_an_unowned_ticket_owns_it(
    new_ticket: NewTicket, agent: Actor, system: Actor
) -> None:
    ticket = new_ticket()
    ticket.acknowledge(actor=system, at=at(1), method=AckMethod.AUTO_EMAIL)
    assert ticket.owner_id is None  # an automatic acknowledgment is nobody's first contact
    ticket.start_work(actor=agent, at=at(5))
    assert ticket.owner_id == "anna"
    assert any(isinstance(e, TicketOwnerChanged) and e.reason == "first contact" for e in ticket.events)


def test_other_agents_may_note_and_watch_but_not_move_an_owned_ticket(
    new_ticket: NewTicket, agent: Actor, colleague: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    with pytest.raises(Forbidden) as refused:
        ticket.start_work(actor=colleague, at=at(1))
    assert refused.value.code == "not-ticket-owner"
    with pytest.raises(Forbidden):
        ticket.reply_to_customer(actor=colleague, at=at(1), body="Hello", via=Channel.EMAIL)
    ticket.add_internal_note(actor=colleague, at=at(2), body="I know this customer")
    ticket.watch("ben", actor=colleague, at=at(2))
    assert ticket.owner_id == "anna"
    assert ticket.status is TicketStatus.ACKNOWLEDGED


def test_taking_a_ticket_someone_owns_is_a_conflict(
    new_ticket: NewTicket, agent: Actor, colleague: Actor
) -> None:
    ticket = new_ticket()
    ticket.take(actor=agent, at=at(1))
    ticket.take(actor=agent, at=at(2))  # taking it again changes nothing
    with pytest.raises(Conflict) as refused:
        ticket.take(actor=colleague, at=at(3))
    assert refused.value.code == "ticket-already-owned"
    assert ticket.owner_id == "anna"


def test_only_a_supervisor_reassigns_and_the_reason_is_on_the_timeline(
    new_ticket: NewTicket, agent: Actor, supervisor: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    with pytest.raises(Forbidden):
        ticket.reassign(to_owner_id="ben", actor=agent, at=at(5), reason="holiday")
    ticket.reassign(to_owner_id="ben", actor=supervisor, at=at(10), reason="Anna is on holiday")
    assert ticket.owner_id == "ben"
    assert "anna" in ticket.watchers
    entry = ticket.timeline[-1]
    assert (entry.kind, entry.actor_ref, entry.at) == ("owner_changed", "user:sue", at(10))
    assert "Anna is on holiday" in entry.detail
    with pytest.raises(DomainError):
        ticket.reassign(to_owner_id="carl", actor=supervisor, at=at(11), reason="  ")


def test_supervisor_moves_a_ticket_without_taking_it_over(
    new_ticket: NewTicket, agent: Actor, supervisor: Actor
) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    ticket.start_work(actor=supervisor, at=at(1))
    ticket.resolve(actor=supervisor, at=at(2), resolution=Resolution.ANSWERED)
    assert ticket.owner_id == "anna"


def test_every_step_is_on_the_timeline_with_time_and_actor(
    new_ticket: NewTicket, agent: Actor, system: Actor
) -> None:
    ticket = new_ticket()
    ticket.acknowledge(actor=system, at=at(1), method=AckMethod.AUTO_EMAIL)
    ticket.start_work(actor=agent, at=at(4))
    ticket.wait_for_parts(actor=agent, at=at(30), reason="compressor ordered")
    ticket.resume(actor=system, at=at(90))
    ticket.resolve(actor=agent, at=at(120), resolution=Resolution.REPAIRED, work_order_id="wo-1")
    ticket.close(actor=system, at=at(200), reason=CloseReason.AUTO_AFTER_RESOLUTION)
    steps = [(e.kind, e.at, e.actor_ref) for e in ticket.timeline]
    assert steps == [
        ("opened", at(0), "system:intake"),
        ("acknowledge", at(1), "system:intake"),
        ("taken", at(4), "user:anna"),
        ("start_work", at(4), "user:anna"),
        ("wait_for_parts", at(30), "user:anna"),
        ("resume", at(90), "system:intake"),
        ("resolve", at(120), "user:anna"),
        ("close", at(200), "system:intake"),
    ]
    assert ticket.status is TicketStatus.CLOSED
    assert ticket.resolved_at == at(120)
    assert ticket.closed_at == at(200)
    assert ticket.version == 7  # opened + six changes


# --- the state machine ---------------------------------------------------------------------------


def ticket_in(status: TicketStatus, new_ticket: NewTicket, agent: Actor) -> Ticket:
    ticket = new_ticket(actor=agent)
    steps: dict[TicketStatus, list[Callable[[], None]]] = {
        TicketStatus.NEW: [],
        TicketStatus.ACKNOWLEDGED: [
            lambda: ticket.acknowledge(actor=agent, at=at(1), method=AckMethod.AUTO_EMAIL)
        ],
    }
    steps[TicketStatus.IN_PROGRESS] = [
        *steps[TicketStatus.ACKNOWLEDGED],
        lambda: ticket.start_work(actor=agent, at=at(2)),
    ]
    progress = steps[TicketStatus.IN_PROGRESS]
    steps[TicketStatus.WAITING_CUSTOMER] = [
        *progress,
        lambda: ticket.wait_for_customer(actor=agent, at=at(3), reason="photo"),
    ]
    steps[TicketStatus.WAITING_PARTS] = [
        *progress,
        lambda: ticket.wait_for_parts(actor=agent, at=at(3), reason="pump"),
    ]
    steps[TicketStatus.WAITING_THIRD_PARTY] = [
        *progress,
        lambda: ticket.wait_for_third_party(actor=agent, at=at(3), reason="dealer"),
    ]
    steps[TicketStatus.RESOLVED] = [
        *progress,
        lambda: ticket.resolve(actor=agent, at=at(4), resolution=Resolution.REPAIRED),
    ]
    steps[TicketStatus.CLOSED] = [
        *steps[TicketStatus.RESOLVED],
        lambda: ticket.close(actor=agent, at=at(5), reason=CloseReason.AGENT),
    ]
    steps[TicketStatus.CANCELLED] = [
        lambda: ticket.cancel(actor=agent, at=at(1), reason=CancelReason.RAISED_IN_ERROR)
    ]
    for step in steps.get(status, []):
        step()
    if status is TicketStatus.MERGED:
        ticket.merge_into(new_ticket(actor=agent), actor=agent, at=at(1))
    assert ticket.status is status
    return ticket


def attempt(action: str, ticket: Ticket, new_ticket: NewTicket, boss: Actor) -> None:
    """Try ``action`` on ``ticket`` as a supervisor (so ownership never decides the outcome)."""
    when = at(60)
    calls: dict[str, Callable[[], object]] = {
        "acknowledge": lambda: ticket.acknowledge(actor=boss, at=when, method=AckMethod.AGENT_REPLY),
        "start_work": lambda: ticket.start_work(actor=boss, at=when),
        "wait_for_customer": lambda: ticket.wait_for_customer(actor=boss, at=when, reason="r"),
        "wait_for_parts": lambda: ticket.wait_for_parts(actor=boss, at=when, reason="r"),
        "wait_for_third_party": lambda: ticket.wait_for_third_party(actor=boss, at=when, reason="r"),
        "resume": lambda: ticket.resume(actor=boss, at=when),
        "resolve": lambda: ticket.resolve(actor=boss, at=when, resolution=Resolution.OTHER),
        "close": lambda: ticket.close(actor=boss, at=when, reason=CloseReason.AGENT),
        "reopen": lambda: ticket.reopen(actor=boss, at=when, reason="back again"),
        "cancel": lambda: ticket.cancel(actor=boss, at=when, reason=CancelReason.OTHER),
        "merge": lambda: ticket.merge_into(new_ticket(), actor=boss, at=when),
        "take": lambda: ticket.take(actor=boss, at=when),
        "reply": lambda: ticket.reply_to_customer(actor=boss, at=when, body="hi", via=Channel.EMAIL),
        "update": lambda: ticket.change_priority(priority=Priority.URGENT, actor=boss, at=when),
        "attach": lambda: ticket.attach(AttachmentRef("att-9"), actor=boss, at=when),
        "reassign": lambda: ticket.reassign(to_owner_id="zoe", actor=boss, at=when, reason="r"),
        "record_customer_message": lambda: ticket.record_customer_message(
            at=when, via=Channel.EMAIL, summary="s"
        ),
        "add_note": lambda: ticket.add_internal_note(actor=boss, at=when, body="n"),
        "watch": lambda: ticket.watch("zoe", actor=boss, at=when),
        "link": lambda: ticket.link("other", LinkKind.RELATED, actor=boss, at=when),
        "record_activity": lambda: ticket.record_activity(kind="k", detail="d", at=when, actor=boss),
    }
    assert set(calls) == set(TICKET_MACHINE.transitions) | set(EDIT_ACTIONS)
    calls[action]()


ALL_ACTIONS = sorted(set(TICKET_MACHINE.transitions) | set(EDIT_ACTIONS))
ILLEGAL = [
    (status, action)
    for status in TicketStatus
    for action in ALL_ACTIONS
    if not TICKET_MACHINE.can(status, action) and status not in EDIT_ACTIONS.get(action, frozenset())
]


def test_there_are_illegal_actions_in_every_state() -> None:
    assert {status for status, _ in ILLEGAL} == set(TicketStatus)


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_illegal_ticket_action_is_refused_with_the_allowed_actions(
    status: TicketStatus, action: str, new_ticket: NewTicket, agent: Actor, supervisor: Actor
) -> None:
    ticket = ticket_in(status, new_ticket, agent)
    version = ticket.version
    with pytest.raises(IllegalTransition) as refused:
        attempt(action, ticket, new_ticket, supervisor)
    assert refused.value.state == status.value
    assert refused.value.action == action
    assert refused.value.allowed == ticket.allowed_actions()
    assert ticket.status is status
    assert ticket.version == version


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (
            TicketStatus.NEW,
            {"acknowledge", "cancel", "merge", "take", "reply", "update", "attach", "reassign"},
        ),
        (
            TicketStatus.WAITING_CUSTOMER,
            {"resume", "resolve", "wait_for_parts", "wait_for_third_party", "cancel"},
        ),
        (
            TicketStatus.RESOLVED,
            {"close", "reopen", "reply", "attach", "reassign", "record_customer_message"},
        ),
        (TicketStatus.CLOSED, {"reopen", "add_note", "watch", "link", "record_activity"}),
    ],
)
def test_allowed_actions_follow_the_state(
    status: TicketStatus, allowed: set[str], new_ticket: NewTicket, agent: Actor
) -> None:
    assert allowed <= set(ticket_in(status, new_ticket, agent).allowed_actions())


def test_closed_ticket_allows_only_reopen_and_commentary(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = ticket_in(TicketStatus.CLOSED, new_ticket, agent)
    assert ticket.allowed_actions() == ["add_note", "link", "record_activity", "reopen", "watch"]


# --- conversation, details, reopen, merge ---------------------------------------------------------


def test_reply_to_a_new_ticket_acknowledges_it_and_is_the_first_response(
    new_ticket: NewTicket, agent: Actor
) -> None:
    ticket = new_ticket()
    ticket.reply_to_customer(actor=agent, at=at(7), body="We are on it.", via=Channel.EMAIL)
    assert ticket.status is TicketStatus.ACKNOWLEDGED
    assert ticket.owner_id == "anna"
    assert ticket.acknowledged_at == ticket.first_response_at == at(7)
    assert any(isinstance(e, TicketAcknowledged) and e.method is AckMethod.AGENT_REPLY for e in ticket.events)


def test_automatic_reply_is_no_first_response(new_ticket: NewTicket, system: Actor) -> None:
    ticket = new_ticket()
    ticket.reply_to_customer(actor=system, at=at(1), body="We received your request.", via=Channel.EMAIL)
    assert ticket.acknowledged_at == at(1)
    assert ticket.first_response_at is None


def test_internal_notes_never_reach_the_customer(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent)
    ticket.add_internal_note(actor=agent, at=at(1), body="Customer was rude")
    ticket.reply_to_customer(actor=agent, at=at(2), body="A technician will call you.", via=Channel.EMAIL)
    assert [note.body for note in ticket.customer_notes] == ["A technician will call you."]
    assert len(ticket.notes) == 2


def test_customer_answer_resumes_a_ticket_waiting_on_them_once(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = ticket_in(TicketStatus.WAITING_CUSTOMER, new_ticket, agent)
    assert ticket.record_customer_message(
        at=at(30), via=Channel.EMAIL, summary="photo attached", reference="<m1@x>"
    )
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert not ticket.record_customer_message(
        at=at(31), via=Channel.EMAIL, summary="photo", reference="<m1@x>"
    )
    assert [e.kind for e in ticket.timeline].count("customer_message") == 1


def test_reopen_by_anyone_keeps_the_owner_and_counts(
    new_ticket: NewTicket, agent: Actor, colleague: Actor
) -> None:
    ticket = ticket_in(TicketStatus.CLOSED, new_ticket, agent)
    ticket.reopen(actor=colleague, at=at(100), reason="leaking again")
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.owner_id == "anna"
    assert ticket.resolved_at is None
    assert ticket.closed_at is None
    reopened = [e for e in ticket.events if isinstance(e, TicketReopened)]
    assert reopened[0].reopen_count == 1
    assert reopened[0].previously_resolved_at == at(4)


def test_update_reports_only_the_fields_that_changed(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket(channel=Channel.PHONE, actor=agent, product=ProductRef(model_code="WH-80"))
    changed = ticket.update_details(
        actor=agent,
        at=at(1),
        product=ProductRef(model_code="WH-80"),
        fault_description="No hot water",
        needs_on_site=True,
    )
    assert changed == ("fault_description", "needs_on_site")
    assert ticket.update_details(actor=agent, at=at(2), needs_on_site=True) == ()
    updates = [e for e in ticket.events if isinstance(e, TicketUpdated)]
    assert [u.changed_fields for u in updates] == [("fault_description", "needs_on_site")]


def test_outside_fact_replayed_leaves_one_timeline_entry(new_ticket: NewTicket, system: Actor) -> None:
    ticket = new_ticket()
    for _ in range(2):
        ticket.record_activity(
            kind="entitlement", detail="covered: free repair", at=at(3), actor=system, reference="evt-42"
        )
    assert [e.kind for e in ticket.timeline] == ["opened", "entitlement"]


def test_merged_duplicate_ends_and_the_survivor_takes_its_watchers_and_files(
    new_ticket: NewTicket, agent: Actor, colleague: Actor
) -> None:
    duplicate = new_ticket(channel=Channel.PHONE, actor=colleague, attachments=[AttachmentRef("fax-1")])
    survivor = new_ticket()  # arrived by email, nobody owns it yet
    with pytest.raises(Forbidden):
        duplicate.merge_into(survivor, actor=agent, at=at(5))  # Anna does not own the duplicate
    assert survivor.owner_id is None  # the refused merge did not make Anna the survivor's owner
    duplicate.merge_into(survivor, actor=Actor.user("sue", "supervisor"), at=at(5))
    assert duplicate.status is TicketStatus.MERGED
    assert duplicate.merged_into == survivor.id
    assert survivor.linked(LinkKind.MERGED_FROM) == [duplicate.id]
    assert [a.attachment_id for a in survivor.attachments] == ["fax-1"]
    assert "ben" in survivor.watchers
    assert any(isinstance(e, TicketMerged) and e.into_ticket_id == survivor.id for e in duplicate.events)


def test_merge_refuses_another_customers_ticket_and_a_closed_one(new_ticket: NewTicket, agent: Actor) -> None:
    ticket = new_ticket(actor=agent)
    with pytest.raises(Conflict, match="different customers"):
        ticket.merge_into(new_ticket(actor=agent, customer_id="cust-2"), actor=agent, at=at(1))
    with pytest.raises(Conflict, match="only an open ticket"):
        ticket.merge_into(ticket_in(TicketStatus.CLOSED, new_ticket, agent), actor=agent, at=at(1))
    with pytest.raises(DomainError, match="itself"):
        ticket.merge_into(ticket, actor=agent, at=at(1))
    assert ticket.status is TicketStatus.NEW
