"""Content types decided from the bytes themselves, never from what a sender's header claims."""

from __future__ import annotations

OCTET_STREAM = "application/octet-stream"

# (offset, magic, content type); first match wins, so longer or more specific magics come first.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"II+\x00", "image/tiff"),  # BigTIFF
    (0, b"MM\x00+", "image/tiff"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftypheic", "image/heic"),
    (4, b"ftypheix", "image/heic"),
    (4, b"ftypmif1", "image/heif"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"{\\rtf", "application/rtf"),
    (0, b"MZ", "application/x-msdownload"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
)

_TEXT_CONTROL_ALLOWED = frozenset(b"\t\n\r\f\x1b")
_SNIFF_WINDOW = 8192


def sniff_content_type(data: bytes) -> str:
    """The content type ``data`` really has, judged from magic bytes (or plain text), else octet-stream.

    Only the first few kilobytes are looked at, so this is cheap on large inputs.
    """
    for offset, magic, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    head = data[:_SNIFF_WINDOW]
    if head and _looks_like_text(head):
        stripped = head.lstrip().lower()
        if stripped.startswith((b"<!doctype html", b"<html")):
            return "text/html"
        return "text/plain"
    return OCTET_STREAM


def _looks_like_text(head: bytes) -> bool:
    if any(byte < 0x20 and byte not in _TEXT_CONTROL_ALLOWED for byte in head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the window is still text.
        if exc.start < len(head) - 4:
            return _mostly_printable_latin(head)
    return True


def _mostly_printable_latin(head: bytes) -> bool:
    # Legacy 8-bit text (latin-1, windows-1252): printable, with few high bytes.
    high = sum(1 for byte in head if byte >= 0x80)
    return high <= len(head) // 4


EXTENSIONS: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/tiff": ".tif",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "text/plain": ".txt",
    "text/html": ".html",
    "message/rfc822": ".eml",
}
