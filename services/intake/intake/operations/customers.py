"""Use cases of the customer file, shared by the API, the channels and the event handlers.

Each function runs inside the caller's unit of work (``uow``): it loads, applies the domain rules,
saves and stages the events, and commits with everything else the caller does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from intake import events
from intake.domain.common import Actor
from intake.domain.contact_history import ContactDirection, ContactHistoryEntry, ContactKind
from intake.domain.contact_points import ServiceTier, email_key, try_normalise_phone
from intake.domain.customers import Customer
from intake.domain.duplicates import DuplicateMatch, MergeOutcome, find_duplicates, merge_customers
from intake.domain.ticket_events import TicketUpdated
from intake.domain.ticket_values import TicketStatus
from intake.settings import intake_settings
from intake.store import customers as store
from intake.store import tickets as ticket_store
from intake.store.customers import StoredCustomer
from kit.clock import Clock
from kit.concurrency import check_if_match
from kit.db import UnitOfWork
from kit.domain import NotFound

MAX_MERGE_HOPS = 10


def phone_region() -> str:
    """The country of numbers written without a prefix (``INTAKE_PHONE_REGION``)."""
    return intake_settings().phone_region.upper()


@dataclass(frozen=True)
class CustomerSummary:
    """Who a customer is, as a caller card or a match shows it."""

    id: str
    kind: str
    name: str
    company_name: str | None
    tier: ServiceTier
    region_code: str | None
    dealer_id: str | None
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    matched_by: tuple[str, ...] = ()

    @classmethod
    def of(cls, customer: Customer, matched_by: Sequence[str] = ()) -> CustomerSummary:
        return cls(
            id=customer.id,
            kind=customer.kind.value,
            name=customer.name,
            company_name=customer.company_name,
            tier=customer.tier,
            region_code=customer.region_code,
            dealer_id=customer.dealer_id,
            phones=tuple(p.number for p in customer.phones),
            emails=tuple(e.address for e in customer.emails),
            matched_by=tuple(matched_by),
        )


# --- saving ------------------------------------------------------------------------------------------


async def add_customer(uow: UnitOfWork, customer: Customer) -> int:
    """Store a new customer and stage ``intake.customer.created.v1``; its stored version (1)."""
    version = await store.add_customer(uow, customer)
    events.stage_customer_events(uow, customer, customer.pull_events(), version=version)
    uow.audit(actor="intake", action="customer.created", entity_type="customer", entity_id=customer.id)
    return version


async def register_customer(
    uow: UnitOfWork, customer: Customer
) -> tuple[StoredCustomer, list[DuplicateMatch]]:
    """Store a customer just registered (``Customer.register``) and report who it may duplicate; a
    person decides whether to merge."""
    version = await add_customer(uow, customer)
    candidates = await store.duplicate_candidates(uow, customer)
    return StoredCustomer(customer, version), find_duplicates(customer, candidates)


async def change_customer(
    uow: UnitOfWork,
    customer_id: str,
    act: Callable[[Customer], object],
    *,
    actor: Actor,
    if_match: str | None = None,
) -> StoredCustomer:
    """Load the customer, apply ``act`` (a domain change), save it and stage its events."""
    stored = await store.load_customer(uow, customer_id)
    check_if_match(if_match, stored.version)
    customer = stored.customer
    act(customer)
    raised = customer.pull_events()
    if not raised:
        return stored
    version = await store.save_customer(uow, customer, stored_version=stored.version)
    events.stage_customer_events(uow, customer, raised, version=version)
    uow.audit(actor=actor.ref, action="customer.changed", entity_type="customer", entity_id=customer.id)
    return StoredCustomer(customer, version)


async def active_customer(uow: UnitOfWork, customer_id: str) -> StoredCustomer:
    """The customer, or the one it was merged into (old ids keep working)."""
    stored = await store.load_customer(uow, customer_id, for_update=False)
    for _ in range(MAX_MERGE_HOPS):
        if stored.customer.merged_into is None:
            return stored
        stored = await store.load_customer(uow, stored.customer.merged_into, for_update=False)
    return stored


# --- matching -----------------------------------------------------------------------------------------


async def match_customer(
    uow: UnitOfWork, *, phone: str | None = None, email: str | None = None, region: str | None = None
) -> CustomerSummary | None:
    """The customer a caller or sender is, by phone (any format; normalised to E.164) or email.

    One customer found by both beats those found by one; among equals the oldest record wins (the
    one other services have known longest). None when nobody matches or the inputs are not numbers
    or addresses.
    """
    found = await _matches(uow, phone=phone, email=email, region=region)
    return found[0] if found else None


async def _matches(
    uow: UnitOfWork, *, phone: str | None, email: str | None, region: str | None
) -> list[CustomerSummary]:
    e164 = try_normalise_phone(phone, default_region=region or phone_region()) if phone else None
    by: dict[str, list[str]] = {}
    if e164 is not None:
        for customer_id in await store.customer_ids_with(uow, store.PHONE, [e164]):
            by.setdefault(customer_id, []).append("phone")
    if email and "@" in email:
        for customer_id in await store.customer_ids_with(uow, store.EMAIL, [email_key(email.strip(" <>"))]):
            by.setdefault(customer_id, []).append("email")
    if not by:
        return []
    found = [s.customer for s in await store.customers_by_ids(uow, by)]
    ranked = sorted(found, key=lambda c: (-len(by[c.id]), c.created_at, c.id))
    return [CustomerSummary.of(c, by[c.id]) for c in ranked if c.is_active]


@dataclass(frozen=True)
class KnownUnit:
    """A unit of the customer as intake knows it: registered with warranty, or named on a ticket."""

    serial_number: str
    model_code: str | None
    product_line: str | None = None
    sale_date: date | None = None
    installation_date: date | None = None
    repair_coverage_ends_on: date | None = None
    registered: bool = False
    last_ticket_number: str | None = None


@dataclass(frozen=True)
class OpenTicketSummary:
    id: str
    number: str
    status: TicketStatus
    type: str
    priority: str
    owner_id: str | None
    opened_at: datetime
    subject: str | None
    serial_number: str | None


@dataclass(frozen=True)
class CallerCard:
    """What the agent sees as the phone rings: who calls, their units, their open requests."""

    phone: str | None
    customer: CustomerSummary | None
    other_matches: list[CustomerSummary] = field(default_factory=list)
    units: list[KnownUnit] = field(default_factory=list)
    open_tickets: list[OpenTicketSummary] = field(default_factory=list)


async def caller_card(uow: UnitOfWork, phone: str | None, *, region: str | None = None) -> CallerCard:
    """The caller lookup for the hotline screen: the customer the number belongs to (if any), the
    units known locally and the open tickets. A withheld or unknown number gives an empty card."""
    e164 = try_normalise_phone(phone, default_region=region or phone_region()) if phone else None
    matches = await _matches(uow, phone=phone, email=None, region=region) if e164 else []
    if not matches:
        return CallerCard(phone=e164, customer=None)
    customer = matches[0]
    return CallerCard(
        phone=e164,
        customer=customer,
        other_matches=matches[1:],
        units=await known_units(uow, customer.id),
        open_tickets=[
            OpenTicketSummary(
                id=t.id,
                number=t.number,
                status=t.status,
                type=t.type.value,
                priority=t.priority.value,
                owner_id=t.owner_id,
                opened_at=t.opened_at,
                subject=t.subject,
                serial_number=t.product.serial_number,
            )
            for t in await ticket_store.open_tickets_of(uow, [customer.id])
        ],
    )


async def known_units(uow: UnitOfWork, customer_id: str) -> list[KnownUnit]:
    """Registered units first, then serials only seen on the customer's tickets."""
    units: dict[str, KnownUnit] = {}
    for row in await store.units_of(uow, [customer_id]):
        units[row["serial_number"]] = KnownUnit(
            serial_number=row["serial_number"],
            model_code=row["model_code"],
            product_line=row["product_line"],
            sale_date=row["sale_date"],
            installation_date=row["installation_date"],
            repair_coverage_ends_on=row["repair_coverage_ends_on"],
            registered=True,
        )
    for row in await ticket_store.units_of_customers(uow, [customer_id]):
        serial = row["serial_number"]
        if serial in units:
            if units[serial].last_ticket_number is None:
                known = units[serial]
                units[serial] = KnownUnit(**{**known.__dict__, "last_ticket_number": row["number"]})
            continue
        product = row["doc"].get("product") or {}
        units[serial] = KnownUnit(
            serial_number=serial,
            model_code=product.get("model_code"),
            product_line=product.get("product_line"),
            last_ticket_number=row["number"],
        )
    return list(units.values())


# --- contact history ----------------------------------------------------------------------------------


async def record_contact(
    uow: UnitOfWork,
    customer_id: str,
    kind: ContactKind,
    ref: str | None,
    at: datetime,
    summary: str,
    *,
    direction: ContactDirection = ContactDirection.INBOUND,
    actor: Actor | None = None,
    ticket_id: str | None = None,
) -> bool:
    """Put a contact (call, email, fax, ticket, follow-up call, letter) on the customer's history.

    ``ref`` names the source record (call id, Message-ID, fax id, ticket number) so a replayed one is
    recorded once; returns False for such a replay. A merged-away customer id is recorded on the
    survivor.
    """
    survivor = await active_customer(uow, customer_id)
    entry = ContactHistoryEntry.record(
        customer_id=survivor.customer.id,
        kind=kind,
        direction=direction,
        occurred_at=at,
        summary=summary[:500] or kind.value,
        actor=actor or Actor.system(),
        reference=ref,
    )
    return await store.add_contact(uow, entry, ticket_id=ticket_id)


# --- duplicates and merge -----------------------------------------------------------------------------

CustomerRepointer = Callable[[UnitOfWork, MergeOutcome], Awaitable[None]]

#: Other parts of intake that keep customer ids (calls, call-back tasks) add how to re-point them here.
MERGE_REPOINTERS: list[CustomerRepointer] = []


async def duplicates_of(uow: UnitOfWork, customer_id: str) -> list[DuplicateMatch]:
    """Customers that look like the same one, with the reasons, most likely first."""
    stored = await store.load_customer(uow, customer_id, for_update=False)
    candidates = await store.duplicate_candidates(uow, stored.customer)
    return find_duplicates(stored.customer, candidates)


@dataclass(frozen=True)
class Merged:
    survivor: StoredCustomer
    outcome: MergeOutcome
    tickets_moved: int


async def merge(
    uow: UnitOfWork,
    *,
    survivor_id: str,
    absorbed_id: str,
    actor: Actor,
    if_match: str | None = None,
    clock: Clock | None = None,
) -> Merged:
    """Merge ``absorbed_id`` into ``survivor_id``: contact points, history, tickets and units move to
    the survivor; the absorbed record stays, pointing to it. ``if_match`` is the survivor's ETag."""
    at = (clock or uow.clock).now()
    first = await store.load_customer(uow, survivor_id)
    second = await store.load_customer(uow, absorbed_id)
    check_if_match(if_match, first.version)
    outcome = merge_customers(first.customer, second.customer, at=at, actor=actor)
    absorbed_raised = second.customer.pull_events()
    await store.save_customer(uow, second.customer, stored_version=second.version)
    raised = first.customer.pull_events()
    version = await store.save_customer(uow, first.customer, stored_version=first.version)
    events.stage_customer_events(uow, first.customer, [*absorbed_raised, *raised], version=version)
    await store.repoint_contacts(uow, absorbed_id=absorbed_id, survivor_id=survivor_id)
    await store.repoint_units(uow, absorbed_id=absorbed_id, survivor_id=survivor_id)
    moved = await _move_tickets(uow, outcome, actor=actor, at=at)
    for repoint in MERGE_REPOINTERS:
        await repoint(uow, outcome)
    uow.audit(
        actor=actor.ref,
        action="customer.merged",
        entity_type="customer",
        entity_id=survivor_id,
        absorbed_id=absorbed_id,
        moved=list(outcome.moved),
    )
    return Merged(StoredCustomer(first.customer, version), outcome, moved)


async def _move_tickets(uow: UnitOfWork, outcome: MergeOutcome, *, actor: Actor, at: datetime) -> int:
    """Every ticket of the absorbed customer now belongs to the survivor (noted on its timeline)."""
    moved = 0
    for ticket_id in await ticket_store.ticket_ids_of_customer(uow, outcome.absorbed_id):
        stored = await ticket_store.load_ticket(uow, ticket_id)
        ticket = stored.ticket
        ticket.record_activity(
            kind="customer_merged",
            detail=f"customer {outcome.absorbed_id} merged into {outcome.survivor_id}",
            at=at,
            actor=actor,
        )
        ticket.customer_id = outcome.survivor_id
        version = await ticket_store.save_ticket(uow, ticket, stored_version=stored.version)
        changed = TicketUpdated(at=at, ticket_id=ticket.id, actor=actor, changed_fields=("customer_id",))
        events.stage_ticket_events(uow, ticket, [changed], version=version, sla=None)
        moved += 1
    return moved


async def require_customer(uow: UnitOfWork, customer_id: str) -> StoredCustomer:
    found = await store.find_customer(uow, customer_id)
    if found is None:
        raise NotFound(f"customer {customer_id} not found", code="customer-not-found")
    return found
