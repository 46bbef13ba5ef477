"""The history of every contact with a customer: calls, emails, faxes, tickets, follow-up calls, letters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from intake.domain.common import Actor, require_text, utc
from intake.domain.duplicates import MergeOutcome


class ContactKind(StrEnum):
    CALL = "call"
    EMAIL = "email"
    FAX = "fax"
    TICKET = "ticket"
    FOLLOW_UP_CALL = "follow_up_call"
    LETTER = "letter"


class ContactDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


MAX_SUMMARY_LENGTH = 500


@dataclass(frozen=True)
class ContactHistoryEntry:
    """One contact with the customer: a call, an email, a fax, a ticket, a follow-up call, a letter.

    ``reference`` names the record it came from (call id, Message-ID, fax id, ticket number,
    survey invitation). After a merge the entry belongs to the survivor and ``merged_from`` keeps
    the customer it was first recorded for.
    """

    id: str
    customer_id: str
    kind: ContactKind
    direction: ContactDirection
    occurred_at: datetime
    summary: str
    actor_ref: str
    reference: str | None = None
    merged_from: str | None = None

    @classmethod
    def record(
        cls,
        *,
        customer_id: str,
        kind: ContactKind,
        direction: ContactDirection,
        occurred_at: datetime,
        summary: str,
        actor: Actor,
        reference: str | None = None,
        entry_id: str | None = None,
    ) -> ContactHistoryEntry:
        return cls(
            id=entry_id or str(uuid.uuid4()),
            customer_id=customer_id,
            kind=kind,
            direction=direction,
            occurred_at=utc(occurred_at, "occurred_at"),
            summary=require_text(summary, "summary", max_length=MAX_SUMMARY_LENGTH),
            actor_ref=actor.ref,
            reference=reference,
        )

    def repointed_to(self, outcome: MergeOutcome) -> ContactHistoryEntry:
        """This entry after ``outcome``: moved to the survivor if it belonged to the absorbed record."""
        if self.customer_id != outcome.absorbed_id:
            return self
        return replace(
            self, customer_id=outcome.survivor_id, merged_from=self.merged_from or self.customer_id
        )
