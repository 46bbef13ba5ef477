"""Real tesseract reads a fax page the test draws; real poppler inspects and renders PDFs."""

from __future__ import annotations

import io

import pytest
from intake_channels_harness import as_pdf, as_tiff, fax_page
from PIL import Image

from intake.channels import Rejected
from intake.channels.fax import (
    DocumentInfo,
    DocumentLimits,
    DocumentText,
    OcrError,
    OcrSettings,
    extract_ticket_hints,
    inspect_document,
    ocr_image,
    read_document,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("document_tools")]

FAX_LINES = (
    "SERVICE REQUEST",
    "Name: Anna Berg",
    "Phone: 030 1234567",
    "Serial No: SN-4711-ABC-0042",
    "Fault: the dishwasher is leaking water",
)


def raw_pdf(page_box: str, page_extra: bytes = b"", *extra_objects: bytes) -> bytes:
    """A hand-written one-page PDF (objects 4… are ``extra_objects``) with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [" + page_box.encode() + b"] " + page_extra + b">>",
        *extra_objects,
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 " + str(len(objects) + 1).encode() + b"\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size " + str(len(objects) + 1).encode() + b" /Root 1 0 R >>\nstartxref\n"
    return out + str(xref).encode() + b"\n%%EOF\n"


@pytest.mark.parametrize("encode", [as_tiff, as_pdf], ids=["tiff", "pdf"])
async def test_ocr_of_a_fax_page_finds_the_serial_number_phone_and_fault(encode: object) -> None:
    document = encode(fax_page(*FAX_LINES))  # type: ignore[operator]

    reading = await read_document(document)

    assert isinstance(reading, DocumentText), reading
    hints = extract_ticket_hints(reading.text, default_region="DE")
    assert hints.serial_numbers == ("SN-4711-ABC-0042",)
    assert hints.phone_numbers == ("+49301234567",)
    assert hints.fault_description is not None
    assert "leaking water" in hints.fault_description


async def test_a_pdf_page_box_that_renders_to_gigapixels_is_rejected_before_rendering() -> None:
    outcome = await inspect_document(raw_pdf("0 0 14400 14400"))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"
    assert "60000x60000" in outcome.reason


async def test_a_pdf_image_declaring_gigapixels_is_rejected_before_rendering() -> None:
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length 8 >>\n"
        b"stream\nx\x9c\x03\x00\x00\x00\x00\x01\nendstream"
    )
    draw = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    contents = b"<< /Length " + str(len(draw)).encode() + b" >>\nstream\n" + draw + b"\nendstream"
    page_extra = b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R "
    document = raw_pdf("0 0 612 792", page_extra, image, contents)
    outcome = await inspect_document(document)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "decompression-bomb"
    assert "100000x100000" in outcome.reason


async def test_a_pdf_with_more_pages_than_allowed_is_rejected() -> None:
    page = Image.new("1", (200, 200), 1)
    outcome = await inspect_document(as_pdf(page, page, page, page), DocumentLimits(max_pages=3))
    assert isinstance(outcome, Rejected)
    assert outcome.code == "too-many-pages"


async def test_a_damaged_pdf_is_rejected_as_unreadable() -> None:
    outcome = await inspect_document(b"%PDF-1.4\n" + b"\x00garbage" * 100)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "unreadable-document"


async def test_a_good_pdf_is_inspected_page_by_page_at_render_resolution() -> None:
    letter_at_200_dpi = Image.new("1", (1700, 2200), 1)  # 612 x 792 points
    info = await inspect_document(
        as_pdf(letter_at_200_dpi, fax_page(*FAX_LINES)), DocumentLimits(render_dpi=150)
    )
    assert isinstance(info, DocumentInfo)
    assert info.page_count == 2
    assert (info.pages[0].width_px, info.pages[0].height_px) == (1275, 1650)


async def test_a_missing_ocr_language_is_an_engine_error_to_retry_not_a_bad_document() -> None:
    buffer = io.BytesIO()
    fax_page(*FAX_LINES).save(buffer, format="PNG")
    with pytest.raises(OcrError):
        await ocr_image(buffer.getvalue(), OcrSettings(language="xxx-not-installed"))
