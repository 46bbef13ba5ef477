"""How a customer is reached: phone numbers in E.164, email addresses, postal addresses.

Values are normalised once, when they enter the customer file, so that matching a caller, a sender
or a duplicate is a plain equality on the normalised form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from kit.domain import DomainError

MAX_RAW_PHONE_LENGTH = 40
MAX_EMAIL_LENGTH = 254


class ServiceTier(StrEnum):
    """The service level of a customer or region grade: A is premium, C the most relaxed."""

    A = "A"
    B = "B"
    C = "C"

    def better_of(self, other: ServiceTier) -> ServiceTier:
        return min(self, other, key=lambda tier: tier.value)


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    WORK = "work"
    FAX = "fax"
    OTHER = "other"


_KIND_BY_NUMBER_TYPE = {
    phonenumbers.PhoneNumberType.MOBILE: PhoneKind.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE: PhoneKind.LANDLINE,
}


def _parse_phone(raw: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    text = raw.strip()
    if not text or len(text) > MAX_RAW_PHONE_LENGTH:
        return None
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def try_normalise_phone(raw: str | None, *, default_region: str) -> str | None:
    """``raw`` in E.164 (``+4930123456``), or None for an extension, "anonymous" or garbage.

    A number written without a country code is read as a number of ``default_region`` (ISO
    3166-1 alpha-2), so ``030 123456`` becomes ``+4930123456`` for ``DE``.
    """
    if raw is None:
        return None
    number = _parse_phone(raw, default_region)
    return None if number is None else phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(raw: str, *, default_region: str) -> str:
    """``raw`` in E.164, or :class:`DomainError` (``invalid-phone``) when it is not a valid number."""
    normalised = try_normalise_phone(raw, default_region=default_region)
    if normalised is None:
        raise DomainError(f"not a valid phone number for region {default_region}", code="invalid-phone")
    return normalised


@dataclass(frozen=True)
class Phone:
    """A phone number of the customer file, always E.164."""

    number: str
    kind: PhoneKind = PhoneKind.OTHER

    @classmethod
    def parse(cls, raw: str, *, default_region: str, kind: PhoneKind | None = None) -> Phone:
        """Normalise ``raw``; without a ``kind``, a mobile or landline number is recognised as such."""
        number = _parse_phone(raw, default_region)
        if number is None:
            raise DomainError(f"not a valid phone number for region {default_region}", code="invalid-phone")
        detected = _KIND_BY_NUMBER_TYPE.get(phonenumbers.number_type(number), PhoneKind.OTHER)
        return cls(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind or detected)


_EMAIL_FORBIDDEN = re.compile(r"[\s<>(),;:\"\[\]\\]")


def normalise_email(raw: str) -> str:
    """``raw`` trimmed (angle brackets too) with its domain case-folded; the local part keeps its case.

    Refused (``invalid-email``) unless it is one ``local@domain`` with a dotted domain and no
    spaces or special characters.
    """
    text = raw.strip().removeprefix("<").removesuffix(">").strip()
    if len(text) > MAX_EMAIL_LENGTH or text.count("@") != 1:
        raise DomainError("not a valid email address", code="invalid-email")
    local, domain = text.split("@")
    domain = domain.rstrip(".").casefold()
    labels = domain.split(".")
    if (
        not local
        or _EMAIL_FORBIDDEN.search(text)
        or len(labels) < 2
        or any(not label or label.startswith("-") or label.endswith("-") for label in labels)
    ):
        raise DomainError("not a valid email address", code="invalid-email")
    return f"{local}@{domain}"


def email_key(address: str) -> str:
    """The form two addresses are compared in: mail systems treat the local part case-blind too."""
    return address.casefold()


@dataclass(frozen=True)
class Email:
    address: str

    @classmethod
    def parse(cls, raw: str) -> Email:
        return cls(normalise_email(raw))

    @property
    def key(self) -> str:
        return email_key(self.address)


def postcode_key(postcode: str | None) -> str | None:
    """Postcodes compared without spaces, dashes or case: ``sw1a 1aa`` equals ``SW1A1AA``."""
    if postcode is None:
        return None
    key = re.sub(r"[^0-9A-Za-z]", "", postcode).upper()
    return key or None


@dataclass(frozen=True)
class Address:
    """A postal address, with the service region it lies in and that region's grade (A/B/C)."""

    line1: str
    city: str
    country: str
    postal_code: str | None = None
    line2: str | None = None
    district: str | None = None
    region_code: str | None = None
    tier: ServiceTier | None = None
    latitude: float | None = None
    longitude: float | None = None

    def __post_init__(self) -> None:
        if not self.line1.strip() or not self.city.strip():
            raise DomainError("an address needs a street line and a city", code="invalid-address")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise DomainError("country must be an ISO 3166-1 alpha-2 code", code="invalid-address")
        if (self.latitude is None) != (self.longitude is None):
            raise DomainError("a position needs both latitude and longitude", code="invalid-address")

    @property
    def postcode_key(self) -> str | None:
        return postcode_key(self.postal_code)

    def same_place(self, other: Address) -> bool:
        """The same street, postcode and country, written the same way or not."""
        return (
            self.country == other.country
            and self.postcode_key == other.postcode_key
            and _fold(self.line1) == _fold(other.line1)
        )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())
