"""Fax documents (PDF, TIFF): checked against page, pixel and decompression limits BEFORE rendering.

A few hundred kilobytes can declare gigapixels (a TIFF page of 100,000 x 100,000) or inflate to
gigabytes (a Flate stream of zeros). :func:`inspect_document` reads only headers, page boxes, image
dictionaries and a bounded inflate of the streams, and refuses such a document; :func:`render_pages`
renders the pages it accepted, PDF through poppler's ``pdftoppm`` in a confined subprocess and TIFF
through Pillow with ``Image.MAX_IMAGE_PIXELS`` set.
"""

from __future__ import annotations

import asyncio
import io
import re
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from intake.channels.fax.tools import ToolError, ToolLimits, run_tool
from intake.channels.outcome import Rejected
from intake.channels.sniff import sniff_content_type

FAX_DOCUMENT_TYPES = frozenset({"application/pdf", "image/tiff"})

_STREAM = re.compile(rb"stream\r?\n")
_ENDSTREAM = b"endstream"
_PAGES = re.compile(rb"^Pages:\s+(\d+)\s*$", re.MULTILINE)
_PAGE_SIZE = re.compile(rb"^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts", re.MULTILINE)
_INFLATE_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """Bounds a fax document must respect. Page pixels count at ``render_dpi`` (PDF) or as stored (TIFF)."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 50
    render_dpi: int = 300
    max_page_pixels: int = 40_000_000
    max_image_pixels: int = 60_000_000
    max_decompressed_bytes: int = 256 * 1024 * 1024
    tools: ToolLimits = field(default_factory=ToolLimits)


@dataclass(frozen=True, slots=True)
class PageInfo:
    width_px: int
    height_px: int


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What inspection found: the real type and each page's size in pixels as it will be rendered."""

    content_type: str
    pages: tuple[PageInfo, ...]

    @property
    def page_count(self) -> int:
        return len(self.pages)


async def inspect_document(data: bytes, limits: DocumentLimits | None = None) -> DocumentInfo | Rejected:
    """Check a PDF or TIFF without rendering it. Never raises: problems give ``Rejected`` (raw kept)."""
    limits = limits or DocumentLimits()
    if len(data) > limits.max_bytes:
        return Rejected(
            "document-too-large", f"the document is {len(data)} bytes; the limit is {limits.max_bytes}", data
        )
    content_type = sniff_content_type(data)
    if content_type == "image/tiff":
        return await asyncio.to_thread(_inspect_tiff, data, limits)
    if content_type == "application/pdf":
        return await _inspect_pdf(data, limits)
    return Rejected(
        "document-type-not-allowed", f"a fax document must be PDF or TIFF, not {content_type}", data
    )


async def render_pages(
    data: bytes, info: DocumentInfo, limits: DocumentLimits | None = None
) -> list[bytes] | Rejected:
    """Render an inspected document to one grayscale PNG per page (for OCR and for viewing)."""
    limits = limits or DocumentLimits()
    if info.content_type == "image/tiff":
        return await asyncio.to_thread(_render_tiff, data, info, limits)
    return await _render_pdf(data, info, limits)


# --- TIFF -------------------------------------------------------------------------------------------------


def _inspect_tiff(data: bytes, limits: DocumentLimits) -> DocumentInfo | Rejected:
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels  # Pillow's own bomb check at open, process-wide
    pages: list[PageInfo] = []
    decoded_bytes = 0
    try:
        with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
            if image.format != "TIFF":
                return Rejected("unreadable-document", "the TIFF could not be read", data)
            for index in range(limits.max_pages + 1):
                try:
                    image.seek(index)
                except EOFError:
                    break
                if index == limits.max_pages:
                    return Rejected(
                        "too-many-pages", f"the TIFF has more than {limits.max_pages} pages", data
                    )
                width, height = image.size
                pixels = width * height
                if pixels > min(limits.max_image_pixels, limits.max_page_pixels):
                    return Rejected(
                        "decompression-bomb",
                        f"TIFF page {index + 1} is {width}x{height} pixels; "
                        f"the limit is {limits.max_page_pixels}",
                        data,
                    )
                decoded_bytes += (
                    pixels * max(1, len(image.getbands())) * (16 if "16" in image.mode else 8) // 8
                )
                if decoded_bytes > limits.max_decompressed_bytes:
                    return Rejected(
                        "decompression-bomb",
                        f"the TIFF decodes to more than {limits.max_decompressed_bytes} bytes",
                        data,
                    )
                pages.append(PageInfo(width, _square_height(image, width, height)))
    except Image.DecompressionBombError as exc:
        return Rejected("decompression-bomb", f"the TIFF is too large to decode ({exc})"[:300], data)
    except Exception as exc:  # Pillow raises many types on damaged files
        return Rejected("unreadable-document", f"the TIFF could not be read ({type(exc).__name__})", data)
    if not pages:
        return Rejected("unreadable-document", "the TIFF has no pages", data)
    return DocumentInfo("image/tiff", tuple(pages))


def _square_height(image: Image.Image, width: int, height: int) -> int:
    # Standard-resolution faxes are 204 x 98 dpi; stretch to square pixels so text is readable.
    dpi = image.info.get("dpi")
    if not isinstance(dpi, tuple):
        return height
    try:
        x_dpi, y_dpi = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return height
    if x_dpi <= 0 or y_dpi <= 0 or abs(x_dpi - y_dpi) < 1:
        return height
    return max(1, round(height * x_dpi / y_dpi))


def _render_tiff(data: bytes, info: DocumentInfo, limits: DocumentLimits) -> list[bytes] | Rejected:
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    pages: list[bytes] = []
    try:
        with Image.open(io.BytesIO(data), formats=["TIFF"]) as image:
            for index, page in enumerate(info.pages):
                image.seek(index)
                frame = image.convert("L")
                if (frame.width, frame.height) != (page.width_px, page.height_px):
                    frame = frame.resize((page.width_px, page.height_px))
                buffer = io.BytesIO()
                frame.save(buffer, format="PNG")
                pages.append(buffer.getvalue())
    except Exception as exc:
        return Rejected("render-failed", f"the TIFF could not be rendered ({type(exc).__name__})", data)
    return pages


# --- PDF --------------------------------------------------------------------------------------------------


async def _inspect_pdf(data: bytes, limits: DocumentLimits) -> DocumentInfo | Rejected:
    inflated = await asyncio.to_thread(_inflated_size, data, limits.max_decompressed_bytes)
    if inflated > limits.max_decompressed_bytes:
        return Rejected(
            "decompression-bomb",
            f"the PDF's streams inflate to more than {limits.max_decompressed_bytes} bytes",
            data,
        )
    with tempfile.TemporaryDirectory(prefix="fax-") as workdir:
        path = Path(workdir) / "document.pdf"
        await asyncio.to_thread(path.write_bytes, data)
        try:
            summary = await run_tool(["pdfinfo", str(path)], limits=limits.tools)
            if summary.returncode != 0:
                return Rejected("unreadable-document", "the PDF could not be read", data)
            pages_match = _PAGES.search(summary.stdout)
            page_count = int(pages_match.group(1)) if pages_match else 0
            if page_count == 0:
                return Rejected("unreadable-document", "the PDF has no pages", data)
            if page_count > limits.max_pages:
                return Rejected(
                    "too-many-pages", f"the PDF has {page_count} pages; the limit is {limits.max_pages}", data
                )
            sizes = await run_tool(
                ["pdfinfo", "-f", "1", "-l", str(page_count), str(path)], limits=limits.tools
            )
            images = await run_tool(["pdfimages", "-list", str(path)], limits=limits.tools)
        except ToolError as exc:
            return Rejected("unreadable-document", f"the PDF could not be inspected ({exc})", data)
    pages = _pdf_pages(sizes.stdout, limits.render_dpi)
    if len(pages) != page_count:
        return Rejected("unreadable-document", "the PDF's page sizes could not be read", data)
    for number, page in enumerate(pages, start=1):
        if page.width_px * page.height_px > limits.max_page_pixels:
            return Rejected(
                "decompression-bomb",
                f"PDF page {number} renders to {page.width_px}x{page.height_px} pixels "
                f"at {limits.render_dpi} dpi; "
                f"the limit is {limits.max_page_pixels}",
                data,
            )
    image_problem = _embedded_image_problem(images.stdout, limits)
    if image_problem:
        return Rejected("decompression-bomb", image_problem, data)
    return DocumentInfo("application/pdf", tuple(pages))


def _inflated_size(data: bytes, budget: int) -> int:
    """Total bytes the PDF's zlib streams inflate to, counted up to just past ``budget``."""
    total = 0
    position = 0
    while total <= budget:
        match = _STREAM.search(data, position)
        if match is None:
            break
        start = match.end()
        end = data.find(_ENDSTREAM, start)
        end = len(data) if end < 0 else end
        position = end + len(_ENDSTREAM)
        if data[start : start + 1] not in (
            b"\x78",
            b"\x08",
            b"\x18",
            b"\x28",
            b"\x38",
            b"\x48",
            b"\x58",
            b"\x68",
        ):
            total += end - start  # not a zlib stream: counts as stored
            continue
        inflater = zlib.decompressobj()
        pending = data[start:end]
        try:
            while pending and total <= budget:
                total += len(inflater.decompress(pending, _INFLATE_CHUNK))
                pending = inflater.unconsumed_tail
        except zlib.error:
            continue  # damaged stream: poppler will cope or fail within its own limits
    return total


def _pdf_pages(pdfinfo_output: bytes, dpi: int) -> list[PageInfo]:
    pages: list[PageInfo] = []
    for match in _PAGE_SIZE.finditer(pdfinfo_output):
        width_pt, height_pt = float(match.group(2)), float(match.group(3))
        pages.append(PageInfo(max(1, round(width_pt * dpi / 72)), max(1, round(height_pt * dpi / 72))))
    return pages


def _embedded_image_problem(pdfimages_output: bytes, limits: DocumentLimits) -> str | None:
    decoded = 0
    for line in pdfimages_output.decode("ascii", "replace").splitlines()[2:]:
        columns = line.split()
        if len(columns) < 9 or not (columns[3].isdigit() and columns[4].isdigit()):
            continue
        width, height = int(columns[3]), int(columns[4])
        components = int(columns[6]) if columns[6].isdigit() else 1
        bits = int(columns[7]) if columns[7].isdigit() else 8
        if width * height > limits.max_image_pixels:
            return (
                f"an image on PDF page {columns[0]} is {width}x{height} pixels; "
                f"the limit is {limits.max_image_pixels}"
            )
        decoded += width * height * components * bits // 8
        if decoded > limits.max_decompressed_bytes:
            return f"the PDF's images decode to more than {limits.max_decompressed_bytes} bytes"
    return None


async def _render_pdf(data: bytes, info: DocumentInfo, limits: DocumentLimits) -> list[bytes] | Rejected:
    with tempfile.TemporaryDirectory(prefix="fax-") as workdir:
        path = Path(workdir) / "document.pdf"
        await asyncio.to_thread(path.write_bytes, data)
        argv = ["pdftoppm", "-r", str(limits.render_dpi), "-gray", "-png"]
        argv += ["-f", "1", "-l", str(info.page_count), str(path), str(Path(workdir) / "page")]
        try:
            result = await run_tool(argv, limits=limits.tools, cwd=workdir)
        except ToolError as exc:
            return Rejected("render-failed", f"the PDF could not be rendered ({exc})", data)
        if result.returncode != 0:
            return Rejected("render-failed", f"pdftoppm failed with status {result.returncode}", data)
        pages = await asyncio.to_thread(_rendered_pages, Path(workdir))
        if len(pages) != info.page_count:
            return Rejected(
                "render-failed", f"pdftoppm rendered {len(pages)} of {info.page_count} pages", data
            )
        return pages


def _rendered_pages(workdir: Path) -> list[bytes]:
    files = sorted(workdir.glob("page-*.png"), key=lambda file: int(file.stem.rpartition("-")[2]))
    return [file.read_bytes() for file in files]
