"""Registered units, their owners, service contracts, and the dealer's 20-day registration rule."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from kit.domain import Conflict, DomainError
from warranty.domain.dates import add_months, last_day_within_days, require_utc

REGISTRATION_DAYS = 20


@dataclass(frozen=True)
class Ownership:
    """One owner of a unit, from a date until the next owner's date."""

    customer_id: str
    from_date: date
    recorded_at: datetime
    recorded_by: str
    reason: str = ""


@dataclass(frozen=True)
class UnitRegistered:
    serial: str
    model_code: str
    customer_id: str
    dealer_id: str
    sold_on: date
    installed_on: date | None
    installer_id: str | None
    at: datetime
    actor: str


@dataclass(frozen=True)
class UnitInstallationRecorded:
    serial: str
    installed_on: date
    accepted_on: date | None
    installer_id: str | None
    at: datetime
    actor: str


@dataclass(frozen=True)
class RegistrationCardReceived:
    serial: str
    dealer_id: str
    received_on: date
    on_time: bool
    at: datetime
    actor: str


@dataclass(frozen=True)
class UnitOwnershipTransferred:
    serial: str
    from_customer_id: str
    to_customer_id: str
    transferred_on: date
    at: datetime
    actor: str


UnitEvent = UnitRegistered | UnitInstallationRecorded | RegistrationCardReceived | UnitOwnershipTransferred


@dataclass(eq=False)
class RegisteredUnit:
    """A sold unit the warranty knows by serial number. Create it with :meth:`register`.

    The warranty follows the unit, not the owner: a transfer of ownership keeps the dates and
    the policy and only records who owns it from when.
    """

    serial: str
    model_code: str
    dealer_id: str
    sold_on: date
    owners: list[Ownership]
    installed_on: date | None = None
    #: the customer's acceptance of the installation (commissioning), when recorded
    accepted_on: date | None = None
    installer_id: str | None = None
    #: the day the dealer's registration card (unit + customer details) reached the manufacturer
    card_received_on: date | None = None
    #: False for a unit first known from its installation: ``sold_on`` stands in with the
    #: installation date until the dealer's card states the sale date
    sale_date_known: bool = True
    events: list[UnitEvent] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        serial: str,
        model_code: str,
        customer_id: str,
        dealer_id: str,
        sold_on: date,
        at: datetime,
        actor: str,
        installed_on: date | None = None,
        accepted_on: date | None = None,
        installer_id: str | None = None,
        card_received_on: date | None = None,
    ) -> RegisteredUnit:
        at = require_utc(at)
        if not serial.strip():
            raise DomainError("a unit needs a serial number", code="serial-required")
        _check_acceptance(installed_on, accepted_on, recorded_at=at)
        if card_received_on is not None:
            _check_card_date(card_received_on, sold_on=sold_on, recorded_at=at)
        unit = cls(
            serial=serial,
            model_code=model_code,
            dealer_id=dealer_id,
            sold_on=sold_on,
            owners=[Ownership(customer_id, sold_on, at, actor, "first sale")],
            installed_on=installed_on,
            accepted_on=accepted_on,
            installer_id=installer_id,
            card_received_on=card_received_on,
        )
        unit.events.append(
            UnitRegistered(
                serial, model_code, customer_id, dealer_id, sold_on, installed_on, installer_id, at, actor
            )
        )
        return unit

    @classmethod
    def register_from_installation(
        cls,
        *,
        serial: str,
        model_code: str,
        customer_id: str,
        dealer_id: str,
        installed_on: date,
        installer_id: str | None,
        at: datetime,
        actor: str,
    ) -> RegisteredUnit:
        """A unit first known from its completed installation, before the dealer's card arrived.

        The sale date is not known yet; the installation date stands in for it (the warranty
        starts at the installation anyway) until the card states it, and no card is on record,
        so the dealer's 20-day rule is still open.
        """
        unit = cls.register(
            serial=serial,
            model_code=model_code,
            customer_id=customer_id,
            dealer_id=dealer_id,
            sold_on=installed_on,
            at=at,
            actor=actor,
            installed_on=installed_on,
            installer_id=installer_id,
        )
        unit.sale_date_known = False
        return unit

    @property
    def customer_id(self) -> str:
        """The current owner."""
        return self.owners[-1].customer_id

    def recorded_facts(self) -> dict[str, object]:
        """What is on record about the unit, by name, to tell which facts a change changed."""
        return {
            "model_code": self.model_code,
            "dealer_id": self.dealer_id,
            "customer_id": self.customer_id,
            "owners": tuple((o.customer_id, o.from_date) for o in self.owners),
            "sale_date": self.sold_on,
            "sale_date_known": self.sale_date_known,
            "installation_date": self.installed_on,
            "acceptance_date": self.accepted_on,
            "installer_id": self.installer_id,
            "registration_card_received_on": self.card_received_on,
        }

    def owner_on(self, on: date) -> str | None:
        """Who owned the unit on ``on`` (None before the sale)."""
        owner: str | None = None
        for ownership in self.owners:
            if ownership.from_date <= on:
                owner = ownership.customer_id
        return owner

    def record_installation(
        self,
        *,
        installed_on: date,
        at: datetime,
        actor: str,
        installer_id: str | None = None,
        accepted_on: date | None = None,
    ) -> None:
        """Record (or correct) the installation, which starts the warranty where the policy says so."""
        at = require_utc(at)
        _check_acceptance(installed_on, accepted_on, recorded_at=at)
        self.installed_on = installed_on
        self.accepted_on = accepted_on
        self.installer_id = installer_id or self.installer_id
        self.events.append(
            UnitInstallationRecorded(self.serial, installed_on, accepted_on, self.installer_id, at, actor)
        )

    def record_completed_installation(
        self, *, installed_on: date, installer_id: str | None, at: datetime, actor: str
    ) -> bool:
        """Record an installation reported by a completed installation job; True if it changed the unit.

        The first installation starts the warranty: a later installation job (the unit moved or
        was reinstalled) does not restart it, and an earlier one reported late replaces it.
        """
        if self.installed_on is not None and self.installed_on <= installed_on:
            return False
        accepted_on = self.accepted_on
        self.record_installation(
            installed_on=installed_on, at=at, actor=actor, installer_id=installer_id, accepted_on=accepted_on
        )
        return True

    def record_registration_card(
        self,
        *,
        received_on: date,
        at: datetime,
        actor: str,
        within_days: int = REGISTRATION_DAYS,
        sold_on: date | None = None,
    ) -> None:
        """Record the day the dealer's registration card arrived (the first arrival counts).

        ``sold_on`` is the sale date the card states. It completes a unit first known from its
        installation; a unit whose sale date is already on record keeps it.
        """
        at = require_utc(at)
        stated = sold_on if sold_on is not None else self.sold_on
        if stated != self.sold_on:
            if self.sale_date_known:
                raise Conflict(
                    f"unit {self.serial} was sold on {self.sold_on.isoformat()}; the card cannot change that",
                    code="sale-date-known",
                )
            if self.installed_on is not None and stated > self.installed_on:
                raise DomainError("the sale cannot follow the installation", code="sale-after-installation")
            if len(self.owners) > 1 and self.owners[1].from_date < stated:
                raise DomainError("the sale cannot follow a change of owner", code="sale-after-transfer")
        _check_card_date(received_on, sold_on=stated, recorded_at=at)
        if stated != self.sold_on:
            self.sold_on = stated
            self.owners[0] = replace(self.owners[0], from_date=stated)
        if sold_on is not None:
            self.sale_date_known = True
        if self.card_received_on is not None and self.card_received_on <= received_on:
            return
        self.card_received_on = received_on
        self.events.append(
            RegistrationCardReceived(
                self.serial,
                self.dealer_id,
                received_on,
                registered_on_time(self, within_days=within_days),
                at,
                actor,
            )
        )

    def transfer_to(
        self, customer_id: str, *, transferred_on: date, at: datetime, actor: str, reason: str = ""
    ) -> None:
        """Record a new owner from ``transferred_on``; the warranty stays with the unit."""
        at = require_utc(at)
        current = self.owners[-1]
        if customer_id == current.customer_id:
            raise Conflict(f"unit {self.serial} already belongs to customer {customer_id}", code="same-owner")
        if transferred_on < current.from_date:
            raise DomainError(
                f"a transfer cannot predate the current ownership (from {current.from_date.isoformat()})",
                code="transfer-before-ownership",
            )
        self.owners.append(Ownership(customer_id, transferred_on, at, actor, reason))
        self.events.append(
            UnitOwnershipTransferred(self.serial, current.customer_id, customer_id, transferred_on, at, actor)
        )

    def pull_events(self) -> list[UnitEvent]:
        """The events raised since the last call, for the store to write to the outbox."""
        events, self.events = self.events, []
        return events


def _check_card_date(received_on: date, *, sold_on: date, recorded_at: datetime) -> None:
    if received_on < sold_on:
        raise DomainError("a registration card cannot arrive before the sale", code="card-before-sale")
    if received_on > recorded_at.date():
        raise DomainError(
            "a registration card cannot be recorded before it arrives", code="card-in-the-future"
        )


def _check_acceptance(installed_on: date | None, accepted_on: date | None, *, recorded_at: datetime) -> None:
    if accepted_on is not None and (installed_on is None or accepted_on < installed_on):
        raise DomainError(
            "acceptance is recorded on or after the installation", code="acceptance-before-installation"
        )
    if max(installed_on or date.min, accepted_on or date.min) > recorded_at.date():
        raise DomainError(
            "an installation or acceptance cannot be recorded before it happens",
            code="installation-in-the-future",
        )


class RegistrationStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    #: no card yet, but the deadline has not passed
    PENDING = "pending"
    #: no card and the deadline has passed (or no date to judge it by was given)
    MISSING = "missing"


def registration_deadline(unit: RegisteredUnit, *, within_days: int = REGISTRATION_DAYS) -> date:
    """The last day the dealer's card counts as on time: the sale date + 20 days (day 20 is on time)."""
    return last_day_within_days(unit.sold_on, within_days)


def registration_status(
    unit: RegisteredUnit, *, within_days: int = REGISTRATION_DAYS, today: date | None = None
) -> RegistrationStatus:
    """Whether the dealer returned the registration card within ``within_days`` days of the sale."""
    deadline = registration_deadline(unit, within_days=within_days)
    if unit.card_received_on is None:
        return (
            RegistrationStatus.PENDING
            if today is not None and today <= deadline
            else RegistrationStatus.MISSING
        )
    return RegistrationStatus.ON_TIME if unit.card_received_on <= deadline else RegistrationStatus.LATE


def registered_on_time(unit: RegisteredUnit, *, within_days: int = REGISTRATION_DAYS) -> bool:
    """The 20-day rule: the card arrived no later than day 20 after the sale (day 21 is late)."""
    return registration_status(unit, within_days=within_days) is RegistrationStatus.ON_TIME


class ContractTier(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"


@dataclass(frozen=True)
class ServiceContract:
    """A paid contract that covers repairs of one unit over a period (both ends inclusive)."""

    contract_id: str
    serial: str
    tier: ContractTier
    starts_on: date
    ends_on: date
    covers_parts: bool = True
    covers_labour: bool = True
    covers_travel: bool = True

    def __post_init__(self) -> None:
        if self.ends_on < self.starts_on:
            raise DomainError("a contract cannot end before it starts", code="bad-contract-period")

    @classmethod
    def for_months(
        cls,
        *,
        contract_id: str,
        serial: str,
        tier: ContractTier,
        starts_on: date,
        months: int,
        covers_parts: bool = True,
        covers_labour: bool = True,
        covers_travel: bool = True,
    ) -> ServiceContract:
        """A contract of whole months: 12 months from 1 January run to 31 December."""
        if months < 1:
            raise DomainError("a contract runs at least one month", code="bad-contract-period")
        return cls(
            contract_id,
            serial,
            tier,
            starts_on,
            add_months(starts_on, months) - timedelta(days=1),
            covers_parts,
            covers_labour,
            covers_travel,
        )

    def active_on(self, on: date) -> bool:
        return self.starts_on <= on <= self.ends_on
