"""The customer file: people and companies, how to reach them, their service tier.

The person who takes a call must see at once who is calling, which only works if each customer is one
record: phones and emails are normalised on the way in (see :mod:`contact_points`) so a caller or a
sender is found by equality, and duplicates are caught and merged (see :mod:`duplicates`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from intake.domain.common import Actor, Aggregate, DomainEvent, require_text, utc
from intake.domain.contact_points import Address, Email, Phone, PhoneKind, ServiceTier, email_key
from kit.domain import Conflict, DomainError

MAX_NAME_LENGTH = 200
MAX_CONTACT_POINTS = 20
DEFAULT_TIER = ServiceTier.C


class CustomerKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


@dataclass(frozen=True)
class ContactPerson:
    """Someone to talk to at a company customer (the facility manager, the site caretaker)."""

    name: str
    role: str | None = None
    phones: tuple[Phone, ...] = ()
    emails: tuple[Email, ...] = ()


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(DomainEvent):
    customer_id: str
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class CustomerChanged(DomainEvent):
    customer_id: str
    changed_fields: tuple[str, ...]
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class CustomersMerged(DomainEvent):
    customer_id: str
    merged_customer_ids: tuple[str, ...]
    actor: Actor


# --- the aggregate -----------------------------------------------------------------------------


@dataclass(kw_only=True)
class Customer(Aggregate):
    """A person or company in the customer file. The first phone, email and address are the primary ones."""

    id: str
    kind: CustomerKind
    name: str
    created_at: datetime
    updated_at: datetime
    company_name: str | None = None
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    contacts: list[ContactPerson] = field(default_factory=list)
    tier_override: ServiceTier | None = None
    preferred_language: str | None = None
    dealer_id: str | None = None
    merged_into: str | None = None
    merged_ids: list[str] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        kind: CustomerKind,
        name: str,
        at: datetime,
        actor: Actor,
        default_region: str,
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        addresses: Iterable[Address] = (),
        company_name: str | None = None,
        tier: ServiceTier | None = None,
        preferred_language: str | None = None,
        dealer_id: str | None = None,
        customer_id: str | None = None,
    ) -> Customer:
        """A new customer; phones and emails are normalised (``default_region`` for local numbers)."""
        at = utc(at, "at")
        customer = cls(
            id=customer_id or str(uuid.uuid4()),
            kind=kind,
            name=require_text(name, "name", max_length=MAX_NAME_LENGTH),
            created_at=at,
            updated_at=at,
            company_name=company_name.strip() or None if company_name else None,
            tier_override=tier,
            preferred_language=preferred_language,
            dealer_id=dealer_id,
        )
        for raw in phones:
            customer._add_phone(Phone.parse(raw, default_region=default_region))
        for raw in emails:
            customer._add_email(Email.parse(raw))
        for address in addresses:
            customer._add_address(address)
        customer._record(CustomerRegistered(at=at, customer_id=customer.id, actor=actor))
        return customer

    # --- derived facts --------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        return self.merged_into is None

    @property
    def tier(self) -> ServiceTier:
        """The contract tier when one is set, else the grade of the primary address's region."""
        if self.tier_override is not None:
            return self.tier_override
        if self.addresses and self.addresses[0].tier is not None:
            return self.addresses[0].tier
        return DEFAULT_TIER

    @property
    def region_code(self) -> str | None:
        return self.addresses[0].region_code if self.addresses else None

    @property
    def postcode_keys(self) -> set[str]:
        return {key for address in self.addresses if (key := address.postcode_key)}

    def has_phone(self, e164: str) -> bool:
        return any(phone.number == e164 for phone in self._all_phones())

    def has_email(self, address: str) -> bool:
        key = email_key(address)
        return any(email.key == key for email in self._all_emails())

    def _all_phones(self) -> list[Phone]:
        return [*self.phones, *(phone for contact in self.contacts for phone in contact.phones)]

    def _all_emails(self) -> list[Email]:
        return [*self.emails, *(email for contact in self.contacts for email in contact.emails)]

    # --- changes --------------------------------------------------------------------------------

    def add_phone(
        self,
        raw: str,
        *,
        default_region: str,
        at: datetime,
        actor: Actor,
        kind: PhoneKind | None = None,
        primary: bool = False,
    ) -> Phone:
        self._require_active()
        phone = Phone.parse(raw, default_region=default_region, kind=kind)
        if self._add_phone(phone, primary=primary):
            self._changed(("phones",), at, actor)
        return phone

    def remove_phone(self, e164: str, *, at: datetime, actor: Actor) -> None:
        self._require_active()
        kept = [phone for phone in self.phones if phone.number != e164]
        if len(kept) != len(self.phones):
            self.phones = kept
            self._changed(("phones",), at, actor)

    def add_email(self, raw: str, *, at: datetime, actor: Actor, primary: bool = False) -> Email:
        self._require_active()
        email = Email.parse(raw)
        if self._add_email(email, primary=primary):
            self._changed(("emails",), at, actor)
        return email

    def remove_email(self, address: str, *, at: datetime, actor: Actor) -> None:
        self._require_active()
        key = email_key(address)
        kept = [email for email in self.emails if email.key != key]
        if len(kept) != len(self.emails):
            self.emails = kept
            self._changed(("emails",), at, actor)

    def add_address(self, address: Address, *, at: datetime, actor: Actor, primary: bool = False) -> None:
        self._require_active()
        if self._add_address(address, primary=primary):
            self._changed(("addresses",), at, actor)

    def add_contact(self, contact: ContactPerson, *, at: datetime, actor: Actor) -> None:
        self._require_active()
        require_text(contact.name, "contact name", max_length=MAX_NAME_LENGTH)
        self.contacts.append(contact)
        self._changed(("contacts",), at, actor)

    def rename(self, name: str, *, at: datetime, actor: Actor, company_name: str | None = None) -> None:
        self._require_active()
        self.name = require_text(name, "name", max_length=MAX_NAME_LENGTH)
        changed = ["name"]
        if company_name is not None:
            self.company_name = company_name.strip() or None
            changed.append("company_name")
        self._changed(tuple(changed), at, actor)

    def set_tier(self, tier: ServiceTier | None, *, at: datetime, actor: Actor) -> None:
        """Set (or with None, clear) the contract tier that overrides the region's grade."""
        self._require_active()
        if tier != self.tier_override:
            self.tier_override = tier
            self._changed(("tier",), at, actor)

    def _add_phone(self, phone: Phone, *, primary: bool = False) -> bool:
        if any(existing.number == phone.number for existing in self.phones):
            return False
        self._room_for(self.phones, "phones")
        if primary:
            self.phones.insert(0, phone)
        else:
            self.phones.append(phone)
        return True

    def _add_email(self, email: Email, *, primary: bool = False) -> bool:
        if any(existing.key == email.key for existing in self.emails):
            return False
        self._room_for(self.emails, "emails")
        if primary:
            self.emails.insert(0, email)
        else:
            self.emails.append(email)
        return True

    def _add_address(self, address: Address, *, primary: bool = False) -> bool:
        if any(existing.same_place(address) for existing in self.addresses):
            return False
        self._room_for(self.addresses, "addresses")
        if primary:
            self.addresses.insert(0, address)
        else:
            self.addresses.append(address)
        return True

    @staticmethod
    def _room_for(items: list[Phone] | list[Email] | list[Address], what: str) -> None:
        if len(items) >= MAX_CONTACT_POINTS:
            raise DomainError(f"a customer has at most {MAX_CONTACT_POINTS} {what}", code="too-many")

    def _require_active(self) -> None:
        if self.merged_into is not None:
            raise Conflict(
                f"customer {self.id} was merged into {self.merged_into}",
                code="customer-merged",
                merged_into=self.merged_into,
            )

    def _changed(self, fields: tuple[str, ...], at: datetime, actor: Actor) -> None:
        self.updated_at = utc(at, "at")
        self._bump()
        self._record(
            CustomerChanged(at=self.updated_at, customer_id=self.id, changed_fields=fields, actor=actor)
        )
