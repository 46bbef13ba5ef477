"""Use cases of tickets, shared by the HTTP API, the channels (hotline, email, fax), the event handlers
and the SLA timers.

Every function runs inside the caller's unit of work (``uow``): it loads what it needs, applies the
domain rules, saves, and stages the contract events into the outbox, so the caller's commit makes
all of it durable at once. Time comes from ``clock`` when given, else from the unit of work's clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from intake import events
from intake.domain.common import Actor, DomainEvent
from intake.domain.complaints import ComplaintCategory, ComplaintOrigin, open_complaint
from intake.domain.contact_history import ContactDirection, ContactHistoryEntry, ContactKind
from intake.domain.contact_points import Address, normalise_email, try_normalise_phone
from intake.domain.customers import Customer, CustomerKind
from intake.domain.sla import TicketSla
from intake.domain.sla_policy import PolicyKey
from intake.domain.ticket_events import TicketUpdated
from intake.domain.ticket_values import (
    AttachmentRef,
    Channel,
    Priority,
    ProductRef,
    TicketType,
    TimeWindow,
    format_ticket_number,
)
from intake.domain.tickets import Ticket
from intake.operations.customers import (
    CallerCard,
    CustomerSummary,
    KnownUnit,
    OpenTicketSummary,
    active_customer,
    add_customer,
    caller_card,
    match_customer,
    phone_region,
    record_contact,
)
from intake.settings import intake_settings
from intake.store import customers as customer_store
from intake.store import sla as sla_store
from intake.store import tickets as store
from intake.store.sla import SlaSettings
from intake.store.tickets import StoredTicket
from kit.clock import Clock
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.domain import DomainError, NotFound

__all__ = [
    "CallerCard",
    "CustomerSummary",
    "KnownUnit",
    "MessageRecorded",
    "OpenTicket",
    "OpenTicketSummary",
    "SavedTicket",
    "call_ref",
    "caller_card",
    "change_ticket",
    "fax_ref",
    "find_ticket_by_external_ref",
    "find_ticket_by_number",
    "match_customer",
    "message_ref",
    "open_ticket",
    "record_contact",
    "record_customer_message",
]

_CONTACT_KIND_OF_CHANNEL = {
    Channel.PHONE: ContactKind.CALL,
    Channel.EMAIL: ContactKind.EMAIL,
    Channel.FAX: ContactKind.FAX,
}
_RETARGET_FIELDS = frozenset({"priority", "customer_tier", "type"})


# --- outside references ---------------------------------------------------------------------------


def call_ref(call_id: str) -> str:
    """The reference a hotline call leaves on its ticket and the customer's history."""
    return f"call:{call_id}"


def message_ref(message_id: str) -> str:
    """The reference an email (its Message-ID, angle brackets dropped) leaves, for threading replies."""
    return f"mail:{message_id.strip().strip('<>')}"


def fax_ref(fax_id: str) -> str:
    """The reference an inbound fax leaves on its ticket and the customer's history."""
    return f"fax:{fax_id}"


# --- opening --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OpenTicket:
    """Everything a channel knows when it opens a ticket.

    The customer is ``customer_id`` when known; otherwise the contact details are matched against
    the customer file (phone normalised to E.164, then email), and an unknown contact is registered
    as a new customer unless ``create_customer`` is False (then :class:`DomainError`). A complaint
    (``type`` complaint) names the ticket it is about in ``related_ticket_id``.

    ``source_reference`` is the record the ticket was opened from (use :func:`call_ref`,
    :func:`message_ref`, :func:`fax_ref`); it and ``external_refs`` find the ticket again
    (:func:`find_ticket_by_external_ref`), e.g. when a reply quotes the first mail's Message-ID.
    """

    channel: Channel
    type: TicketType = TicketType.REPAIR
    priority: Priority = Priority.NORMAL
    customer_id: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    company_name: str | None = None
    product: ProductRef | None = None
    purchase_date: date | None = None
    subject: str | None = None
    fault_description: str | None = None
    site_address: Address | None = None
    needs_on_site: bool = False
    preferred_windows: Sequence[TimeWindow] = ()
    attachments: Sequence[AttachmentRef] = ()
    source_reference: str | None = None
    external_refs: Sequence[str] = ()
    dealer_id: str | None = None
    related_ticket_id: str | None = None
    complaint_category: ComplaintCategory = ComplaintCategory.OTHER
    create_customer: bool = True
    ticket_id: str | None = None


async def open_ticket(
    uow: UnitOfWork, *, actor: Actor, command: OpenTicket, clock: Clock | None = None
) -> Ticket:
    """Open a ticket: find (or register) the customer, hand out the number, store the ticket, start its
    SLA clocks (durable timers), put it on the customer's history and stage ``intake.ticket.created.v1``
    (plus ``intake.complaint.opened.v1`` for a complaint). One transaction: the caller's."""
    now = (clock or uow.clock).now()
    settings = await sla_store.cached_settings(uow)
    number = await next_number(uow, now)  # before the customer: its rows can then go with the ticket's
    customer = await _customer_for(uow, command, actor, now)
    site = command.site_address or (customer.addresses[0] if customer.addresses else None)
    original: StoredTicket | None = None
    if command.type is TicketType.COMPLAINT:
        if command.related_ticket_id is not None:
            original = await store.load_ticket(uow, command.related_ticket_id)
        ticket = open_complaint(
            number=number,
            summary=(command.subject or command.fault_description or "Complaint")[:300],
            at=now,
            actor=actor,
            origin=_complaint_origin(command.channel, actor),
            channel=command.channel,
            original=original.ticket if original else None,
            customer_id=None if original else customer.id,
            category=command.complaint_category,
            detail=command.fault_description,
            priority=command.priority,
            customer_tier=customer.tier,
            ticket_id=command.ticket_id,
        )
        ticket.dealer_id = ticket.dealer_id or command.dealer_id or customer.dealer_id
        ticket.source_reference = command.source_reference or ticket.source_reference
        for attachment in command.attachments:
            ticket.attach(attachment, actor=actor, at=now)
    else:
        ticket = Ticket.open(
            number=number,
            channel=command.channel,
            type=command.type,
            customer_id=customer.id,
            at=now,
            actor=actor,
            priority=command.priority,
            customer_tier=customer.tier,
            product=command.product,
            purchase_date=command.purchase_date,
            subject=command.subject,
            fault_description=command.fault_description,
            site_address=site,
            needs_on_site=command.needs_on_site,
            preferred_windows=command.preferred_windows,
            contact_name=command.contact_name,
            contact_phone=command.contact_phone,
            attachments=command.attachments,
            source_reference=command.source_reference,
            dealer_id=command.dealer_id or customer.dealer_id,
            ticket_id=command.ticket_id,
        )
    for ref in command.external_refs:
        ticket.add_external_ref(ref)
    await add_new_ticket(uow, ticket, settings=settings, actor=actor, original=original)
    return ticket


async def add_new_ticket(
    uow: UnitOfWork,
    ticket: Ticket,
    *,
    settings: SlaSettings,
    actor: Actor,
    original: StoredTicket | None = None,
) -> None:
    """Store a ticket just opened (and the original a complaint is linked to), start its SLA clocks,
    put it on the customer's history and stage its events."""
    sla = TicketSla.start(ticket, settings.book, settings.calendar)
    raised = ticket.pull_events()
    await store.add_ticket(uow, ticket)
    await sla_store.add_clocks(uow, sla)
    events.stage_ticket_events(uow, ticket, raised, version=1, sla=sla)
    if original is not None:
        await save_changed(uow, original.ticket, original.version, settings)
    entry = ContactHistoryEntry.record(
        customer_id=ticket.customer_id,
        kind=ContactKind.TICKET,
        direction=ContactDirection.INBOUND,
        occurred_at=ticket.opened_at,
        summary=f"{ticket.type.value} ticket {ticket.number} opened ({ticket.channel.value})",
        actor=actor,
        reference=ticket.number,
    )
    await customer_store.add_contact(uow, entry, ticket_id=ticket.id, fresh=True)
    uow.audit(actor=actor.ref, action="ticket.opened", entity_type="ticket", entity_id=ticket.id)


async def next_number(uow: UnitOfWork, at: datetime) -> str:
    """A fresh, unique, human-readable ticket number (``T-2026-000123``)."""
    block = intake_settings().ticket_number_block
    return format_ticket_number(at.year, await store.allocate_number(uow, at.year, block=block))


def _complaint_origin(channel: Channel, actor: Actor) -> ComplaintOrigin:
    by_channel = {
        Channel.PHONE: ComplaintOrigin.PHONE,
        Channel.EMAIL: ComplaintOrigin.EMAIL,
        Channel.PARTNER: ComplaintOrigin.PARTNER,
        Channel.API: ComplaintOrigin.API,
        Channel.SURVEY: ComplaintOrigin.SURVEY,
    }
    return by_channel.get(channel, ComplaintOrigin.AGENT if actor.is_person else ComplaintOrigin.API)


async def _customer_for(uow: UnitOfWork, command: OpenTicket, actor: Actor, at: datetime) -> Customer:
    if command.customer_id is not None:
        return (await active_customer(uow, command.customer_id)).customer
    if command.related_ticket_id is not None and command.type is TicketType.COMPLAINT:
        original = await store.load_ticket(uow, command.related_ticket_id, for_update=False)
        return (await active_customer(uow, original.ticket.customer_id)).customer
    match = await match_customer(uow, phone=command.contact_phone, email=command.contact_email)
    if match is not None:
        return (await customer_store.load_customer(uow, match.id, for_update=False)).customer
    if not command.create_customer:
        raise DomainError("no customer matches the contact details", code="customer-not-matched")
    region = phone_region()
    phone = (
        try_normalise_phone(command.contact_phone, default_region=region) if command.contact_phone else None
    )
    email = (
        command.contact_email.strip(" <>") if command.contact_email and "@" in command.contact_email else None
    )
    name = (
        (command.contact_name or "").strip() or command.company_name or email or phone or "Unknown customer"
    )
    customer = Customer.register(
        kind=CustomerKind.COMPANY
        if command.company_name and not command.contact_name
        else CustomerKind.PERSON,
        name=name[:200],
        at=at,
        actor=actor,
        default_region=region,
        phones=[phone] if phone else [],
        emails=_valid_emails([email] if email else []),
        addresses=[command.site_address] if command.site_address else [],
        company_name=command.company_name,
        dealer_id=command.dealer_id,
    )
    await add_customer(uow, customer)
    return customer


def _valid_emails(candidates: list[str]) -> list[str]:
    valid = []
    for candidate in candidates:
        try:
            valid.append(normalise_email(candidate))
        except DomainError:
            continue
    return valid


# --- changing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedTicket:
    """A ticket after a change, with its stored version (the ETag) and what the change returned."""

    ticket: Ticket
    version: int
    changed: bool


async def change_ticket(
    uow: UnitOfWork,
    ticket_id: str,
    act: Callable[[Ticket], object],
    *,
    if_match: str | None = None,
    actor: Actor | None = None,
) -> SavedTicket:
    """Load the ticket (locked), apply ``act`` (a domain action), let its SLA clocks follow, save it and
    stage its events. ``if_match`` is the ETag the caller saw (412 when stale)."""
    stored = await store.load_ticket(uow, ticket_id)
    check_if_match(if_match, stored.version)
    ticket = stored.ticket
    before = ticket.version
    act(ticket)
    if ticket.version == before and not ticket.events:
        return SavedTicket(ticket, stored.version, changed=False)
    settings = await sla_store.load_settings(uow)
    version = await save_changed(uow, ticket, stored.version, settings)
    if actor is not None:
        uow.audit(actor=actor.ref, action="ticket.changed", entity_type="ticket", entity_id=ticket.id)
    return SavedTicket(ticket, version, changed=True)


async def save_changed(
    uow: UnitOfWork,
    ticket: Ticket,
    stored_version: int,
    settings: SlaSettings,
    *,
    clocks: Callable[[TicketSla], None] | None = None,
) -> int:
    """Save a loaded ticket that changed: its SLA clocks follow its events (and ``clocks``, a fact
    from elsewhere such as the technician's first contact), then stage its contract events."""
    raised = ticket.pull_events()
    sla = await sla_store.load_clocks(uow, ticket.id, settings)
    sla_raised: list[DomainEvent] = []
    if sla is not None:
        before = (sla.version, sla.owner_id)
        for event in raised:
            sla.observe(event)
        if clocks is not None:
            clocks(sla)
        if any(isinstance(e, TicketUpdated) and _RETARGET_FIELDS & set(e.changed_fields) for e in raised):
            sla.retarget(settings.book, PolicyKey.of(ticket), uow.now())
        if (sla.version, sla.owner_id) != before:
            await sla_store.save_clocks(uow, sla)
        sla_raised = sla.pull_events()
    version = await store.save_ticket(uow, ticket, stored_version=stored_version)
    events.stage_ticket_events(uow, ticket, [*raised, *sla_raised], version=version, sla=sla)
    return version


async def merge_tickets(
    uow: UnitOfWork, ticket_id: str, *, into_ticket_id: str, actor: Actor, if_match: str | None = None
) -> tuple[SavedTicket, SavedTicket]:
    """Merge a duplicate into the ticket that carries on (same customer, both open); both are saved.
    ``if_match`` is the duplicate's ETag. The two are locked in id order, so crossing merges wait."""
    first_id, second_id = sorted((ticket_id, into_ticket_id))
    loaded = {first_id: await store.load_ticket(uow, first_id)}
    if second_id != first_id:
        loaded[second_id] = await store.load_ticket(uow, second_id)
    duplicate, target = loaded[ticket_id], loaded[into_ticket_id]
    check_if_match(if_match, duplicate.version)
    duplicate.ticket.merge_into(target.ticket, actor=actor, at=(uow.clock).now())
    settings = await sla_store.load_settings(uow)
    duplicate_version = await save_changed(uow, duplicate.ticket, duplicate.version, settings)
    target_version = await save_changed(uow, target.ticket, target.version, settings)
    uow.audit(
        actor=actor.ref,
        action="ticket.merged",
        entity_type="ticket",
        entity_id=ticket_id,
        into=into_ticket_id,
    )
    return (
        SavedTicket(duplicate.ticket, duplicate_version, changed=True),
        SavedTicket(target.ticket, target_version, changed=True),
    )


# --- finding ---------------------------------------------------------------------------------------


async def find_ticket_by_number(uow: UnitOfWork, number: str, *, follow_merges: bool = True) -> Ticket | None:
    """The ticket with this human-readable number (``T-2026-000123``); with ``follow_merges`` the one
    a merged duplicate carries on in. None when there is no such ticket."""
    ticket_id = await store.ticket_id_by_number(uow, number)
    return await _found(uow, ticket_id, follow_merges)


async def find_ticket_by_external_ref(
    uow: UnitOfWork, ref: str, *, follow_merges: bool = True
) -> Ticket | None:
    """The ticket an outside key belongs to (a call, a Message-ID, a fax, a survey response: see
    :func:`call_ref`, :func:`message_ref`, :func:`fax_ref`). None when no ticket carries it."""
    ticket_id = await store.ticket_id_by_ref(uow, ref)
    return await _found(uow, ticket_id, follow_merges)


async def _found(uow: UnitOfWork, ticket_id: str | None, follow_merges: bool) -> Ticket | None:
    if ticket_id is None:
        return None
    if follow_merges:
        ticket_id = await store.surviving_ticket_id(uow, ticket_id)
    found = await store.find_ticket(uow, ticket_id)
    return found.ticket if found else None


# --- the customer writes or calls about a ticket -----------------------------------------------------


@dataclass(frozen=True)
class MessageRecorded:
    """The ticket an inbound message was threaded into; ``recorded`` is False for a replay."""

    ticket: Ticket
    version: int
    recorded: bool


async def record_customer_message(
    uow: UnitOfWork,
    *,
    ticket_id: str,
    via: Channel,
    body: str,
    actor: Actor | None = None,
    reference: str | None = None,
    attachments: Sequence[AttachmentRef] = (),
    clock: Clock | None = None,
) -> MessageRecorded:
    """Thread an inbound mail, fax or call into an existing ticket (a merged one: into its survivor).

    The message goes on the timeline (its first 500 characters) and the customer's history; a ticket
    waiting on the customer carries on; ``reference`` (e.g. :func:`message_ref`) makes a replay a
    no-op and lets later replies find the ticket. A closed, cancelled ticket refuses it with
    ``IllegalTransition`` (409): open a new ticket then.
    """
    now = (clock or uow.clock).now()
    target = await store.surviving_ticket_id(uow, ticket_id)
    stored = await store.load_ticket(uow, target)
    ticket = stored.ticket
    recorded = ticket.record_customer_message(
        at=now, via=via, summary=body.strip() or "(empty)", reference=reference
    )
    if not recorded:
        return MessageRecorded(ticket, stored.version, recorded=False)
    system = actor or Actor.system()
    for attachment in attachments:
        ticket.attach(attachment, actor=system, at=now)
    if reference is not None:
        ticket.add_external_ref(reference)
    settings = await sla_store.load_settings(uow)
    version = await save_changed(uow, ticket, stored.version, settings)
    await record_contact(
        uow,
        ticket.customer_id,
        _CONTACT_KIND_OF_CHANNEL.get(via, ContactKind.LETTER),
        reference,
        now,
        f"about {ticket.number}: {body.strip()}"[:500],
        direction=ContactDirection.INBOUND,
        actor=system,
        ticket_id=ticket.id,
    )
    return MessageRecorded(ticket, version, recorded=True)


async def require_ticket(uow: UnitOfWork, ticket_id: str) -> StoredTicket:
    found = await store.find_ticket(uow, ticket_id)
    if found is None:
        raise NotFound(f"ticket {ticket_id} not found", code="ticket-not-found")
    return found
