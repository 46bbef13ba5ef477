"""The new text of a reply: quoted history, forwarded headers and signatures cut away."""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{1,300}\bwrote|am\b.{1,300}\bschrieb.{0,200}|le\b.{1,300}\ba [ée]crit"
    r"|el\b.{1,300}\bescribi[óo]"
    r"|op\b.{1,300}\bschreef.{0,200}|il\b.{1,300}\bha scritto)\s*:\s*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht|message d'origine"
    r"|mensaje original|messaggio originale|forwarded message|weitergeleitete nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|da|van)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|gesendet|date|datum|envoy[ée]|enviado|inviato|verzonden|to|an|à|para|subject|betreff)\s*:",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^(-- ?|--)\s*$")
_MOBILE = re.compile(
    r"^\s*(sent from my \w+|von meinem \w+.{0,40}gesendet|get outlook for (ios|android)"
    r"|envoy[ée] de mon \w+)",
    re.IGNORECASE,
)


def strip_quoted_reply(text: str) -> str:
    """The text the sender wrote in this message, without the quoted thread and signature below it.

    Inline answers between quoted lines are kept whole. If cutting would leave nothing (a bare
    forward, say), the full text is returned: losing a customer's words is worse than showing a quote.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _first_cut(lines)
    kept = lines[:cut]
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()


def _first_cut(lines: list[str]) -> int:
    own = [index for index, line in enumerate(lines) if line.strip() and not line.lstrip().startswith(">")]
    last_own_line = own[-1] if own else -1
    for index, line in enumerate(lines):
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if _ATTRIBUTION.match(line) or (not line.lstrip().startswith(">") and _ATTRIBUTION.match(joined)):
            return index
        if _SEPARATOR.match(line) or _SIGNATURE.match(line) or _MOBILE.match(line):
            return index
        if _OUTLOOK_RULE.match(line) and any(
            _HEADER_FROM.match(following) for following in lines[index + 1 : index + 3]
        ):
            return index
        if _HEADER_FROM.match(line) and any(
            _HEADER_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
        if index > last_own_line and line.lstrip().startswith(">"):
            return index  # the quoted block that closes the message
    return len(lines)
