"""The customer file: register, search (phone, email, name, company), read, edit, contact points,
duplicates and merge, and the history of every contact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from intake.api.common import AddressDto, CustomerReader, CustomerWriter, Id, Staff, actor_of
from intake.domain.common import Actor
from intake.domain.contact_history import ContactDirection, ContactKind
from intake.domain.contact_points import Email, Phone, PhoneKind, ServiceTier, normalise_phone
from intake.domain.customers import ContactPerson, Customer, CustomerKind
from intake.domain.duplicates import DuplicateMatch
from intake.operations import customers as ops
from intake.store import customers as store
from intake.store.customers import StoredCustomer
from kit.auth import Principal
from kit.concurrency import IfMatch, etag
from kit.db import Database, UnitOfWork
from kit.dealers import acting_dealer, dealer_scope, ensure_visible
from kit.deps import Db
from kit.idempotency import IdempotencyKey, run_idempotent
from kit.pagination import Cursor, Limit, Page, decode_cursor, page_of

router = APIRouter(tags=["customers"])

CustomerId = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
RawPhone = Annotated[str, Field(min_length=1, max_length=40)]
RawEmail = Annotated[str, Field(min_length=3, max_length=254)]


class PhoneDto(BaseModel):
    number: RawPhone = Field(description="Any format; stored in E.164 (+4930123456)")
    kind: PhoneKind | None = Field(default=None, description="Recognised when left out")


class ContactPersonDto(BaseModel):
    name: Name
    role: Annotated[str, Field(max_length=100)] | None = None
    phones: list[RawPhone] = Field(default_factory=list, max_length=10)
    emails: list[RawEmail] = Field(default_factory=list, max_length=10)


class CustomerIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "person",
                    "name": "Hans Müller",
                    "phones": [{"number": "030 1234567"}],
                    "emails": ["hans.mueller@example.de"],
                    "addresses": [
                        {
                            "line1": "Hauptstr. 1",
                            "city": "Berlin",
                            "postal_code": "10115",
                            "country": "DE",
                            "region_code": "berlin",
                            "tier": "B",
                        }
                    ],
                }
            ]
        }
    )

    kind: CustomerKind = CustomerKind.PERSON
    name: Name
    company_name: Name | None = None
    phones: list[PhoneDto] = Field(default_factory=list, max_length=20)
    emails: list[RawEmail] = Field(default_factory=list, max_length=20)
    addresses: list[AddressDto] = Field(default_factory=list, max_length=20)
    contacts: list[ContactPersonDto] = Field(default_factory=list, max_length=20)
    tier: ServiceTier | None = Field(
        default=None, description="A contract tier overriding the region's grade"
    )
    preferred_language: Annotated[str, Field(max_length=16)] | None = None
    dealer_id: Id | None = Field(default=None, description="Staff only; a dealer token registers for itself")


class CustomerPatch(BaseModel):
    """Fields to change; a field left out stays. ``clear_tier`` drops a contract tier."""

    name: Name | None = None
    company_name: Annotated[str, Field(max_length=200)] | None = None
    tier: ServiceTier | None = None
    clear_tier: bool = False


class EmailIn(BaseModel):
    address: RawEmail
    primary: bool = False


class PhoneIn(PhoneDto):
    primary: bool = False


class AddressIn(AddressDto):
    primary: bool = False


class PhoneOut(BaseModel):
    number: str
    kind: PhoneKind


class ContactPersonOut(BaseModel):
    name: str
    role: str | None
    phones: list[str]
    emails: list[str]


class CustomerOut(BaseModel):
    id: str
    version: int
    kind: CustomerKind
    name: str
    company_name: str | None
    tier: ServiceTier = Field(description="The contract tier if set, else the primary address's grade")
    tier_override: ServiceTier | None
    region_code: str | None
    phones: list[PhoneOut]
    emails: list[str]
    addresses: list[AddressDto]
    contacts: list[ContactPersonOut]
    preferred_language: str | None
    dealer_id: str | None
    merged_into: str | None
    merged_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, stored: StoredCustomer) -> CustomerOut:
        c = stored.customer
        return cls(
            id=c.id,
            version=stored.version,
            kind=c.kind,
            name=c.name,
            company_name=c.company_name,
            tier=c.tier,
            tier_override=c.tier_override,
            region_code=c.region_code,
            phones=[PhoneOut(number=p.number, kind=p.kind) for p in c.phones],
            emails=[e.address for e in c.emails],
            addresses=[a for a in (AddressDto.of(x) for x in c.addresses) if a is not None],
            contacts=[
                ContactPersonOut(
                    name=p.name,
                    role=p.role,
                    phones=[x.number for x in p.phones],
                    emails=[x.address for x in p.emails],
                )
                for p in c.contacts
            ],
            preferred_language=c.preferred_language,
            dealer_id=c.dealer_id,
            merged_into=c.merged_into,
            merged_ids=list(c.merged_ids),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class MatchReasonOut(BaseModel):
    code: str
    detail: str = Field(description="Personal data in it is masked")


class DuplicateOut(BaseModel):
    customer_id: str
    score: int = Field(ge=0, le=100)
    reasons: list[MatchReasonOut]

    @classmethod
    def of(cls, match: DuplicateMatch) -> DuplicateOut:
        return cls(
            customer_id=match.duplicate_id,
            score=match.score,
            reasons=[MatchReasonOut(code=r.code, detail=r.detail) for r in match.reasons],
        )


class RegisteredOut(CustomerOut):
    possible_duplicates: list[DuplicateOut] = Field(description="Records that look like the same customer")


class MergeIn(BaseModel):
    absorbed_id: CustomerId = Field(description="The duplicate; it stays, pointing to this customer")


class MergedOut(BaseModel):
    customer: CustomerOut
    absorbed_id: str
    moved: list[str] = Field(description="What the survivor gained (personal data masked)")
    tickets_moved: int


class ContactIn(BaseModel):
    """A contact to put on the history by hand: a letter sent, a follow-up call made."""

    kind: ContactKind
    direction: ContactDirection = ContactDirection.OUTBOUND
    occurred_at: datetime | None = Field(default=None, description="Defaults to now")
    summary: Annotated[str, Field(min_length=1, max_length=500)]
    reference: Annotated[str, Field(max_length=300)] | None = None
    ticket_id: Id | None = None


class ContactOut(BaseModel):
    id: str
    kind: ContactKind
    direction: ContactDirection
    occurred_at: datetime
    summary: str
    actor: str
    reference: str | None
    ticket_id: str | None
    merged_from: str | None


class UnitOut(BaseModel):
    serial_number: str
    model_code: str | None
    product_line: str | None
    registered: bool = Field(description="Registered with warranty (else only named on a ticket)")
    sale_date: date | None = None
    installation_date: date | None = None
    repair_coverage_ends_on: date | None = None
    last_ticket_number: str | None


def _respond(stored: StoredCustomer, response: Response) -> CustomerOut:
    response.headers["ETag"] = etag(stored.version)
    return CustomerOut.of(stored)


async def _visible(uow: UnitOfWork, principal: Principal, customer_id: str) -> StoredCustomer:
    stored = await ops.require_customer(uow, customer_id)
    ensure_visible(principal, stored.customer.dealer_id, "customer")
    return stored


CustomerAction = Callable[[Customer, Actor, datetime], object]
"""One domain action on a customer, given the acting caller and the time."""


@dataclass(frozen=True)
class CustomerChange:
    """What a request that changes a customer carries besides the customer and the caller: the
    database, the ``If-Match`` sent, and the response that gets the new ETag."""

    db: Database
    response: Response
    if_match: str | None

    async def apply(self, customer_id: str, principal: Principal, act: CustomerAction) -> CustomerOut:
        """Apply ``act`` to a customer the caller may see, in one transaction; the new record."""
        actor = actor_of(principal)
        async with self.db.transaction() as uow:
            await _visible(uow, principal, customer_id)
            stored = await ops.change_customer(
                uow,
                customer_id,
                lambda c: act(c, actor, self.db.clock.now()),
                actor=actor,
                if_match=self.if_match,
            )
        return _respond(stored, self.response)


async def _customer_change(db: Db, response: Response, if_match: IfMatch = None) -> CustomerChange:
    return CustomerChange(db, response, if_match)


ChangeCustomer = Annotated[CustomerChange, Depends(_customer_change)]


# --- register, search, read ------------------------------------------------------------------------------


@router.post("/customers", status_code=201, summary="Register a customer", response_model=RegisteredOut)
async def register(
    body: CustomerIn, request: Request, db: Db, principal: CustomerWriter, key: IdempotencyKey = None
) -> Response:
    """Phones are normalised to E.164 and emails checked; the answer lists records that look like
    the same customer (same phone, same email, similar name at the same postcode) to merge."""
    dealer_id = acting_dealer(principal, body.dealer_id)
    actor = actor_of(principal)
    region = ops.phone_region()

    async def create(uow: UnitOfWork) -> RegisteredOut:
        customer = Customer.register(
            kind=body.kind,
            name=body.name,
            at=uow.now(),
            actor=actor,
            default_region=region,
            emails=body.emails,
            addresses=[a.domain() for a in body.addresses],
            company_name=body.company_name,
            tier=body.tier,
            preferred_language=body.preferred_language,
            dealer_id=dealer_id,
        )
        for phone in body.phones:
            customer.add_phone(
                phone.number, default_region=region, at=uow.now(), actor=actor, kind=phone.kind
            )
        for person in body.contacts:
            customer.add_contact(_person(person, region), at=uow.now(), actor=actor)
        # one intake.customer.created.v1 carries the whole record, phones and contacts included
        stored, duplicates = await ops.register_customer(uow, customer)
        return RegisteredOut(
            **CustomerOut.of(stored).model_dump(),
            possible_duplicates=[DuplicateOut.of(d) for d in duplicates],
        )

    return await run_idempotent(request, db, key, create, headers=lambda out: {"ETag": etag(1)})


def _person(person: ContactPersonDto, region: str) -> ContactPerson:
    return ContactPerson(
        name=person.name,
        role=person.role,
        phones=tuple(Phone.parse(p, default_region=region) for p in person.phones),
        emails=tuple(Email.parse(e) for e in person.emails),
    )


@router.get("/customers", summary="Search the customer file")
async def search(
    db: Db,
    principal: CustomerReader,
    limit: Limit = 50,
    cursor: Cursor = None,
    phone: Annotated[str | None, Query(max_length=40, description="Any format; matched in E.164")] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Words of the name, any order")] = None,
    company: Annotated[str | None, Query(max_length=200)] = None,
    include_merged: bool = False,
) -> Page[CustomerOut]:
    """Every criterion given must match; names ignore case, accents, titles and legal forms."""
    after = decode_cursor(cursor)
    e164 = normalise_phone(phone, default_region=ops.phone_region()) if phone else None
    async with db.transaction() as uow:
        found = await store.search_customers(
            uow,
            phone=e164,
            email=email,
            name=name,
            company=company,
            dealer_id=dealer_scope(principal),
            include_merged=include_merged,
            after=after,
            limit=limit + 1,
        )
    return page_of([CustomerOut.of(s) for s in found], limit, lambda c: (store.search_key(c.name), c.id))


@router.get("/customers/{customer_id}", summary="Read a customer")
async def get_customer(
    customer_id: CustomerId, db: Db, principal: CustomerReader, response: Response
) -> CustomerOut:
    async with db.transaction() as uow:
        stored = await _visible(uow, principal, customer_id)
    return _respond(stored, response)


@router.patch("/customers/{customer_id}", summary="Rename, or set the contract tier")
async def update_customer(
    customer_id: CustomerId, body: CustomerPatch, change: ChangeCustomer, principal: CustomerWriter
) -> CustomerOut:
    def act(customer: Customer, actor: Actor, now: datetime) -> None:
        if body.name is not None or body.company_name is not None:
            customer.rename(body.name or customer.name, at=now, actor=actor, company_name=body.company_name)
        if body.tier is not None or body.clear_tier:
            customer.set_tier(None if body.clear_tier else body.tier, at=now, actor=actor)

    return await change.apply(customer_id, principal, act)


@router.post("/customers/{customer_id}/phones", summary="Add a phone number")
async def add_phone(
    customer_id: CustomerId, body: PhoneIn, change: ChangeCustomer, principal: CustomerWriter
) -> CustomerOut:
    return await change.apply(
        customer_id,
        principal,
        lambda c, actor, at: c.add_phone(
            body.number,
            default_region=ops.phone_region(),
            at=at,
            actor=actor,
            kind=body.kind,
            primary=body.primary,
        ),
    )


@router.delete("/customers/{customer_id}/phones/{number}", summary="Remove a phone number")
async def remove_phone(
    customer_id: CustomerId,
    number: Annotated[str, Field(max_length=40)],
    change: ChangeCustomer,
    principal: CustomerWriter,
) -> CustomerOut:
    e164 = normalise_phone(number, default_region=ops.phone_region())
    return await change.apply(
        customer_id, principal, lambda c, actor, at: c.remove_phone(e164, at=at, actor=actor)
    )


@router.post("/customers/{customer_id}/emails", summary="Add an email address")
async def add_email(
    customer_id: CustomerId, body: EmailIn, change: ChangeCustomer, principal: CustomerWriter
) -> CustomerOut:
    return await change.apply(
        customer_id,
        principal,
        lambda c, actor, at: c.add_email(body.address, at=at, actor=actor, primary=body.primary),
    )


@router.delete("/customers/{customer_id}/emails/{address}", summary="Remove an email address")
async def remove_email(
    customer_id: CustomerId,
    address: Annotated[str, Field(max_length=254)],
    change: ChangeCustomer,
    principal: CustomerWriter,
) -> CustomerOut:
    return await change.apply(
        customer_id, principal, lambda c, actor, at: c.remove_email(address, at=at, actor=actor)
    )


@router.post("/customers/{customer_id}/addresses", summary="Add an address (region and tier)")
async def add_address(
    customer_id: CustomerId, body: AddressIn, change: ChangeCustomer, principal: CustomerWriter
) -> CustomerOut:
    return await change.apply(
        customer_id,
        principal,
        lambda c, actor, at: c.add_address(body.domain(), at=at, actor=actor, primary=body.primary),
    )


@router.post("/customers/{customer_id}/contacts", summary="Add a contact person (companies)")
async def add_contact_person(
    customer_id: CustomerId, body: ContactPersonDto, change: ChangeCustomer, principal: CustomerWriter
) -> CustomerOut:
    person = _person(body, ops.phone_region())
    return await change.apply(
        customer_id, principal, lambda c, actor, at: c.add_contact(person, at=at, actor=actor)
    )


# --- duplicates and merge ---------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/duplicates", summary="Records that look like the same customer")
async def duplicates(customer_id: CustomerId, db: Db, principal: Staff) -> list[DuplicateOut]:
    async with db.transaction() as uow:
        found = await ops.duplicates_of(uow, customer_id)
    return [DuplicateOut.of(match) for match in found]


@router.post("/customers/{customer_id}/merge", summary="Merge a duplicate into this customer")
async def merge(
    customer_id: CustomerId,
    body: MergeIn,
    db: Db,
    principal: Staff,
    response: Response,
    if_match: IfMatch = None,
) -> MergedOut:
    """The duplicate's phones, emails, addresses, contacts, history, tickets and units move here; it
    stays, pointing to this customer, so its id keeps resolving. ``If-Match`` is this customer's ETag."""
    async with db.transaction() as uow:
        merged = await ops.merge(
            uow,
            survivor_id=customer_id,
            absorbed_id=body.absorbed_id,
            actor=actor_of(principal),
            if_match=if_match,
        )
    response.headers["ETag"] = etag(merged.survivor.version)
    return MergedOut(
        customer=CustomerOut.of(merged.survivor),
        absorbed_id=merged.outcome.absorbed_id,
        moved=list(merged.outcome.moved),
        tickets_moved=merged.tickets_moved,
    )


# --- history and units ------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/history", summary="Every contact with the customer, newest first")
async def history(
    customer_id: CustomerId,
    db: Db,
    principal: CustomerReader,
    limit: Limit = 50,
    cursor: Cursor = None,
    kind: ContactKind | None = None,
) -> Page[ContactOut]:
    before = decode_cursor(cursor)
    async with db.transaction() as uow:
        await _visible(uow, principal, customer_id)
        found = await store.list_contacts(
            uow, customer_id, kind=kind.value if kind else None, before=before, limit=limit + 1
        )
    items = [
        ContactOut(
            id=s.entry.id,
            kind=s.entry.kind,
            direction=s.entry.direction,
            occurred_at=s.entry.occurred_at,
            summary=s.entry.summary,
            actor=s.entry.actor_ref,
            reference=s.entry.reference,
            ticket_id=s.ticket_id,
            merged_from=s.entry.merged_from,
        )
        for s in found
    ]
    return page_of(items, limit, lambda c: (c.occurred_at, c.id))


@router.post("/customers/{customer_id}/history", status_code=201, summary="Record a contact by hand")
async def add_history(customer_id: CustomerId, body: ContactIn, db: Db, principal: Staff) -> Response:
    async with db.transaction() as uow:
        await _visible(uow, principal, customer_id)
        recorded = await ops.record_contact(
            uow,
            customer_id,
            body.kind,
            body.reference,
            body.occurred_at or uow.now(),
            body.summary,
            direction=body.direction,
            actor=actor_of(principal),
            ticket_id=body.ticket_id,
        )
    return Response(status_code=201 if recorded else 200)


@router.get("/customers/{customer_id}/units", summary="The customer's units known to intake")
async def units(customer_id: CustomerId, db: Db, principal: CustomerReader) -> list[UnitOut]:
    async with db.transaction() as uow:
        await _visible(uow, principal, customer_id)
        known = await ops.known_units(uow, customer_id)
    return [
        UnitOut(
            serial_number=u.serial_number,
            model_code=u.model_code,
            product_line=u.product_line,
            registered=u.registered,
            sale_date=u.sale_date,
            installation_date=u.installation_date,
            repair_coverage_ends_on=u.repair_coverage_ends_on,
            last_ticket_number=u.last_ticket_number,
        )
        for u in known
    ]
