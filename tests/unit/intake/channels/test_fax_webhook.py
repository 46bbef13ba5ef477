"""A provider's fax webhook is accepted only when authentic and fresh, and read into an InboundFax."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from intake.channels import Rejected
from intake.channels.fax import (
    FaxWebhookFields,
    HmacSignatureAuth,
    InboundFax,
    SharedTokenAuth,
    parse_fax_webhook,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
AUTH = HmacSignatureAuth(secrets=("whsec_current",))


def json_body(**overrides: object) -> bytes:
    payload: dict[str, object] = {
        "fax_id": "fx-778",
        "from": "+49 30 1234567",
        "to": "030 7654321",
        "pages": 2,
        "received_at": "2026-01-05T08:59:30Z",
        "document": base64.b64encode(PDF).decode(),
    }
    payload.update(overrides)
    return json.dumps(payload).encode()


def signed(
    body: bytes, *, secret: str = "whsec_current", at: datetime = NOW, scheme: str = "sha256="
) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Fax-Timestamp": timestamp,
        "X-Fax-Signature": scheme + digest,
    }


def test_a_signed_json_fax_is_read_with_e164_numbers_and_the_document() -> None:
    body = json_body()
    fax = parse_fax_webhook(body, signed(body), auth=AUTH, now=NOW)
    assert isinstance(fax, InboundFax), fax
    assert fax.channel == "webhook"
    assert fax.provider_fax_id == "fx-778"
    assert fax.sender_number == "+49301234567"
    assert fax.recipient_number == "+49307654321"
    assert fax.pages == 2
    assert fax.received_at == datetime(2026, 1, 5, 8, 59, 30, tzinfo=UTC)
    assert fax.document.content_type == "application/pdf"
    assert fax.document.data == PDF
    assert fax.document.sha256 == hashlib.sha256(PDF).hexdigest()


def test_a_wrong_signature_is_rejected() -> None:
    body = json_body()
    headers = signed(body, secret="whsec_guess")
    outcome = parse_fax_webhook(body, headers, auth=AUTH, now=NOW)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "unauthenticated"


def test_a_body_changed_after_signing_is_rejected() -> None:
    headers = signed(json_body())
    outcome = parse_fax_webhook(json_body(**{"from": "+1 202 555 0100"}), headers, auth=AUTH, now=NOW)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "unauthenticated"


def test_a_replayed_delivery_outside_the_time_window_is_rejected() -> None:
    body = json_body()
    headers = signed(body, at=NOW - timedelta(minutes=6))
    outcome = parse_fax_webhook(body, headers, auth=AUTH, now=NOW)
    assert isinstance(outcome, Rejected)
    assert "window" in outcome.reason


def test_during_rotation_the_previous_secret_still_verifies() -> None:
    body = json_body()
    rotating = HmacSignatureAuth(secrets=("whsec_new", "whsec_current"))
    assert isinstance(parse_fax_webhook(body, signed(body), auth=rotating, now=NOW), InboundFax)


def test_standard_webhooks_style_base64_signature_is_accepted() -> None:
    body = json_body()
    timestamp = str(int(NOW.timestamp()))
    digest = hmac.new(b"whsec_current", timestamp.encode() + b"." + body, hashlib.sha256).digest()
    headers = {
        "content-type": "application/json",
        "x-fax-timestamp": timestamp,
        "x-fax-signature": "v1,bogus v1," + base64.b64encode(digest).decode(),
    }
    assert isinstance(parse_fax_webhook(body, headers, auth=AUTH, now=NOW), InboundFax)


@pytest.mark.parametrize(
    ("header", "accepted"), [("Bearer tok-1", True), ("tok-1", True), ("Bearer nope", False), ("", False)]
)
def test_shared_token_authentication(header: str, accepted: bool) -> None:
    body = json_body()
    outcome = parse_fax_webhook(
        body,
        {"Content-Type": "application/json", "Authorization": header},
        auth=SharedTokenAuth(tokens=("tok-1",)),
        now=NOW,
    )
    assert isinstance(outcome, InboundFax) is accepted


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        HmacSignatureAuth(secrets=("",))


def test_a_multipart_fax_with_the_document_as_a_file_part_is_read() -> None:
    body = (
        b'--F\r\nContent-Disposition: form-data; name="sender"\r\n\r\n0301234567\r\n'
        b'--F\r\nContent-Disposition: form-data; name="num_pages"\r\n\r\n1\r\n'
        b'--F\r\nContent-Disposition: form-data; name="media"; filename="fax.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + PDF + b"\r\n--F--\r\n"
    )
    headers = signed(body) | {"Content-Type": "multipart/form-data; boundary=F"}
    fields = FaxWebhookFields(sender="sender", pages="num_pages", document="media")
    fax = parse_fax_webhook(body, headers, auth=AUTH, now=NOW, fields=fields)
    assert isinstance(fax, InboundFax), fax
    assert fax.sender_number == "+49301234567"
    assert fax.pages == 1
    assert fax.document.data == PDF
    assert fax.received_at == NOW
    assert "received-time-missing" in {note.code for note in fax.notes}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (json_body(document=base64.b64encode(b"MZ\x90\x00 not a fax").decode()), "document-type-not-allowed"),
        (json_body(document="***not base64***"), "bad-document-encoding"),
        (json_body(document=None), "document-missing"),
        (b"[1, 2, 3]", "bad-payload"),
        (b"{" * 100_000, "bad-payload"),
    ],
)
def test_a_bad_payload_is_rejected_with_its_body_kept(body: bytes, code: str) -> None:
    outcome = parse_fax_webhook(body, signed(body), auth=AUTH, now=NOW)
    assert isinstance(outcome, Rejected)
    assert outcome.code == code
    assert outcome.raw == body


def test_an_unreadable_sender_number_is_noted_not_fatal() -> None:
    body = json_body(**{"from": "anonymous"})
    fax = parse_fax_webhook(body, signed(body), auth=AUTH, now=NOW)
    assert isinstance(fax, InboundFax)
    assert fax.sender_number is None
    assert fax.sender_raw == "anonymous"
    assert "sender-number-unreadable" in {note.code for note in fax.notes}
