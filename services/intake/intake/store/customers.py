"""All SQL of the customer file: customers (document + search columns), contact points, contact history."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.engine import RowMapping

from intake.domain.contact_history import ContactDirection, ContactHistoryEntry, ContactKind
from intake.domain.contact_points import email_key
from intake.domain.customers import Customer
from intake.domain.duplicates import name_key
from intake.store.documents import customer_doc, customer_of
from intake.tables.customers import contact_history, contact_points, customer_units, customers
from kit.copies import insert_new, keep_newest
from kit.db import UnitOfWork
from kit.domain import Conflict, NotFound
from kit.pagination import after_row

PHONE = "phone"
EMAIL = "email"
POSTCODE = "postcode"


@dataclass(frozen=True)
class StoredCustomer:
    customer: Customer
    version: int


def search_key(name: str) -> str:
    """The words of a name as searched: umlauts both spelled out and plain (Müller: mueller, muller)."""
    plain = unicodedata.normalize("NFKD", name.casefold())
    words = (
        name_key(name).split()
        + name_key("".join(ch for ch in plain if not unicodedata.combining(ch))).split()
    )
    return " ".join(dict.fromkeys(words))[:400]


def _columns(customer: Customer) -> dict[str, Any]:
    return {
        "kind": customer.kind.value,
        "name": customer.name,
        "name_key": search_key(customer.name),
        "company_name": customer.company_name,
        "company_key": search_key(customer.company_name) if customer.company_name else None,
        "tier": customer.tier.value,
        "region_code": customer.region_code,
        "dealer_id": customer.dealer_id,
        "merged_into": customer.merged_into,
        "updated_at": customer.updated_at,
        "doc": customer_doc(customer),
    }


def _keys(customer: Customer) -> list[tuple[str, str]]:
    """What the customer is found by: phones (E.164), emails (case-folded) and postcodes."""
    found = {(PHONE, phone.number) for phone in customer._all_phones()}
    found |= {(EMAIL, email.key) for email in customer._all_emails()}
    found |= {(POSTCODE, key) for key in customer.postcode_keys}
    return sorted(found)


def _points(customer: Customer) -> list[dict[str, str]]:
    """The contact point rows; a merged-away record is found through its survivor only."""
    if customer.merged_into is not None:
        return []
    return [{"kind": kind, "value": value, "customer_id": customer.id} for kind, value in _keys(customer)]


async def add_customer(uow: UnitOfWork, customer: Customer) -> int:
    uow.insert(
        customers, {"id": customer.id, "created_at": customer.created_at, "version": 1, **_columns(customer)}
    )
    points = _points(customer)
    if points:
        uow.insert(contact_points, points)
    return 1


async def save_customer(uow: UnitOfWork, customer: Customer, *, stored_version: int) -> int:
    """Write the customer back if nobody saved it since it was loaded; its new stored version."""
    done = await uow.conn.execute(
        update(customers)
        .where(customers.c.id == customer.id, customers.c.version == stored_version)
        .values(version=stored_version + 1, **_columns(customer))
    )
    if done.rowcount != 1:
        raise Conflict(f"customer {customer.id} was changed concurrently", code="concurrent-update")
    await uow.conn.execute(delete(contact_points).where(contact_points.c.customer_id == customer.id))
    points = _points(customer)
    if points:
        await uow.conn.execute(contact_points.insert(), points)
    return stored_version + 1


async def load_customer(uow: UnitOfWork, customer_id: str, *, for_update: bool = True) -> StoredCustomer:
    query = select(customers.c.doc, customers.c.version).where(customers.c.id == customer_id)
    if for_update and uow.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await uow.conn.execute(query)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found", code="customer-not-found")
    return StoredCustomer(customer_of(row.doc), row.version)


async def find_customer(uow: UnitOfWork, customer_id: str) -> StoredCustomer | None:
    try:
        return await load_customer(uow, customer_id, for_update=False)
    except NotFound:
        return None


async def customers_by_ids(uow: UnitOfWork, ids: Iterable[str]) -> list[StoredCustomer]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(customers.c.doc, customers.c.version).where(customers.c.id.in_(wanted))
    return [StoredCustomer(customer_of(r.doc), r.version) for r in await uow.conn.execute(query)]


async def customer_ids_with(uow: UnitOfWork, kind: str, values: Iterable[str]) -> list[str]:
    """Active customers having one of ``values`` (already normalised) as a ``kind`` contact point."""
    wanted = sorted(set(values))
    if not wanted:
        return []
    query = (
        select(contact_points.c.customer_id)
        .where(contact_points.c.kind == kind, contact_points.c.value.in_(wanted))
        .distinct()
    )
    return sorted((await uow.conn.execute(query)).scalars().all())


async def duplicate_candidates(uow: UnitOfWork, customer: Customer) -> list[Customer]:
    """Other active customers sharing a phone, an email or a postcode with ``customer``."""
    keys = _keys(customer)
    if not keys:
        return []
    query = (
        select(contact_points.c.customer_id)
        .where(tuple_(contact_points.c.kind, contact_points.c.value).in_(keys))
        .where(contact_points.c.customer_id != customer.id)
        .distinct()
        .limit(200)
    )
    ids = (await uow.conn.execute(query)).scalars().all()
    return [found.customer for found in await customers_by_ids(uow, ids)]


async def search_customers(
    uow: UnitOfWork,
    *,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    company: str | None = None,
    dealer_id: str | None = None,
    include_merged: bool = False,
    after: Sequence[Any] | None = None,
    limit: int = 50,
) -> list[StoredCustomer]:
    """Customers matching every criterion given, by name; ``phone`` is E.164, ``email`` as written."""
    c = customers.c
    query = select(c.doc, c.version, c.name_key, c.id).order_by(c.name_key, c.id).limit(limit)
    if phone is not None:
        query = query.where(c.id.in_(_with_point(PHONE, phone)))
    if email is not None:
        query = query.where(c.id.in_(_with_point(EMAIL, email_key(email))))
    for word in name_key(name).split() if name else ():
        query = query.where(c.name_key.like(f"%{word}%"))
    for word in name_key(company).split() if company else ():
        query = query.where(c.company_key.like(f"%{word}%"))
    if dealer_id is not None:
        query = query.where(c.dealer_id == dealer_id)
    if not include_merged:
        query = query.where(c.merged_into.is_(None))
    if after:
        key, last_id = str(after[0]), str(after[1])
        query = query.where(after_row(c.name_key, c.id, (key, last_id), descending=False))
    return [StoredCustomer(customer_of(r.doc), r.version) for r in await uow.conn.execute(query)]


def _with_point(kind: str, value: str) -> Any:
    return select(contact_points.c.customer_id).where(
        contact_points.c.kind == kind, contact_points.c.value == value
    )


# --- contact history ---------------------------------------------------------------------------


async def add_contact(
    uow: UnitOfWork, entry: ContactHistoryEntry, *, ticket_id: str | None = None, fresh: bool = False
) -> bool:
    """Record one contact; False when the same source record is already on this customer's history.

    ``fresh`` says the source record was created in this transaction (a new ticket), so it cannot be
    there yet: one insert, no look-up.
    """
    if fresh:
        uow.insert(contact_history, _contact_row(entry, ticket_id))
        return True
    # the unique (customer, kind, reference) index keeps a replayed call, mail or fax to one entry
    return await insert_new(uow, contact_history, _contact_row(entry, ticket_id))


def _contact_row(entry: ContactHistoryEntry, ticket_id: str | None) -> dict[str, Any]:
    return {
        "id": entry.id,
        "customer_id": entry.customer_id,
        "kind": entry.kind.value,
        "direction": entry.direction.value,
        "occurred_at": entry.occurred_at,
        "summary": entry.summary,
        "actor_ref": entry.actor_ref,
        "reference": entry.reference,
        "ticket_id": ticket_id,
        "merged_from": entry.merged_from,
    }


@dataclass(frozen=True)
class StoredContact:
    entry: ContactHistoryEntry
    ticket_id: str | None


async def list_contacts(
    uow: UnitOfWork,
    customer_id: str,
    *,
    kind: str | None = None,
    before: Sequence[Any] | None = None,
    limit: int = 50,
) -> list[StoredContact]:
    """The customer's history, newest first."""
    h = contact_history.c
    query = (
        select(contact_history)
        .where(h.customer_id == customer_id)
        .order_by(h.occurred_at.desc(), h.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(h.kind == kind)
    if before:
        at, last_id = datetime.fromisoformat(str(before[0])), str(before[1])
        query = query.where(after_row(h.occurred_at, h.id, (at, last_id), descending=True))
    rows = (await uow.conn.execute(query)).mappings().all()
    return [
        StoredContact(
            ContactHistoryEntry(
                id=r["id"],
                customer_id=r["customer_id"],
                kind=ContactKind(r["kind"]),
                direction=ContactDirection(r["direction"]),
                occurred_at=r["occurred_at"],
                summary=r["summary"],
                actor_ref=r["actor_ref"],
                reference=r["reference"],
                merged_from=r["merged_from"],
            ),
            r["ticket_id"],
        )
        for r in rows
    ]


async def repoint_contacts(uow: UnitOfWork, *, absorbed_id: str, survivor_id: str) -> int:
    """Move the absorbed customer's history to the survivor (an entry both share stays once)."""
    h = contact_history.c
    survivor_refs = select(h.kind, h.reference).where(h.customer_id == survivor_id, h.reference.is_not(None))
    shared = [tuple(r) for r in await uow.conn.execute(survivor_refs)]
    if shared:
        await uow.conn.execute(
            delete(contact_history).where(
                h.customer_id == absorbed_id, tuple_(h.kind, h.reference).in_(shared)
            )
        )
    moved = await uow.conn.execute(
        update(contact_history)
        .where(h.customer_id == absorbed_id)
        .values(customer_id=survivor_id, merged_from=absorbed_id)
    )
    return moved.rowcount


# --- units (a local copy of warranty's registrations) ------------------------------------------------


async def keep_unit(uow: UnitOfWork, values: dict[str, Any]) -> bool:
    """Keep the newest copy of a registered unit; False when the one held is newer."""
    return await keep_newest(uow, customer_units, values, order_by="version", replace_equal=True)


async def move_unit(
    uow: UnitOfWork, serial_number: str, *, to_customer_id: str, version: int, at: datetime
) -> bool:
    u = customer_units.c
    done = await uow.conn.execute(
        update(customer_units)
        .where(u.serial_number == serial_number, u.version <= version)
        .values(customer_id=to_customer_id, version=version, updated_at=at)
    )
    return done.rowcount == 1


async def units_of(uow: UnitOfWork, customer_ids: Sequence[str], *, limit: int = 50) -> list[RowMapping]:
    u = customer_units.c
    query = (
        select(customer_units)
        .where(u.customer_id.in_(list(customer_ids)))
        .order_by(u.serial_number)
        .limit(limit)
    )
    return list((await uow.conn.execute(query)).mappings().all())


async def repoint_units(uow: UnitOfWork, *, absorbed_id: str, survivor_id: str) -> None:
    await uow.conn.execute(
        update(customer_units)
        .where(customer_units.c.customer_id == absorbed_id)
        .values(customer_id=survivor_id)
    )
