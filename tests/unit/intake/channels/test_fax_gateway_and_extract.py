"""Faxes through a fax-to-email gateway, and the ticket hints pulled from fax text."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from intake.channels import Rejected
from intake.channels.email import InboundEmail, parse_email
from intake.channels.fax import (
    FaxGateway,
    InboundFax,
    extract_ticket_hints,
    fax_from_email,
    find_fault_description,
    find_serial_numbers,
    normalise_phone,
)
from intake.channels.sniff import sniff_content_type

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 40
GATEWAY = FaxGateway(addresses=("fax-gateway@pbx.example",))


def gateway_mail(
    subject: bytes, *, attachment: bytes | None = TIFF, sender: bytes = b"fax-gateway@pbx.example"
) -> InboundEmail:
    raw = b"From: " + sender + b"\r\nSubject: " + subject + b"\r\nMessage-ID: <fx1@pbx.example>\r\n"
    if attachment is None:
        raw += b"\r\nA fax arrived but the document is missing.\r\n"
    else:
        raw += (
            b"Content-Type: multipart/mixed; boundary=G\r\n\r\n"
            b"--G\r\nContent-Type: text/plain\r\n\r\nFax received.\r\n"
            b"--G\r\nContent-Type: image/tiff; name=fax.tif\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(attachment)
            + b"\r\n--G--\r\n"
        )
    email = parse_email(raw)
    assert isinstance(email, InboundEmail), email
    return email


def test_a_gateway_mail_becomes_a_fax_with_the_caller_number_in_e164() -> None:
    fax = fax_from_email(gateway_mail(b"Fax from 030 1234567 (3 pages)"), GATEWAY, received_at=NOW)
    assert isinstance(fax, InboundFax), fax
    assert fax.channel == "email-gateway"
    assert fax.sender_number == "+49301234567"
    assert fax.sender_raw == "030 1234567"
    assert fax.pages == 3
    assert fax.document.content_type == "image/tiff"
    assert fax.document.data == TIFF
    assert fax.received_at == NOW


def test_an_ordinary_email_is_not_a_fax() -> None:
    assert (
        fax_from_email(
            gateway_mail(b"Fax from 030 1234567", sender=b"anna@example.com"), GATEWAY, received_at=NOW
        )
        is None
    )


def test_a_gateway_mail_without_a_document_is_rejected_for_quarantine() -> None:
    email = gateway_mail(b"Fax from 030 1234567", attachment=None)
    outcome = fax_from_email(email, GATEWAY, received_at=NOW)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "no-fax-document"
    assert outcome.raw == email.raw


def test_a_gateway_mail_with_an_unreadable_number_still_arrives_with_a_note() -> None:
    fax = fax_from_email(gateway_mail(b"New fax received"), GATEWAY, received_at=NOW)
    assert isinstance(fax, InboundFax)
    assert fax.sender_number is None
    assert "sender-number-unreadable" in {note.code for note in fax.notes}


def test_serial_numbers_are_found_by_their_label_and_upper_cased() -> None:
    text = "Model KX-200\nSerial No.: sn-4711-abc-0042\nS/N AB123456\nSerial number: unknown"
    assert find_serial_numbers(text) == ("SN-4711-ABC-0042", "AB123456")


def test_serial_patterns_are_configurable() -> None:
    own_format = re.compile(r"\b(?P<serial>KX\d{8})\b")
    assert find_serial_numbers("unit KX20251234 installed", [own_format]) == ("KX20251234",)


def test_phone_numbers_are_normalised_to_e164_in_the_default_region() -> None:
    hints = extract_ticket_hints("Call me: 030 1234567 or mobile +49 171 2345678, office (415) 555-2671")
    assert hints.phone_numbers == ("+49301234567", "+491712345678")
    assert extract_ticket_hints("office (415) 555-2671", default_region="US").phone_numbers == (
        "+14155552671",
    )
    assert normalise_phone("12", "DE") is None


def test_the_labelled_fault_is_the_description() -> None:
    text = "Name: Anna Berg\nFault: the dishwasher is leaking\nwater at the front door\n\nPhone: 030 1234567"
    assert find_fault_description(text) == "the dishwasher is leaking water at the front door"


def test_without_a_label_the_paragraph_describing_a_fault_is_taken() -> None:
    text = "Dear service,\n\nOur washing machine stopped mid-cycle and shows error E21.\n\nRegards"
    assert find_fault_description(text) == "Our washing machine stopped mid-cycle and shows error E21."
    assert find_fault_description("Please send a brochure.") is None


def test_content_types_come_from_bytes() -> None:
    assert sniff_content_type(b"%PDF-1.7\n") == "application/pdf"
    assert sniff_content_type(b"MM\x00*rest") == "image/tiff"
    assert sniff_content_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_content_type("Grüße aus Köln".encode()) == "text/plain"
    assert sniff_content_type(b"<!DOCTYPE html><p>x") == "text/html"
    assert sniff_content_type(b"\x00\x01\x02\x03") == "application/octet-stream"
