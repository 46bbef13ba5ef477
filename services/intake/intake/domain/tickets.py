"""The ticket: one customer request from first contact to closing, with every step on its timeline.

Rules kept here:
- The state machine (``TICKET_MACHINE``): new → acknowledged → in progress ⇄ waiting (customer,
  parts, third party) → resolved → closed, with reopen, merge and cancel. Every action outside it
  is refused with :class:`IllegalTransition` naming the actions that are allowed.
- First-contact ownership: the first member of staff who takes the ticket owns it until it is
  closed. Others may add notes and watch; only the owner or a supervisor moves it on; only a
  supervisor reassigns it, with a reason, and that is on the timeline.
- Internal notes never reach the customer; replies do, and the first one is the first response.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from intake.domain.common import Actor, ActorKind, Aggregate, require_text, utc
from intake.domain.contact_points import Address, ServiceTier
from intake.domain.ticket_events import (
    CustomerResponded,
    TicketAcknowledged,
    TicketCancelled,
    TicketClosed,
    TicketEvent,
    TicketFirstResponse,
    TicketLinked,
    TicketMerged,
    TicketOpened,
    TicketOwnerChanged,
    TicketReopened,
    TicketReplied,
    TicketResolved,
    TicketStatusChanged,
    TicketUpdated,
)
from intake.domain.ticket_values import (
    FINISHED,
    OPEN,
    TICKET_NUMBER_PATTERN,
    WAITING,
    AckMethod,
    AttachmentRef,
    CancelReason,
    Channel,
    CloseReason,
    LinkKind,
    Note,
    NoteVisibility,
    Priority,
    ProductRef,
    Resolution,
    TicketLink,
    TicketStatus,
    TicketType,
    TimelineEntry,
    TimeWindow,
)
from kit.domain import Conflict, DomainError, Forbidden, IllegalTransition, StateMachine

S = TicketStatus

TICKET_MACHINE: StateMachine[TicketStatus] = StateMachine(
    "ticket",
    {
        "acknowledge": (frozenset({S.NEW}), S.ACKNOWLEDGED),
        "start_work": (frozenset({S.ACKNOWLEDGED}), S.IN_PROGRESS),
        "wait_for_customer": (
            frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}) | WAITING - {S.WAITING_CUSTOMER},
            S.WAITING_CUSTOMER,
        ),
        "wait_for_parts": (
            frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}) | WAITING - {S.WAITING_PARTS},
            S.WAITING_PARTS,
        ),
        "wait_for_third_party": (
            frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS}) | WAITING - {S.WAITING_THIRD_PARTY},
            S.WAITING_THIRD_PARTY,
        ),
        "resume": (WAITING, S.IN_PROGRESS),
        "resolve": (OPEN - {S.NEW}, S.RESOLVED),
        "close": (frozenset({S.RESOLVED}), S.CLOSED),
        "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.IN_PROGRESS),
        "cancel": (OPEN, S.CANCELLED),
        "merge": (OPEN, S.MERGED),
    },
)

# Actions that change the ticket without moving its state, and the states that allow them.
EDIT_ACTIONS: dict[str, frozenset[TicketStatus]] = {
    "take": OPEN,
    "reply": OPEN | {S.RESOLVED},
    "update": OPEN,
    "attach": OPEN | {S.RESOLVED},
    "reassign": OPEN | {S.RESOLVED},
    "record_customer_message": OPEN | {S.RESOLVED},
    "add_note": frozenset(TicketStatus),
    "watch": frozenset(TicketStatus),
    "link": frozenset(TicketStatus),
    "record_activity": frozenset(TicketStatus),
}

MAX_TEXT = 4000
MAX_SUBJECT = 300
MAX_REASON = 500
MAX_ATTACHMENTS = 50
MAX_WINDOWS = 20


@dataclass(kw_only=True)
class Ticket(Aggregate):
    id: str
    number: str
    channel: Channel
    type: TicketType
    priority: Priority
    customer_id: str
    opened_at: datetime
    opened_by: Actor
    status: TicketStatus = TicketStatus.NEW
    customer_tier: ServiceTier | None = None
    product: ProductRef = field(default_factory=ProductRef)
    purchase_date: date | None = None
    subject: str | None = None
    fault_description: str | None = None
    site_address: Address | None = None
    needs_on_site: bool = False
    preferred_windows: list[TimeWindow] = field(default_factory=list)
    contact_name: str | None = None
    contact_phone: str | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)
    owner_id: str | None = None
    watchers: set[str] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    links: list[TicketLink] = field(default_factory=list)
    source_reference: str | None = None
    external_refs: set[str] = field(default_factory=set)
    dealer_id: str | None = None
    acknowledged_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: Resolution | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    merged_into: str | None = None

    # --- opening --------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        number: str,
        channel: Channel,
        type: TicketType,
        customer_id: str,
        at: datetime,
        actor: Actor,
        priority: Priority = Priority.NORMAL,
        customer_tier: ServiceTier | None = None,
        product: ProductRef | None = None,
        purchase_date: date | None = None,
        subject: str | None = None,
        fault_description: str | None = None,
        site_address: Address | None = None,
        needs_on_site: bool = False,
        preferred_windows: Iterable[TimeWindow] = (),
        contact_name: str | None = None,
        contact_phone: str | None = None,
        attachments: Iterable[AttachmentRef] = (),
        source_reference: str | None = None,
        dealer_id: str | None = None,
        ticket_id: str | None = None,
    ) -> Ticket:
        """A new ticket. A member of staff who opens it owns it; one who opens it while on the phone
        with the customer has acknowledged it and given the first response in the same breath."""
        if not TICKET_NUMBER_PATTERN.fullmatch(number):
            raise DomainError(f"not a ticket number: {number!r}", code="bad-number")
        at = utc(at, "at")
        ticket = cls(
            id=ticket_id or str(uuid.uuid4()),
            number=number,
            channel=channel,
            type=type,
            priority=priority,
            customer_id=require_text(customer_id, "customer_id", max_length=64),
            opened_at=at,
            opened_by=actor,
            customer_tier=customer_tier,
            product=product or ProductRef(),
            purchase_date=purchase_date,
            subject=_optional_text(subject, "subject", MAX_SUBJECT),
            fault_description=_optional_text(fault_description, "fault_description", MAX_TEXT),
            site_address=site_address,
            needs_on_site=needs_on_site,
            preferred_windows=_windows(preferred_windows),
            contact_name=contact_name,
            contact_phone=contact_phone,
            attachments=list(attachments)[: MAX_ATTACHMENTS + 1],
            source_reference=source_reference,
            dealer_id=dealer_id,
        )
        if len(ticket.attachments) > MAX_ATTACHMENTS:
            raise DomainError(f"a ticket has at most {MAX_ATTACHMENTS} attachments", code="too-many")
        ticket._log(at, actor, "opened", f"{channel.value} {type.value}, priority {priority.value}")
        ticket._record(TicketOpened(at=at, ticket_id=ticket.id, actor=actor))
        if actor.is_person:
            ticket._set_owner(actor.id, at, actor, "first contact")
            if channel is Channel.PHONE:
                ticket._transition("acknowledge", actor, at)
                ticket._acknowledge(at, actor, AckMethod.PHONE)
                ticket._first_response(at, actor)
        return ticket

    # --- reading --------------------------------------------------------------------------------

    @property
    def region_code(self) -> str | None:
        return self.site_address.region_code if self.site_address else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def allowed_actions(self) -> list[str]:
        """Every action the ticket's state allows now (state changes and edits)."""
        edits = [action for action, states in EDIT_ACTIONS.items() if self.status in states]
        return sorted({*TICKET_MACHINE.allowed_actions(self.status), *edits})

    def linked(self, kind: LinkKind) -> list[str]:
        return [link.ticket_id for link in self.links if link.kind is kind]

    # --- ownership ------------------------------------------------------------------------------

    def take(self, *, actor: Actor, at: datetime) -> None:
        """A member of staff takes an unowned ticket (one that came in by email, fax, web or API)."""
        self._allow("take")
        if not actor.is_person:
            raise Forbidden("only a member of staff can own a ticket", code="owner-must-be-person")
        if self.owner_id == actor.id:
            return
        if self.owner_id is not None:
            raise Conflict(
                f"ticket {self.number} is owned by {self.owner_id}; a supervisor can reassign it",
                code="ticket-already-owned",
                owner_id=self.owner_id,
            )
        self._set_owner(actor.id, utc(at, "at"), actor, "first contact")
        self._bump()

    def reassign(self, *, to_owner_id: str, actor: Actor, at: datetime, reason: str) -> None:
        """A supervisor hands the ticket to someone else; the reason goes on the timeline."""
        self._allow("reassign")
        if not actor.is_supervisor:
            raise Forbidden("only a supervisor reassigns a ticket", code="reassign-needs-supervisor")
        reason = require_text(reason, "reason", max_length=MAX_REASON)
        if to_owner_id == self.owner_id:
            return
        self._set_owner(require_text(to_owner_id, "to_owner_id", max_length=64), utc(at, "at"), actor, reason)
        self._bump()

    # --- state changes --------------------------------------------------------------------------

    def acknowledge(self, *, actor: Actor, at: datetime, method: AckMethod) -> None:
        """The customer was told the request arrived (automatic email/fax with the number, or a person)."""
        self._move("acknowledge", actor, at)
        self._acknowledge(utc(at, "at"), actor, method)

    def start_work(self, *, actor: Actor, at: datetime) -> None:
        self._move("start_work", actor, at)

    def wait_for_customer(self, *, actor: Actor, at: datetime, reason: str) -> None:
        self._move("wait_for_customer", actor, at, detail=reason)

    def wait_for_parts(self, *, actor: Actor, at: datetime, reason: str) -> None:
        self._move("wait_for_parts", actor, at, detail=reason)

    def wait_for_third_party(self, *, actor: Actor, at: datetime, reason: str) -> None:
        self._move("wait_for_third_party", actor, at, detail=reason)

    def resume(self, *, actor: Actor, at: datetime) -> None:
        self._move("resume", actor, at)

    def resolve(
        self,
        *,
        actor: Actor,
        at: datetime,
        resolution: Resolution,
        summary: str | None = None,
        work_order_id: str | None = None,
    ) -> None:
        summary = _optional_text(summary, "summary", MAX_REASON)
        before = self._move("resolve", actor, at, detail=resolution.value, emit=False)
        self.resolved_at = utc(at, "at")
        self.resolution = resolution
        self._record(
            TicketResolved(
                at=self.resolved_at,
                ticket_id=self.id,
                actor=actor,
                action="resolve",
                from_status=before,
                to_status=self.status,
                resolution=resolution,
                summary=summary,
                work_order_id=work_order_id,
            )
        )

    def close(self, *, actor: Actor, at: datetime, reason: CloseReason) -> None:
        before = self._move("close", actor, at, detail=reason.value, emit=False)
        self.closed_at = utc(at, "at")
        self._record(
            TicketClosed(
                at=self.closed_at,
                ticket_id=self.id,
                actor=actor,
                action="close",
                from_status=before,
                to_status=self.status,
                reason=reason,
                resolved_at=self.resolved_at,
            )
        )

    def reopen(self, *, actor: Actor, at: datetime, reason: str) -> None:
        """The problem is back: anyone may reopen (the customer called again); the owner stays."""
        reason = require_text(reason, "reason", max_length=MAX_REASON)
        previously_resolved_at = self.resolved_at
        before = self._move("reopen", actor, at, detail=reason, emit=False, owner_only=False)
        self.reopen_count += 1
        self.resolved_at = None
        self.resolution = None
        self.closed_at = None
        self._record(
            TicketReopened(
                at=utc(at, "at"),
                ticket_id=self.id,
                actor=actor,
                action="reopen",
                from_status=before,
                to_status=self.status,
                reason=reason,
                reopen_count=self.reopen_count,
                previously_resolved_at=previously_resolved_at,
            )
        )

    def cancel(self, *, actor: Actor, at: datetime, reason: CancelReason, note: str | None = None) -> None:
        note = _optional_text(note, "note", MAX_REASON)
        before = self._move("cancel", actor, at, detail=reason.value, emit=False)
        self._record(
            TicketCancelled(
                at=utc(at, "at"),
                ticket_id=self.id,
                actor=actor,
                action="cancel",
                from_status=before,
                to_status=self.status,
                reason=reason,
                note=note,
            )
        )

    def merge_into(self, target: Ticket, *, actor: Actor, at: datetime) -> None:
        """This duplicate ends as ``merged``; ``target`` carries on with its watchers, files and links."""
        if not TICKET_MACHINE.can(self.status, "merge"):
            raise IllegalTransition("ticket", self.status.value, "merge", self.allowed_actions())
        if target.id == self.id:
            raise DomainError("a ticket cannot be merged into itself", code="merge-same-ticket")
        if not target.is_open:
            raise Conflict(
                f"ticket {target.number} is {target.status.value}; only an open ticket takes a merge",
                code="merge-target-not-open",
            )
        if target.customer_id != self.customer_id:
            raise Conflict("tickets of different customers are not merged", code="merge-different-customers")
        at = utc(at, "at")
        self._check_may_act(actor)
        target._require_owner_or_supervisor(actor, at)
        before = self._move("merge", actor, at, detail=f"into {target.number}", emit=False)
        self.merged_into = target.id
        self.links.append(TicketLink(target.id, LinkKind.MERGED_INTO))
        self._record(
            TicketMerged(
                at=at,
                ticket_id=self.id,
                actor=actor,
                action="merge",
                from_status=before,
                to_status=self.status,
                into_ticket_id=target.id,
            )
        )
        known = {a.attachment_id for a in target.attachments}
        target.attachments.extend(a for a in self.attachments if a.attachment_id not in known)
        target.watchers |= self.watchers
        if self.owner_id is not None and self.owner_id != target.owner_id:
            target.watchers.add(self.owner_id)
        target.external_refs |= self.external_refs
        target.links.append(TicketLink(self.id, LinkKind.MERGED_FROM))
        target._log(at, actor, "merged_from", self.number)
        target._bump()
        target._record(
            TicketUpdated(
                at=at, ticket_id=target.id, actor=actor, changed_fields=("attachments", "watchers", "links")
            )
        )

    # --- conversation ---------------------------------------------------------------------------

    def reply_to_customer(self, *, actor: Actor, at: datetime, body: str, via: Channel) -> Note:
        """A reply the customer receives. On a new ticket it is the acknowledgment too; the first one
        from a person (or partner) is the first response."""
        self._allow("reply")
        at = utc(at, "at")
        self._require_owner_or_supervisor(actor, at)
        note = self._note(at, actor, body, NoteVisibility.CUSTOMER, via)
        self._log(at, actor, "reply_sent", via.value, note.id)
        self._record(TicketReplied(at=at, ticket_id=self.id, actor=actor, note_id=note.id))
        if self.status is TicketStatus.NEW:
            self._transition("acknowledge", actor, at)
            self._acknowledge(at, actor, AckMethod.AGENT_REPLY)
        if actor.kind in (ActorKind.USER, ActorKind.PARTNER):
            self._first_response(at, actor)
        self._bump()
        return note

    def add_internal_note(self, *, actor: Actor, at: datetime, body: str) -> Note:
        """A note for colleagues only; anyone on staff may add one, in any state."""
        self._allow("add_note")
        at = utc(at, "at")
        note = self._note(at, actor, body, NoteVisibility.INTERNAL, None)
        self._log(at, actor, "note_added", "", note.id)
        self._bump()
        return note

    def record_customer_message(
        self, *, at: datetime, via: Channel, summary: str, reference: str | None = None
    ) -> bool:
        """The customer wrote or called about this ticket; a ticket waiting on them carries on.

        Returns False for a replay of a message already on the timeline (same ``reference``).
        """
        self._allow("record_customer_message")
        if reference is not None and self._has_reference(reference):
            return False
        at = utc(at, "at")
        customer = Actor.customer(self.customer_id)
        self._log(at, customer, "customer_message", f"{via.value}: {summary[:MAX_REASON]}", reference)
        self._record(CustomerResponded(at=at, ticket_id=self.id, actor=customer, reference=reference))
        if self.status is TicketStatus.WAITING_CUSTOMER:
            self._transition("resume", customer, at, detail="customer answered")
        self._bump()
        return True

    # --- details --------------------------------------------------------------------------------

    def change_priority(self, *, priority: Priority, actor: Actor, at: datetime) -> None:
        self._allow("update")
        if priority is not self.priority:
            self._update(actor, at, ("priority",), f"priority {self.priority.value} → {priority.value}")
            self.priority = priority

    def update_details(
        self,
        *,
        actor: Actor,
        at: datetime,
        product: ProductRef | None = None,
        fault_description: str | None = None,
        site_address: Address | None = None,
        needs_on_site: bool | None = None,
        preferred_windows: Iterable[TimeWindow] | None = None,
        customer_id: str | None = None,
        customer_tier: ServiceTier | None = None,
    ) -> tuple[str, ...]:
        """Change the facts given (None leaves a fact as it is); returns the fields that changed."""
        self._allow("update")
        changes: dict[str, object] = {}
        if product is not None and product != self.product:
            changes["product"] = product
        if fault_description is not None:
            text = _optional_text(fault_description, "fault_description", MAX_TEXT)
            if text != self.fault_description:
                changes["fault_description"] = text
        if site_address is not None and site_address != self.site_address:
            changes["site_address"] = site_address
        if needs_on_site is not None and needs_on_site != self.needs_on_site:
            changes["needs_on_site"] = needs_on_site
        if preferred_windows is not None:
            windows = _windows(preferred_windows)
            if windows != self.preferred_windows:
                changes["preferred_windows"] = windows
        if customer_id is not None and customer_id != self.customer_id:
            changes["customer_id"] = require_text(customer_id, "customer_id", max_length=64)
        if customer_tier is not None and customer_tier != self.customer_tier:
            changes["customer_tier"] = customer_tier
        if changes:
            self._update(actor, at, tuple(changes), ", ".join(changes))
            for name, value in changes.items():
                setattr(self, name, value)
        return tuple(changes)

    def attach(self, attachment: AttachmentRef, *, actor: Actor, at: datetime) -> None:
        self._allow("attach")
        if any(a.attachment_id == attachment.attachment_id for a in self.attachments):
            return
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise DomainError(f"a ticket has at most {MAX_ATTACHMENTS} attachments", code="too-many")
        self.attachments.append(attachment)
        self._update(
            actor, at, ("attachments",), attachment.filename or attachment.attachment_id, check=False
        )

    def watch(self, user_id: str, *, actor: Actor, at: datetime) -> None:
        self._allow("watch")
        if user_id not in self.watchers:
            self.watchers.add(user_id)
            self._log(utc(at, "at"), actor, "watcher_added", user_id)
            self._bump()

    def unwatch(self, user_id: str, *, actor: Actor, at: datetime) -> None:
        self._allow("watch")
        if user_id in self.watchers:
            self.watchers.discard(user_id)
            self._log(utc(at, "at"), actor, "watcher_removed", user_id)
            self._bump()

    def link(self, other_ticket_id: str, kind: LinkKind, *, actor: Actor, at: datetime) -> bool:
        """Link another ticket (idempotent); returns False when the link already existed."""
        self._allow("link")
        if other_ticket_id == self.id:
            raise DomainError("a ticket cannot be linked to itself", code="link-same-ticket")
        link = TicketLink(other_ticket_id, kind)
        if link in self.links:
            return False
        at = utc(at, "at")
        self.links.append(link)
        self._log(at, actor, "linked", f"{kind.value} {other_ticket_id}")
        self._record(
            TicketLinked(at=at, ticket_id=self.id, actor=actor, other_ticket_id=other_ticket_id, kind=kind)
        )
        self._bump()
        return True

    def record_activity(
        self, *, kind: str, detail: str, at: datetime, actor: Actor, reference: str | None = None
    ) -> bool:
        """Put a fact from elsewhere on the timeline (entitlement decided, technician assigned …).

        Returns False for a replay (same ``reference`` already recorded), so redelivered events
        leave one entry.
        """
        self._allow("record_activity")
        if reference is not None and self._has_reference(reference):
            return False
        self._log(
            utc(at, "at"), actor, require_text(kind, "kind", max_length=64), detail[:MAX_REASON], reference
        )
        self._bump()
        return True

    def add_external_ref(self, ref: str) -> bool:
        """Remember an outside key this ticket was made from (a survey response); False if known."""
        if ref in self.external_refs:
            return False
        self.external_refs.add(ref)
        return True

    # --- internals ------------------------------------------------------------------------------

    def _allow(self, action: str) -> None:
        if self.status not in EDIT_ACTIONS[action]:
            raise IllegalTransition("ticket", self.status.value, action, self.allowed_actions())

    def _require_owner_or_supervisor(self, actor: Actor, at: datetime) -> None:
        """Staff other than the owner may not move the ticket; the first to act on an unowned one owns it."""
        self._check_may_act(actor)
        if actor.is_person and not actor.is_supervisor and self.owner_id is None:
            self._set_owner(actor.id, utc(at, "at"), actor, "first contact")

    def _check_may_act(self, actor: Actor) -> None:
        if not actor.is_person or actor.is_supervisor or self.owner_id in (None, actor.id):
            return
        raise Forbidden(
            f"ticket {self.number} is owned by {self.owner_id}",
            code="not-ticket-owner",
            owner_id=self.owner_id,
        )

    def _move(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        *,
        detail: str = "",
        emit: bool = True,
        owner_only: bool = True,
    ) -> TicketStatus:
        if not TICKET_MACHINE.can(self.status, action):
            raise IllegalTransition("ticket", self.status.value, action, self.allowed_actions())
        if owner_only:
            self._require_owner_or_supervisor(actor, at)
        elif actor.is_person and self.owner_id is None:
            self._set_owner(actor.id, utc(at, "at"), actor, "first contact")
        before = self.status
        self._transition(action, actor, utc(at, "at"), detail=detail, emit=emit)
        self._bump()
        return before

    def _transition(
        self, action: str, actor: Actor, at: datetime, *, detail: str = "", emit: bool = True
    ) -> None:
        before = self.status
        self.status = TICKET_MACHINE.next_state(self.status, action)
        self._log(
            at, actor, action, f"{before.value} → {self.status.value}" + (f": {detail}" if detail else "")
        )
        if emit:
            self._record(
                TicketStatusChanged(
                    at=at,
                    ticket_id=self.id,
                    actor=actor,
                    action=action,
                    from_status=before,
                    to_status=self.status,
                )
            )

    def _acknowledge(self, at: datetime, actor: Actor, method: AckMethod) -> None:
        if self.acknowledged_at is None:
            self.acknowledged_at = at
            self._record(TicketAcknowledged(at=at, ticket_id=self.id, actor=actor, method=method))

    def _first_response(self, at: datetime, actor: Actor) -> None:
        if self.first_response_at is None:
            self.first_response_at = at
            self._record(TicketFirstResponse(at=at, ticket_id=self.id, actor=actor))

    def _set_owner(self, owner_id: str, at: datetime, actor: Actor, reason: str) -> None:
        previous = self.owner_id
        self.owner_id = owner_id
        self.watchers.discard(owner_id)
        if previous is not None:
            self.watchers.add(previous)
        self._log(
            at, actor, "owner_changed" if previous else "taken", f"{previous or '-'} → {owner_id}: {reason}"
        )
        self._record(
            TicketOwnerChanged(
                at=at,
                ticket_id=self.id,
                actor=actor,
                previous_owner_id=previous,
                owner_id=owner_id,
                reason=reason,
            )
        )

    def _update(
        self, actor: Actor, at: datetime, fields: tuple[str, ...], detail: str, *, check: bool = True
    ) -> None:
        if check:
            self._allow("update")
            self._require_owner_or_supervisor(actor, at)
        at = utc(at, "at")
        self._log(at, actor, "updated", detail)
        self._record(TicketUpdated(at=at, ticket_id=self.id, actor=actor, changed_fields=fields))
        self._bump()

    def _note(
        self, at: datetime, actor: Actor, body: str, visibility: NoteVisibility, via: Channel | None
    ) -> Note:
        note = Note(
            id=str(uuid.uuid4()),
            at=at,
            author_ref=actor.ref,
            body=require_text(body, "body", max_length=MAX_TEXT),
            visibility=visibility,
            via=via,
        )
        self.notes.append(note)
        return note

    def _log(
        self, at: datetime, actor: Actor, kind: str, detail: str = "", reference: str | None = None
    ) -> None:
        self.timeline.append(
            TimelineEntry(at=at, actor_ref=actor.ref, kind=kind, detail=detail, reference=reference)
        )

    def _has_reference(self, reference: str) -> bool:
        return any(entry.reference == reference for entry in self.timeline)

    @property
    def customer_notes(self) -> list[Note]:
        """What the customer may see: replies only, never internal notes."""
        return [note for note in self.notes if note.visibility is NoteVisibility.CUSTOMER]


def _optional_text(value: str | None, name: str, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return require_text(value, name, max_length=max_length)


def _windows(windows: Iterable[TimeWindow]) -> list[TimeWindow]:
    result = sorted(windows, key=lambda window: window.start)
    if len(result) > MAX_WINDOWS:
        raise DomainError(f"at most {MAX_WINDOWS} preferred time windows", code="too-many")
    return result


__all__ = [
    "EDIT_ACTIONS",
    "FINISHED",
    "TICKET_MACHINE",
    "AckMethod",
    "AttachmentRef",
    "CancelReason",
    "Channel",
    "CloseReason",
    "LinkKind",
    "Note",
    "NoteVisibility",
    "Priority",
    "ProductRef",
    "Resolution",
    "Ticket",
    "TicketEvent",
    "TicketLink",
    "TicketStatus",
    "TicketType",
    "TimeWindow",
    "TimelineEntry",
]
