"""Header decoding that never raises: RFC 2047 words, 8-bit bytes, addresses, message ids and dates.

Every function returns what it could make of the input plus the :class:`Note` values describing
what it had to repair, so a broken header degrades to replacement characters instead of failing.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from intake.channels.outcome import Note

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_ENCODED_WORDS = re.compile(r"(?<=\?=)[ \t\r\n]+(?==\?)")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n]")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.\-\[\]:]{1,255}$")
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox: the address (domain lower-cased) and the display name (may be empty)."""

    address: str
    name: str = ""


def raw_header_text(value: str) -> tuple[str, list[Note]]:
    """Unfold a raw header value and turn undeclared 8-bit bytes into text (UTF-8, else replacement)."""
    notes: list[Note] = []
    unfolded = _FOLDING.sub("", value)
    if _has_surrogates(unfolded):
        as_bytes = unfolded.encode("ascii", "surrogateescape")
        try:
            unfolded = as_bytes.decode("utf-8")
        except UnicodeDecodeError:
            unfolded = as_bytes.decode("utf-8", "replace")
            notes.append(Note("undecodable-header", "a header held bytes that are not UTF-8"))
    return unfolded, notes


def decode_words(text: str) -> tuple[str, list[Note]]:
    """Decode RFC 2047 encoded words in ``text``; a broken word becomes replacement characters."""
    if "=?" not in text:
        return text, []
    notes: list[Note] = []
    joined = _BETWEEN_ENCODED_WORDS.sub("", text)  # RFC 2047 §6.2: space between words is not text

    def replace(match: re.Match[str]) -> str:
        charset, encoding, payload = match.group(1), match.group(2).upper(), match.group(3)
        data = _b_decode(payload) if encoding == "B" else _q_decode(payload)
        if data is None:
            notes.append(Note("bad-encoded-word", "an RFC 2047 encoded word had broken base64"))
            return "\ufffd"
        decoded, charset_notes = decode_text(data, charset.split("*", 1)[0])
        notes.extend(charset_notes)
        return decoded

    return _ENCODED_WORD.sub(replace, joined), notes


def neutralise(text: str) -> tuple[str, list[Note]]:
    """Replace CR, LF, NUL and other control characters so a value can never start a new header."""
    notes: list[Note] = []
    if _LINE_BREAK.search(text):
        notes.append(Note("header-injection-neutralised", "a header value carried a line break"))
    cleaned = _CONTROL.sub(" ", text).replace("\t", " ")
    return cleaned.strip(), notes


def header_value(value: str) -> tuple[str, list[Note]]:
    """A raw header value as safe one-line text: unfolded, 8-bit repaired, RFC 2047 decoded, neutralised."""
    text, notes = raw_header_text(value)
    decoded, word_notes = decode_words(text)
    safe, safety_notes = neutralise(decoded)
    return safe, notes + word_notes + safety_notes


def decode_text(data: bytes, charset: str | None) -> tuple[str, list[Note]]:
    """Bytes to text in the declared charset; unknown or wrong charsets degrade to replacement characters."""
    if not charset:
        try:
            return data.decode("utf-8"), []
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace"), [
                Note("charset-guessed", "text without a declared charset was read as Windows-1252")
            ]
    name = charset.strip().strip('"').lower()
    try:
        codec = codecs.lookup(name)
        if not getattr(codec, "_is_text_encoding", True):
            raise LookupError(name)
    except (LookupError, ValueError):
        return data.decode("utf-8", "replace"), [
            Note("bad-charset", f"unknown charset {name[:40]!r}; read as UTF-8")
        ]
    if codec.name == "ascii":
        codec = codecs.lookup("utf-8")  # "us-ascii" is often declared for UTF-8; UTF-8 is its superset
    try:
        return data.decode(codec.name), []
    except UnicodeDecodeError:
        return data.decode(codec.name, "replace"), [
            Note("undecodable-bytes", f"text was not valid {codec.name}; bad bytes replaced")
        ]
    except Exception:  # a codec's own bug must not escape on hostile input
        return data.decode("utf-8", "replace"), [
            Note("bad-charset", f"charset {codec.name} failed; read as UTF-8")
        ]


def message_ids(value: str) -> tuple[str, ...]:
    """The ``<id>`` tokens of a Message-ID, In-Reply-To or References value, in order, deduplicated."""
    seen: dict[str, None] = {}
    for token in _MESSAGE_ID.findall(value):
        seen.setdefault(f"<{token}>", None)
    return tuple(seen)


def addresses(value: str) -> tuple[tuple[Address, ...], list[Note]]:
    """Mailboxes of an address header (From, To, Cc, Reply-To); unparseable entries are noted and skipped."""
    text, notes = raw_header_text(value)
    result: list[Address] = []
    try:
        pairs = getaddresses([_LINE_BREAK.sub(" ", text)])
    except Exception:
        return (), [*notes, Note("unparseable-address", "an address header could not be parsed")]
    for raw_name, raw_address in pairs:
        address = raw_address.strip()
        if not address and not raw_name:
            continue
        if not _ADDRESS.match(address):
            notes.append(Note("unparseable-address", "an address was not a valid mailbox and was skipped"))
            continue
        local, _, domain = address.rpartition("@")
        name, name_notes = decode_words(raw_name)
        safe_name, safety_notes = neutralise(name)
        notes.extend(name_notes + safety_notes)
        result.append(Address(address=f"{local}@{domain.lower()}", name=safe_name))
    return tuple(result), notes


def date(value: str) -> tuple[datetime | None, list[Note]]:
    """The Date header as an aware UTC datetime (a zone-less date is taken as UTC), or None with a note."""
    text, notes = raw_header_text(value)
    try:
        parsed = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, [*notes, Note("bad-date", "the Date header could not be read")]
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC), notes
    except (OverflowError, ValueError):
        return None, [*notes, Note("bad-date", "the Date header is out of range")]


def _b_decode(payload: str) -> bytes | None:
    cleaned = payload.strip().rstrip("=")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _q_decode(payload: str) -> bytes:
    data = payload.replace("_", " ").encode("ascii", "replace")
    return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)
