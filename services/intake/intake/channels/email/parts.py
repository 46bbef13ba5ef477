"""MIME part contents: transfer decoding, text rendering of HTML, and safe attachment file names."""

from __future__ import annotations

import re
import unicodedata
from email import errors
from email.message import Message
from html import unescape

from intake.channels.email.headers import decode_text, decode_words, raw_header_text
from intake.channels.outcome import Note
from intake.channels.sniff import EXTENSIONS

_BAD_QP = re.compile(r"=(?![0-9A-Fa-f]{2}|\r?\n|$)", re.MULTILINE)
_BASE64_DEFECTS = (
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64LengthDefect,
)


def payload_bytes(part: Message) -> tuple[bytes, list[Note]]:
    """The part's body with its Content-Transfer-Encoding undone, tolerating broken base64 and QP."""
    notes: list[Note] = []
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    raw = part.get_payload()
    if cte == "quoted-printable" and isinstance(raw, str) and _BAD_QP.search(raw):
        notes.append(Note("bad-quoted-printable", "a part had invalid quoted-printable escapes"))
    before = len(part.defects)
    data = part.get_payload(decode=True)
    if any(isinstance(defect, _BASE64_DEFECTS) for defect in part.defects[before:]):
        notes.append(Note("bad-base64", "a part had invalid base64; what could be read was kept"))
    if not isinstance(data, bytes):
        return b"", [*notes, Note("undecodable-part", "a part's content could not be decoded")]
    return data, notes


def part_text(part: Message) -> tuple[str, list[Note]]:
    """A text part's content as ``str`` in its declared charset (replacement characters where broken)."""
    data, notes = payload_bytes(part)
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
        notes.append(Note("bad-charset", "the charset parameter could not be read"))
    text, text_notes = decode_text(data, charset)
    return text.replace("\r\n", "\n").replace("\r", "\n"), notes + text_notes


_HIDDEN = frozenset({"script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg"})
_BLOCK = frozenset(
    {"p", "div", "tr", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "hr", "pre"}
)
_TAG_START = re.compile(r"<(?=/?[a-zA-Z]|!|\?)")  # a "<" not starting a tag is text, as in "a < b"
_TAG_NAME = re.compile(r"(/?)([a-zA-Z][a-zA-Z0-9:-]{0,30})")


def html_to_text(html: str) -> str:
    """A plain-text rendering of an HTML body for agents to read.

    A single forward scan (linear time even on hostile markup, where the standard library's HTML
    parser can go quadratic): tags are dropped, hidden elements (script, style …) with their content,
    blocks become line breaks, entities are decoded. Nothing is executed or fetched.
    """
    lowered = html.lower()
    chunks: list[str] = []
    position, length = 0, len(html)
    while position < length:
        start = _TAG_START.search(html, position)
        if start is None:
            chunks.append(unescape(html[position:]))
            break
        opening = start.start()
        chunks.append(unescape(html[position:opening]))
        if html.startswith("<!--", opening):
            closing = html.find("-->", opening + 4)
            position = length if closing < 0 else closing + 3
            continue
        name = _TAG_NAME.match(html, opening + 1)
        closing = html.find(">", opening + 1)
        if closing < 0:
            break  # an unterminated tag ends the document
        position = closing + 1
        if name is None:
            continue  # <!DOCTYPE …>, <?xml …?>
        is_end, tag = name.group(1) == "/", name.group(2).lower()
        if tag in _HIDDEN and not is_end and not html.startswith("/>", closing - 1):
            end_tag = lowered.find("</" + tag, position)
            end_close = html.find(">", end_tag) if end_tag >= 0 else -1
            position = length if end_close < 0 else end_close + 1
        elif tag == "br":
            chunks.append("\n")
        elif tag == "li" and not is_end:
            chunks.append("\n- ")
        elif tag in _BLOCK:
            chunks.append("\n\n")
        elif tag in ("td", "th") and not is_end:
            chunks.append(" ")
    lines = (" ".join(line.split()) for line in "".join(chunks).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_RESERVED = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_FILENAME = 150


def attachment_filename(part: Message, *, index: int, content_type: str) -> tuple[str, list[Note]]:
    """The part's file name, decoded and made safe to store and to offer for download."""
    notes: list[Note] = []
    try:
        declared = part.get_filename()
    except Exception:
        declared = None
        notes.append(Note("bad-filename", "an attachment's file name could not be read"))
    name = ""
    if declared:
        text, text_notes = raw_header_text(declared)
        name, word_notes = decode_words(text)
        notes.extend(text_notes + word_notes)
    safe = sanitise_filename(name)
    if not safe:
        safe = f"attachment-{index}{EXTENSIONS.get(content_type, '.bin')}"
    return safe, notes


def sanitise_filename(name: str) -> str:
    """A file name with no path, no control or reserved characters, no leading dot, at most 150 chars."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _RESERVED.sub("_", name)
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    if _WINDOWS_DEVICE.match(name):
        name = f"_{name}"
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: _MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            name = name[:_MAX_FILENAME]
    return name
