"""Small value types shared by the payloads of several services.

Everything here is part of the released contracts: a field added must be optional, a bound may only
widen, an enum may only grow (see :mod:`contracts.compat`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, Protocol

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)


class ContractModel(BaseModel):
    """Base of the nested value objects inside payloads: immutable, tolerant of unknown fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# --- scalar conventions ------------------------------------------------------------------------

Id = Annotated[str, Field(min_length=1, max_length=64)]
"""An entity id (UUID or a service's own key), always a string."""

Code = Annotated[str, Field(min_length=1, max_length=40)]
"""A machine-readable code: fault codes, reason codes, skill codes, policy ids."""

Name = Annotated[str, Field(min_length=1, max_length=200)]
ShortText = Annotated[str, Field(max_length=500)]
LongText = Annotated[str, Field(max_length=4000)]

SerialNumber = Annotated[str, Field(min_length=1, max_length=64)]
ModelCode = Annotated[str, Field(min_length=1, max_length=64)]
PartNumber = Annotated[str, Field(min_length=1, max_length=64)]

PhoneNumber = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{1,14}$", description="E.164, e.g. +4930123456")]
RawPhoneNumber = Annotated[
    str,
    Field(min_length=1, max_length=40, description="As the network presented it; may be an extension"),
]
EmailAddress = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
RegionCode = Annotated[str, Field(min_length=1, max_length=40)]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware instant, normalised to UTC. Naive datetimes are refused."""


# --- money -------------------------------------------------------------------------------------

DECIMAL_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def _decimal_from_input(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("money is a decimal string, never a float")
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    return value


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


def _decimal_in_bounds(value: Decimal) -> Decimal:
    if not value.is_finite() or not _DECIMAL_RE.match(_decimal_text(value)):
        raise ValueError("at most 15 integer digits and 4 decimal places")
    return value


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_input),
    AfterValidator(_decimal_in_bounds),
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["129.90"]}),
]
"""A Decimal that travels as a plain decimal string ("129.90"), never as a JSON number."""


class _MoneyLike(Protocol):
    @property
    def amount(self) -> Decimal: ...

    @property
    def currency(self) -> str: ...


class MoneyAmount(ContractModel):
    """An amount of money: a decimal string and an ISO 4217 currency."""

    amount: DecimalString
    currency: CurrencyCode

    @classmethod
    def of(cls, money: _MoneyLike) -> MoneyAmount:
        """From a ``kit.domain.Money`` (or anything with ``amount`` and ``currency``)."""
        return cls(amount=money.amount, currency=money.currency)


# --- enumerations shared across services ------------------------------------------------------

ServiceTier = Literal["A", "B", "C"]
"""Customer service tier / region grade: A is premium (2 h on site), C the most relaxed."""

Priority = Literal["low", "normal", "high", "urgent"]

Channel = Literal["phone", "email", "fax", "web", "mobile", "api", "partner", "survey"]

TicketType = Literal["repair", "installation", "consultation", "complaint", "return_exchange", "maintenance"]

WorkOrderType = Literal["installation", "repair", "preventive_maintenance", "inspection", "remote_support"]

Billing = Literal["warranty", "contract", "customer", "goodwill", "undetermined"]
"""Who pays for the work: the warranty, a service contract, the customer, or the company as goodwill."""

FaultCause = Literal[
    "product_defect", "installation", "misuse", "supplier_part", "environment", "wear", "no_fault_found"
]

LocationKind = Literal["central", "regional", "service_point", "van"]


# --- small shared models -----------------------------------------------------------------------


class Actor(ContractModel):
    """Who did something: a person (by role), the system itself, a partner, or the customer."""

    kind: Literal["user", "system", "partner", "customer"]
    id: Id | None = None
    role: Code | None = Field(default=None, description="e.g. agent, supervisor, dispatcher, technician")
    name: Name | None = None


class GeoPoint(ContractModel):
    """A WGS 84 position."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class Address(ContractModel):
    """A postal address, with the service region it falls in and its position when known."""

    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    district: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    country: CountryCode
    region_code: RegionCode | None = Field(default=None, description="The service region covering it")
    location: GeoPoint | None = None


class PhoneContact(ContractModel):
    number: PhoneNumber
    kind: Literal["mobile", "landline", "work", "fax", "other"] = "other"
    primary: bool = False


class EmailContact(ContractModel):
    address: EmailAddress
    primary: bool = False


class TimeWindow(ContractModel):
    """A span of time [start, end), e.g. when the customer is available or an appointment."""

    start: UtcDateTime
    end: UtcDateTime

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("a time window ends after it starts")
        return self


class ProductRef(ContractModel):
    """The unit a request or job is about, as far as it is known."""

    serial_number: SerialNumber | None = None
    model_code: ModelCode | None = None
    product_line: Code | None = None


class PartLine(ContractModel):
    """A quantity of one part (catalogue number)."""

    part_number: PartNumber
    quantity: int = Field(ge=1, le=10_000)
    description: Annotated[str, Field(max_length=200)] | None = None


class AttachmentRef(ContractModel):
    """A reference to a stored file (signature, photo, document); the file itself never travels."""

    attachment_id: Id
    kind: Literal["signature", "photo", "document", "audio", "fax_image", "email_message", "other"]
    content_type: Annotated[str, Field(max_length=100)] | None = None
    size_bytes: int | None = Field(default=None, ge=0)
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    uri: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="Where the owning service serves it (an API path or storage URI)"
    )
    taken_at: UtcDateTime | None = None


class Reason(ContractModel):
    """A machine-readable code with words a person can read out."""

    code: Code
    message: ShortText
