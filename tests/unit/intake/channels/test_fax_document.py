"""Fax documents are checked for bombs before anything renders them (TIFF via Pillow, PDF pre-scan)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from intake.channels import Rejected
from intake.channels.fax import DocumentInfo, DocumentLimits, inspect_document, render_pages


def tiff_declaring(width: int, height: int) -> bytes:
    """A 150-byte TIFF whose header claims ``width`` x ``height`` bilevel pixels over a 16-byte strip."""
    entries = [
        (256, 4, width),  # ImageWidth
        (257, 4, height),  # ImageLength
        (258, 3, 1),  # BitsPerSample
        (259, 3, 4),  # Compression: CCITT G4
        (262, 3, 0),  # PhotometricInterpretation
        (273, 4, 0),  # StripOffsets (patched below)
        (277, 3, 1),  # SamplesPerPixel
        (278, 4, height),  # RowsPerStrip
        (279, 4, 16),  # StripByteCounts
    ]
    data_offset = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, value in entries:
        value = data_offset if tag == 273 else value
        ifd += (
            struct.pack("<HHIHH", tag, kind, 1, value, 0)
            if kind == 3
            else struct.pack("<HHII", tag, kind, 1, value)
        )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00" * 16


def tiff_pages(count: int, *, size: tuple[int, int] = (400, 300), dpi: tuple[int, int] = (200, 200)) -> bytes:
    page = Image.new("1", size, 1)
    buffer = io.BytesIO()
    page.save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=[page] * (count - 1),
        dpi=dpi,
        compression="group4",
    )
    return buffer.getvalue()


def pdf_with_stream(stream: bytes) -> bytes:
    head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    stream_object = (
        b"4 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
    )
    return head + stream_object + stream + b"\nendstream\nendobj\n%%EOF\n"


def zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    out = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(out) + compressor.flush()


async def test_a_tiff_declaring_ten_gigapixels_is_rejected_without_decoding() -> None:
    outcome = await inspect_document(tiff_declaring(100_000, 100_000))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_a_tiff_page_over_the_pixel_limit_is_rejected() -> None:
    outcome = await inspect_document(tiff_declaring(9_000, 9_000), DocumentLimits(max_page_pixels=40_000_000))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"
    assert "9000x9000" in outcome.reason


async def test_a_tiff_with_more_pages_than_allowed_is_rejected() -> None:
    outcome = await inspect_document(tiff_pages(6), DocumentLimits(max_pages=5))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "too-many-pages"


async def test_a_tiff_decoding_to_more_than_the_budget_is_rejected() -> None:
    outcome = await inspect_document(
        tiff_pages(4, size=(1000, 1000)), DocumentLimits(max_decompressed_bytes=3_000_000)
    )
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"


async def test_a_standard_resolution_fax_tiff_renders_with_square_pixels() -> None:
    document = tiff_pages(2, size=(1728, 1100), dpi=(204, 98))
    info = await inspect_document(document)
    assert isinstance(info, DocumentInfo)
    assert info.content_type == "image/tiff"
    assert info.page_count == 2
    assert info.pages[0].height_px == round(1100 * 204 / 98)
    pages = await render_pages(document, info)
    assert isinstance(pages, list)
    assert len(pages) == 2
    with Image.open(io.BytesIO(pages[0])) as rendered:
        assert rendered.format == "PNG"
        assert rendered.mode == "L"
        assert rendered.size == (1728, round(1100 * 204 / 98))


async def test_a_pdf_whose_streams_inflate_past_the_budget_is_rejected_before_any_tool_runs() -> None:
    bomb = pdf_with_stream(zeros_deflated(32 * 1024 * 1024))
    assert len(bomb) < 100_000
    outcome = await inspect_document(bomb, DocumentLimits(max_decompressed_bytes=8 * 1024 * 1024))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"
    assert outcome.raw == bomb


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "document-type-not-allowed"),
        (b"MZ\x90\x00", "document-type-not-allowed"),
        (b"II*\x00" + b"\xff" * 64, "unreadable-document"),
    ],
    ids=["png", "executable", "damaged-tiff"],
)
async def test_documents_that_are_not_a_readable_pdf_or_tiff_are_rejected(document: bytes, code: str) -> None:
    outcome = await inspect_document(document)
    assert isinstance(outcome, Rejected)
    assert outcome.code == code


async def test_a_document_over_the_size_limit_is_rejected() -> None:
    outcome = await inspect_document(tiff_pages(1), DocumentLimits(max_bytes=100))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "document-too-large"
