"""Parsing ordinary customer mail: the fields intake threads, matches and stores come out decoded."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from intake.channels import Rejected
from intake.channels.email import InboundEmail, parse_email
from intake.channels.email.quotes import strip_quoted_reply

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def parsed(raw: bytes) -> InboundEmail:
    outcome = parse_email(raw)
    assert isinstance(outcome, InboundEmail), outcome
    return outcome


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def test_plain_message_gives_sender_subject_date_and_text() -> None:
    email = parsed(
        b"From: Anna Berg <Anna.Berg@Example.COM>\r\n"
        b"To: Support <support@service.example>\r\n"
        b"Cc: kitchen@berg.example\r\n"
        b"Subject: Dishwasher leaking\r\n"
        b"Date: Mon, 05 Jan 2026 10:15:00 +0100\r\n"
        b"Message-ID: <m1@example.com>\r\n"
        b"\r\n"
        b"Water under the dishwasher since Friday.\r\n"
    )
    assert email.from_address == "Anna.Berg@example.com"
    assert email.from_name == "Anna Berg"
    assert [a.address for a in email.to] == ["support@service.example"]
    assert [a.address for a in email.cc] == ["kitchen@berg.example"]
    assert email.subject == "Dishwasher leaking"
    assert email.date == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert email.message_id == "<m1@example.com>"
    assert email.text == "Water under the dishwasher since Friday."
    assert email.text_source == "plain"
    assert email.notes == ()


def test_reply_headers_are_kept_for_threading() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: Re: [#T-2026-000123] Dishwasher\r\n"
        b"Message-ID: <reply@example.com>\r\n"
        b"In-Reply-To: <ack-1@service.example>\r\n"
        b"References: <first@example.com>\r\n <ack-1@service.example>\r\n"
        b"\r\nIt is still leaking.\r\n"
    )
    assert email.in_reply_to == "<ack-1@service.example>"
    assert email.references == ("<first@example.com>", "<ack-1@service.example>")


def test_encoded_words_in_headers_are_decoded() -> None:
    email = parsed(
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n"
        b"Subject: =?UTF-8?B?U3DDvGxtYXNjaGluZQ==?= =?iso-8859-1?q?_l=E4uft_aus?=\r\n\r\nText\r\n"
    )
    assert email.from_name == "Jürgen Müller"
    assert email.subject == "Spülmaschine läuft aus"


def test_multipart_alternative_prefers_the_plain_text() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/alternative; boundary=AA\r\n\r\n"
        b"--AA\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain version\r\n"
        b"--AA\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML version</p>\r\n"
        b"--AA--\r\n"
    )
    assert email.text == "Plain version"
    assert email.text_source == "plain"


def test_html_only_body_is_rendered_as_text_without_script_or_style() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><title>T</title><style>p{color:red}</style></head><body>"
        b"<p>The fridge &amp; freezer</p><script>alert('x')</script><p>stopped&nbsp;cooling.</p>"
        b"<ul><li>model KX-200</li></ul><br>Thanks</body></html>\r\n"
    )
    assert email.text_source == "html"
    assert "alert" not in email.text
    assert "color" not in email.text
    assert "The fridge & freezer" in email.text
    assert "stopped cooling." in email.text
    assert "- model KX-200" in email.text


def test_html_entities_and_a_bare_less_than_sign_survive_rendering() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Temperature &lt; 5 &deg;C when door < 1 cm open</p><!-- tracking --><img src=x>\r\n"
    )
    assert email.text == "Temperature < 5 \u00b0C when door < 1 cm open"


def test_attachments_are_typed_from_their_bytes_and_named_safely() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: receipt\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nReceipt attached.\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../etc/receipt.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF) + b"--XX\r\n"
        b"Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(PNG) + b"--XX--\r\n"
    )
    receipt, logo = email.attachments
    assert receipt.filename == "receipt.pdf"
    assert receipt.content_type == "application/pdf"
    assert receipt.declared_content_type == "application/octet-stream"
    assert receipt.size == len(PDF)
    assert receipt.sha256 == hashlib.sha256(PDF).hexdigest()
    assert receipt.data == PDF
    assert logo.content_type == "image/png"
    assert logo.inline
    assert logo.content_id == "logo@x"
    assert logo.filename == "attachment-2.png"
    assert email.text == "Receipt attached."


def test_rfc2231_and_encoded_filenames_are_decoded() -> None:
    email = parsed(
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''Rechnung%20K%C3%BChlschrank.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF) + b"--XX\r\n"
        b'Content-Type: application/pdf; name="=?utf-8?q?Garantie=5Fschein.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF) + b"--XX--\r\n"
    )
    assert [a.filename for a in email.attachments] == ["Rechnung Kühlschrank.pdf", "Garantie_schein.pdf"]


def test_forwarded_message_is_one_attachment_and_not_the_body() -> None:
    inner = b"From: dealer@shop.example\r\nSubject: Your order\r\n\r\nDelivered on 2 January.\r\n"
    email = parsed(
        b"From: a@example.com\r\nSubject: Fwd: order\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee the dealer's mail below.\r\n"
        b"--XX\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--XX--\r\n"
    )
    assert email.text == "See the dealer's mail below."
    (forwarded,) = email.attachments
    assert forwarded.content_type == "message/rfc822"
    assert b"Delivered on 2 January." in forwarded.data


def test_message_without_message_id_gets_a_content_hash_key_and_a_note() -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n"
    email = parsed(raw)
    assert email.message_id is None
    assert email.dedup_key == f"<sha256:{hashlib.sha256(raw).hexdigest()}>"
    assert "missing-message-id" in {note.code for note in email.notes}


def test_reply_address_prefers_reply_to() -> None:
    email = parsed(
        b"From: noreply@shop.example\r\nReply-To: Anna <anna@example.com>\r\nSubject: x\r\n\r\nx\r\n"
    )
    assert email.reply_address == "anna@example.com"


def test_quoted_history_and_signature_are_cut_from_the_reply_text() -> None:
    text = (
        "The technician did not come today.\n\n"
        "-- \nAnna Berg\n\n"
        "On Mon, 5 Jan 2026 at 10:00, Service <support@service.example> wrote:\n"
        "> We have registered your request.\n"
    )
    assert strip_quoted_reply(text) == "The technician did not come today."


def test_outlook_style_history_is_cut() -> None:
    text = (
        "Tuesday morning works for us.\n\n"
        "________________________________\n"
        "From: Service <support@service.example>\n"
        "Sent: Monday, 5 January 2026 10:00\n"
        "Subject: Appointment\n\nWhen may we come?\n"
    )
    assert strip_quoted_reply(text) == "Tuesday morning works for us."


def test_german_attribution_and_trailing_quote_block_are_cut() -> None:
    text = "Geht klar.\n\nAm 05.01.2026 um 10:00 schrieb Service <s@x.de>:\n> Termin?\n"
    assert strip_quoted_reply(text) == "Geht klar."
    assert strip_quoted_reply("Yes.\n\n> earlier text\n> more\n") == "Yes."


def test_inline_answers_between_quotes_are_kept() -> None:
    text = "> Which model?\nKX-200\n> Since when?\nSince Friday\n"
    assert strip_quoted_reply(text) == text.strip()


def test_a_bare_forward_keeps_its_text() -> None:
    text = "---------- Forwarded message ----------\nFrom: dealer@shop.example\n\nDelivered on 2 January."
    assert strip_quoted_reply(text) == text


def test_rejected_outcome_keeps_raw_bytes_and_is_readable() -> None:
    raw = b"\r\n\r\n"
    outcome = parse_email(raw)
    assert isinstance(outcome, Rejected)
    assert outcome.code == "empty-message"
    assert outcome.raw == raw
    assert "bytes>" in repr(outcome)
