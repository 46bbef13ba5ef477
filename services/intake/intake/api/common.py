"""What every intake router shares: who may call, who the caller is in the domain, and the small
request/response models several routers use (dealer scoping lives in ``kit.dealers``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from intake.domain.common import Actor
from intake.domain.contact_points import Address, ServiceTier
from intake.domain.ticket_values import AttachmentRef, ProductRef, TimeWindow
from kit.auth import Principal, Role, require

# --- who may call ---------------------------------------------------------------------------------------

Staff = Annotated[Principal, Depends(require(Role.AGENT, Role.SUPERVISOR))]
"""Agents and supervisors: the people who own and move tickets."""

Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]

TicketCreator = Annotated[Principal, Depends(require(Role.AGENT, Role.SUPERVISOR, Role.DEALER, Role.PARTNER))]
"""Staff, and dealers/partners opening requests for their own customers (partner API)."""

TicketReader = Annotated[
    Principal,
    Depends(
        require(
            Role.AGENT,
            Role.SUPERVISOR,
            Role.DISPATCHER,
            Role.TECHNICIAN,
            Role.WARRANTY_REVIEWER,
            Role.DEALER,
            Role.PARTNER,
        )
    ),
]

CustomerReader = Annotated[
    Principal, Depends(require(Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER, Role.DEALER, Role.PARTNER))
]
CustomerWriter = Annotated[
    Principal, Depends(require(Role.AGENT, Role.SUPERVISOR, Role.DEALER, Role.PARTNER))
]

Id = Annotated[str, Field(min_length=1, max_length=64)]
ShortText = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=4000)]


def actor_of(principal: Principal) -> Actor:
    """The caller as the domain sees them: a dealer/partner acts as its dealer, staff as themselves."""
    if principal.is_partner:
        assert principal.dealer_id is not None
        return Actor.partner(principal.dealer_id)
    roles = sorted(role.value for role in principal.roles)
    return Actor.user(principal.subject, *roles, name=principal.name)


# --- shared models --------------------------------------------------------------------------------------


class AddressDto(BaseModel):
    """A postal address with the service region it lies in and that region's grade."""

    line1: Annotated[str, Field(min_length=1, max_length=200)]
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)]
    district: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(max_length=20)] | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
    region_code: Annotated[str, Field(max_length=40)] | None = None
    tier: ServiceTier | None = Field(default=None, description="The region's service grade A/B/C")
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None

    def domain(self) -> Address:
        return Address(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            district=self.district,
            postal_code=self.postal_code,
            country=self.country,
            region_code=self.region_code,
            tier=self.tier,
            latitude=self.latitude,
            longitude=self.longitude,
        )

    @classmethod
    def of(cls, address: Address | None) -> AddressDto | None:
        if address is None:
            return None
        return cls(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            district=address.district,
            postal_code=address.postal_code,
            country=address.country,
            region_code=address.region_code,
            tier=address.tier,
            latitude=address.latitude,
            longitude=address.longitude,
        )


class WindowDto(BaseModel):
    """A span ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def domain(self) -> TimeWindow:
        return TimeWindow(self.start, self.end)


class ProductDto(BaseModel):
    model_code: Annotated[str, Field(max_length=64)] | None = None
    serial_number: Annotated[str, Field(max_length=64)] | None = None
    product_line: Annotated[str, Field(max_length=40)] | None = None

    def domain(self) -> ProductRef:
        return ProductRef(
            model_code=self.model_code or None,
            serial_number=self.serial_number or None,
            product_line=self.product_line or None,
        )

    @classmethod
    def of(cls, product: ProductRef) -> ProductDto:
        return cls(
            model_code=product.model_code,
            serial_number=product.serial_number,
            product_line=product.product_line,
        )


class AttachmentDto(BaseModel):
    """A stored file the ticket refers to (the bytes live in the channel's store)."""

    attachment_id: Id
    kind: Annotated[str, Field(min_length=1, max_length=40)] = "document"
    filename: Annotated[str, Field(max_length=255)] | None = None
    content_type: Annotated[str, Field(max_length=100)] | None = None
    size_bytes: Annotated[int, Field(ge=0)] | None = None

    def domain(self) -> AttachmentRef:
        return AttachmentRef(
            attachment_id=self.attachment_id,
            kind=self.kind,
            filename=self.filename,
            content_type=self.content_type,
            size_bytes=self.size_bytes,
        )

    @classmethod
    def of(cls, attachment: AttachmentRef) -> AttachmentDto:
        return cls(
            attachment_id=attachment.attachment_id,
            kind=attachment.kind,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size_bytes=attachment.size_bytes,
        )
