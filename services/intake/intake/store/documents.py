"""Aggregates to and from the JSON document kept in their row (``doc``).

The dataclasses of the domain are read and written by pydantic, field by field; the events an
aggregate raised belong to the transaction that raised them and are never stored. A field added to
an aggregate later needs a default, so documents written before it still load.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from intake.domain.customers import Customer
from intake.domain.tickets import Ticket

_TICKET = TypeAdapter(Ticket)
_CUSTOMER = TypeAdapter(Customer)
_NOT_STORED = {"events"}


def ticket_doc(ticket: Ticket) -> dict[str, Any]:
    doc: dict[str, Any] = _TICKET.dump_python(ticket, mode="json", exclude=_NOT_STORED)
    return doc


def ticket_of(doc: dict[str, Any]) -> Ticket:
    return _TICKET.validate_python(doc)


def customer_doc(customer: Customer) -> dict[str, Any]:
    doc: dict[str, Any] = _CUSTOMER.dump_python(customer, mode="json", exclude=_NOT_STORED)
    return doc


def customer_of(doc: dict[str, Any]) -> Customer:
    return _CUSTOMER.validate_python(doc)
