"""Ticket hints from free text (fax OCR, email bodies): serial numbers, phone numbers, the fault.

These pre-fill a ticket and the customer match for an agent to confirm; they are suggestions, not facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

DEFAULT_SERIAL_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"\b(?:s/?n|serial(?:\s*(?:no|number|nr|num|#))?|serien-?(?:nummer|nr)|fabrikations-?nr)[\s.:#]*"
        r"(?P<serial>(?=[A-Z\-/]*\d)[A-Z0-9][A-Z0-9\-/]{4,30}[A-Z0-9])\b",
        re.IGNORECASE,
    ),
)
"""A labelled serial ("S/N: AB12345", "Serial No.: SN-4711-0042"); add the product lines' own formats."""

_FAULT_LABEL = re.compile(
    r"^\s*(?:fault|problem|issue|defect|description|fault description|complaint|symptoms?|"
    r"fehler|fehlerbeschreibung|störung|problembeschreibung|panne|d[ée]faut)\s*[:\-]\s*(?P<first>.*)$",
    re.IGNORECASE,
)
_FAULT_WORDS = re.compile(
    r"\b(leak\w*|broken|not working|does ?n[o']t work|won'?t|stopp?ed|fails?|failure|error|noise|noisy|"
    r"defect\w*|faulty|no (?:heat|cooling|power|water)|kaputt|undicht|defekt|funktioniert nicht|fehler)\b",
    re.IGNORECASE,
)
_MAX_FAULT_CHARS = 1000


@dataclass(frozen=True, slots=True)
class TicketHints:
    """Serial numbers (upper-cased), phone numbers in E.164, and the probable fault description."""

    serial_numbers: tuple[str, ...]
    phone_numbers: tuple[str, ...]
    fault_description: str | None


def normalise_phone(raw: str, default_region: str = "DE") -> str | None:
    """``raw`` as an E.164 number (``+49301234567``) if it is a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phone_numbers(text: str, default_region: str = "DE") -> tuple[str, ...]:
    """Every valid phone number in ``text`` as E.164, in order of appearance, without repeats."""
    return tuple(dict.fromkeys(number for _, number in phone_number_matches(text, default_region)))


def phone_number_matches(text: str, default_region: str = "DE") -> list[tuple[str, str]]:
    """Each valid phone number in ``text`` as (the text as written, E.164), in order of appearance."""
    matcher = phonenumbers.PhoneNumberMatcher(text, default_region, leniency=phonenumbers.Leniency.VALID)
    return [
        (match.raw_string, phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
        for match in matcher
    ]


def find_serial_numbers(
    text: str, patterns: Sequence[re.Pattern[str]] = DEFAULT_SERIAL_PATTERNS
) -> tuple[str, ...]:
    """Serial numbers matched by ``patterns`` (group ``serial``, else group 1, else all), upper-cased."""
    found: dict[str, None] = {}
    for pattern in patterns:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            value = groups.get("serial") or (match.group(1) if pattern.groups else match.group(0))
            if value:
                found.setdefault(value.strip().upper(), None)
    return tuple(found)


def find_fault_description(text: str) -> str | None:
    """The labelled fault ("Fault: …" up to a blank line), else the first paragraph that describes one."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        match = _FAULT_LABEL.match(line)
        if match is None:
            continue
        collected = [match.group("first").strip()]
        for following in lines[index + 1 :]:
            if (
                not following.strip()
                or _FAULT_LABEL.match(following)
                or re.match(r"^\s*[\w .\-/]{1,30}:\s", following)
            ):
                break
            collected.append(following.strip())
        description = " ".join(part for part in collected if part)
        if description:
            return description[:_MAX_FAULT_CHARS]
    for paragraph in re.split(r"\n\s*\n", text):
        if _FAULT_WORDS.search(paragraph):
            return " ".join(paragraph.split())[:_MAX_FAULT_CHARS]
    return None


def extract_ticket_hints(
    text: str,
    *,
    serial_patterns: Sequence[re.Pattern[str]] = DEFAULT_SERIAL_PATTERNS,
    default_region: str = "DE",
) -> TicketHints:
    """All hints at once, for pre-filling a ticket from a fax or an email."""
    return TicketHints(
        serial_numbers=find_serial_numbers(text, serial_patterns),
        phone_numbers=find_phone_numbers(text, default_region),
        fault_description=find_fault_description(text),
    )
