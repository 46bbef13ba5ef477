"""Duplicate customers: how alike two records are (with the reasons), and merging them into one.

A new record is checked against the candidates the store finds by phone, email or postcode. A merge
keeps both records: the survivor gains what it lacked, the absorbed record points to the survivor so
old references still resolve, and the store re-points tickets, calls and contact history.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from intake.domain.common import Actor, utc
from intake.domain.customers import Customer, CustomersMerged
from kit.domain import DomainError, Forbidden

_LEGAL_FORMS = frozenset({"gmbh", "mbh", "ag", "kg", "ohg", "ug", "gbr", "ek", "co", "ltd", "limited", "inc"})
_LEGAL_FORMS |= {"llc", "plc", "corp", "sa", "sarl", "bv", "nv", "srl", "spa"}
_TITLES = frozenset({"dr", "prof", "herr", "frau", "mr", "mrs", "ms"})
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def name_key(name: str) -> str:
    """A name as compared for duplicates: case, accents, umlaut spelling, titles, legal forms and
    word order do not matter (``Dr. Hans Müller`` ~ ``mueller, hans``; ``ACME GmbH`` ~ ``Acme``)."""
    folded = name.casefold().translate(_TRANSLITERATION)
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    words = re.findall(r"[a-z0-9]+", plain)
    return " ".join(sorted(word for word in words if word not in _LEGAL_FORMS and word not in _TITLES))


@dataclass(frozen=True)
class MatchReason:
    """Why two records look like the same customer; ``detail`` masks the personal data it names."""

    code: str
    detail: str


@dataclass(frozen=True)
class DuplicateMatch:
    customer_id: str
    duplicate_id: str
    score: int
    reasons: tuple[MatchReason, ...]


@dataclass(frozen=True)
class DuplicateRules:
    """How much each kind of evidence counts (the score is capped at 100) and what is reported."""

    same_phone: int = 60
    same_email: int = 60
    similar_name_same_postcode: int = 50
    similar_name_only: int = 15
    name_similarity: float = 0.85
    report_from: int = 50


def _mask_phone(e164: str) -> str:
    return f"{e164[:3]}…{e164[-3:]}"


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def duplicate_match(
    customer: Customer, other: Customer, rules: DuplicateRules | None = None
) -> DuplicateMatch:
    """Score how likely ``other`` is the same customer as ``customer``, with the reasons."""
    rules = rules or DuplicateRules()
    reasons: list[MatchReason] = []
    score = 0
    shared_phones = sorted(
        {p.number for p in customer._all_phones()} & {p.number for p in other._all_phones()}
    )
    if shared_phones:
        score += rules.same_phone
        reasons.append(MatchReason("same_phone", ", ".join(map(_mask_phone, shared_phones))))
    mine = {e.key: e.address for e in customer._all_emails()}
    shared_emails = sorted(key for key in mine if other.has_email(key))
    if shared_emails:
        score += rules.same_email
        reasons.append(MatchReason("same_email", ", ".join(_mask_email(mine[key]) for key in shared_emails)))
    similarity = SequenceMatcher(None, name_key(customer.name), name_key(other.name)).ratio()
    if similarity >= rules.name_similarity:
        shared_postcodes = customer.postcode_keys & other.postcode_keys
        if shared_postcodes:
            score += rules.similar_name_same_postcode
            reasons.append(
                MatchReason(
                    "similar_name_same_postcode",
                    f"names {similarity:.0%} alike, postcode {', '.join(sorted(shared_postcodes))}",
                )
            )
        else:
            score += rules.similar_name_only
            reasons.append(MatchReason("similar_name", f"names {similarity:.0%} alike"))
    return DuplicateMatch(customer.id, other.id, min(score, 100), tuple(reasons))


def find_duplicates(
    customer: Customer, candidates: Iterable[Customer], rules: DuplicateRules | None = None
) -> list[DuplicateMatch]:
    """The candidates (found by the store on phone, email or postcode) that score at least
    ``rules.report_from``, most likely first. Merged-away records and the customer itself are skipped."""
    rules = rules or DuplicateRules()
    matches = [
        duplicate_match(customer, other, rules)
        for other in candidates
        if other.id != customer.id and other.is_active
    ]
    reported = [match for match in matches if match.score >= rules.report_from]
    return sorted(reported, key=lambda match: (-match.score, match.duplicate_id))


# --- merge -------------------------------------------------------------------------------------

REPOINTED_RECORDS = ("contact_history", "tickets", "calls", "callback_tasks")


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did: the store re-points ``repoint`` records of ``absorbed_id`` to ``survivor_id``."""

    survivor_id: str
    absorbed_id: str
    moved: tuple[str, ...]
    repoint: tuple[str, ...] = REPOINTED_RECORDS


def choose_survivor(first: Customer, second: Customer) -> tuple[Customer, Customer]:
    """(survivor, absorbed): the older record survives, since other services have known it longer."""
    ordered = sorted((first, second), key=lambda customer: (customer.created_at, customer.id))
    return ordered[0], ordered[1]


def merge_customers(survivor: Customer, absorbed: Customer, *, at: datetime, actor: Actor) -> MergeOutcome:
    """Merge ``absorbed`` into ``survivor``; a person decides, and both records are kept.

    The survivor gains the phones, emails, addresses and contacts it lacks, blanks filled from the
    absorbed record, and the better contract tier. The absorbed record keeps its data, points to the
    survivor, and refuses further changes.
    """
    if not actor.is_person:
        raise Forbidden("only a member of staff merges customers", code="merge-needs-person")
    if survivor.id == absorbed.id:
        raise DomainError("a customer cannot be merged into itself", code="merge-same-customer")
    survivor._require_active()
    absorbed._require_active()
    at = utc(at, "at")
    moved: list[str] = []
    for phone in absorbed.phones:
        if survivor._add_phone(phone):
            moved.append(f"phone {_mask_phone(phone.number)}")
    for email in absorbed.emails:
        if survivor._add_email(email):
            moved.append(f"email {_mask_email(email.address)}")
    for address in absorbed.addresses:
        if survivor._add_address(address):
            moved.append(f"address {address.postal_code or ''} {address.city}".replace("  ", " "))
    for contact in absorbed.contacts:
        if contact not in survivor.contacts:
            survivor.contacts.append(contact)
            moved.append(f"contact {contact.name}")
    survivor.company_name = survivor.company_name or absorbed.company_name
    survivor.preferred_language = survivor.preferred_language or absorbed.preferred_language
    survivor.dealer_id = survivor.dealer_id or absorbed.dealer_id
    if absorbed.tier_override is not None:
        survivor.tier_override = (
            absorbed.tier_override
            if survivor.tier_override is None
            else survivor.tier_override.better_of(absorbed.tier_override)
        )
    survivor.merged_ids.extend([absorbed.id, *absorbed.merged_ids])
    survivor.updated_at = at
    survivor._bump()
    survivor._record(
        CustomersMerged(
            at=at,
            customer_id=survivor.id,
            merged_customer_ids=(absorbed.id, *absorbed.merged_ids),
            actor=actor,
        )
    )
    absorbed.merged_into = survivor.id
    absorbed.updated_at = at
    absorbed._bump()
    return MergeOutcome(survivor.id, absorbed.id, tuple(moved))
