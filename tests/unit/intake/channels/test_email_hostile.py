"""Hostile mail: every limit gives a Rejected outcome with the raw bytes kept; broken encodings degrade
to replacement characters with a note. Nothing raises, nothing is dropped."""

from __future__ import annotations

import random

import pytest

from intake.channels import Rejected
from intake.channels.email import EmailLimits, InboundEmail, parse_email

HEAD = b"From: a@example.com\r\nTo: support@service.example\r\nMessage-ID: <h@example.com>\r\n"


def rejected(raw: bytes, limits: EmailLimits | None = None) -> Rejected:
    outcome = parse_email(raw, limits)
    assert isinstance(outcome, Rejected), outcome
    assert outcome.raw == raw, "the raw bytes must be kept for quarantine"
    assert outcome.reason
    return outcome


def parsed(raw: bytes) -> InboundEmail:
    outcome = parse_email(raw)
    assert isinstance(outcome, InboundEmail), outcome
    return outcome


def note_codes(email: InboundEmail) -> set[str]:
    return {note.code for note in email.notes}


def nested(depth: int) -> bytes:
    opening = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return HEAD + b"Subject: nest\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi" + closing


def test_oversized_message_is_rejected_before_parsing() -> None:
    raw = HEAD + b"Subject: big\r\n\r\n" + b"x" * 2048
    outcome = rejected(raw, EmailLimits(max_message_bytes=1024))
    assert outcome.code == "message-too-large"


def test_thousands_of_mime_parts_are_rejected() -> None:
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5000))
    raw = HEAD + b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"
    assert rejected(raw).code == "too-many-parts"


def test_thousands_of_nested_containers_are_rejected_before_the_recursive_parser_runs() -> None:
    assert rejected(nested(5000)).code == "too-many-parts"


def test_nesting_deeper_than_the_limit_is_rejected() -> None:
    assert rejected(nested(30)).code == "nesting-too-deep"
    assert isinstance(parse_email(nested(5)), InboundEmail)


def test_thousands_of_headers_are_rejected() -> None:
    raw = HEAD + b"".join(b"X-Filler-%d: y\r\n" % i for i in range(2000)) + b"Subject: h\r\n\r\nbody\r\n"
    assert rejected(raw).code == "too-many-headers"


def test_an_endless_folded_header_is_rejected() -> None:
    raw = HEAD + b"Subject: start\r\n" + b" more\r\n" * 20_000 + b"\r\nbody\r\n"
    assert rejected(raw).code == "header-too-long"


def test_encoded_line_breaks_in_the_subject_cannot_inject_headers() -> None:
    email = parsed(HEAD + b"Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@example.org?=\r\n\r\nbody\r\n")
    assert "\r" not in email.subject
    assert "\n" not in email.subject
    assert email.subject == "Hello  Bcc: victim@example.org"
    assert "header-injection-neutralised" in note_codes(email)
    assert all("\n" not in value and "\r" not in value for _, value in email.headers)


def test_line_breaks_in_a_display_name_are_neutralised() -> None:
    email = parsed(
        b"From: =?utf-8?q?Eve=0D=0ATo=3A_all=40example=2Eorg?= <eve@example.com>\r\n"
        b"Subject: x\r\n\r\nbody\r\n"
    )
    assert email.from_name == "Eve  To: all@example.org"
    assert email.from_address == "eve@example.com"


def test_unknown_charset_degrades_to_replacement_characters_with_a_note() -> None:
    email = parsed(
        HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nK\xfchl\r\n"
    )
    assert email.text == "K\ufffdhl"
    assert "bad-charset" in note_codes(email)


def test_a_non_text_codec_named_as_charset_is_not_used() -> None:
    email = parsed(HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=base64\r\n\r\naGVsbG8=\r\n")
    assert email.text == "aGVsbG8="
    assert "bad-charset" in note_codes(email)


def test_bytes_invalid_in_the_declared_charset_are_replaced_and_noted() -> None:
    email = parsed(HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \xff\xfe ok\r\n")
    assert email.text == "ok \ufffd\ufffd ok"
    assert "undecodable-bytes" in note_codes(email)


def test_broken_base64_body_keeps_what_can_be_read_with_a_note() -> None:
    email = parsed(
        HEAD + b"Subject: x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"SGVsbG8gd29ybGQ!!!*\r\n"
    )
    assert email.text.startswith("Hello world")
    assert "bad-base64" in note_codes(email)


def test_broken_quoted_printable_is_kept_literally_with_a_note() -> None:
    email = parsed(
        HEAD + b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nPrice =ZZ 5 =C3=A4\r\n"
    )
    assert email.text == "Price =ZZ 5 ä"
    assert "bad-quoted-printable" in note_codes(email)


def test_garbage_encoded_words_become_replacement_characters() -> None:
    email = parsed(HEAD + b"Subject: =?utf-8?b?!!!notbase64?= and =?no-such?q?caf=E9?=\r\n\r\nx\r\n")
    assert email.subject == "\ufffd and caf\ufffd"
    assert {"bad-encoded-word", "bad-charset"} <= note_codes(email)


def test_raw_eight_bit_headers_are_read_as_utf8_with_bad_bytes_replaced() -> None:
    email = parsed(HEAD + b"Subject: K\xc3\xbchlschrank \xff kaputt\r\n\r\nx\r\n")
    assert email.subject == "K\u00fchlschrank \ufffd kaputt"
    assert "undecodable-header" in note_codes(email)


def test_bad_date_is_noted_not_fatal() -> None:
    email = parsed(HEAD + b"Subject: x\r\nDate: the day after tomorrow\r\n\r\nx\r\n")
    assert email.date is None
    assert "bad-date" in note_codes(email)


def test_executable_attachment_is_rejected_even_when_it_claims_to_be_a_pdf() -> None:
    raw = (
        HEAD + b"Subject: invoice\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: application/pdf; name=invoice.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAA\r\n--XX--\r\n"
    )
    outcome = rejected(raw)
    assert outcome.code == "attachment-type-not-allowed"
    assert "application/x-msdownload" in outcome.reason


def test_too_many_attachments_are_rejected() -> None:
    parts = b"".join(
        b"--XX\r\nContent-Type: text/plain; name=n%d.txt\r\n\r\nnote %d\r\n" % (i, i) for i in range(5)
    )
    raw = HEAD + b"Subject: x\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n" + parts + b"--XX--\r\n"
    assert rejected(raw, EmailLimits(max_attachments=3)).code == "too-many-attachments"


def test_an_attachment_over_the_size_limit_is_rejected() -> None:
    raw = (
        HEAD + b"Subject: x\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; name=log.txt\r\n\r\n" + b"a" * 4096 + b"\r\n--XX--\r\n"
    )
    assert rejected(raw, EmailLimits(max_attachment_bytes=1024)).code == "attachment-too-large"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "empty-message"),
        (b"   \r\n", "empty-message"),
        (b"\x00\x01\x02 binary garbage without headers", "not-an-email"),
    ],
)
def test_input_that_is_not_a_message_is_rejected(raw: bytes, code: str) -> None:
    assert rejected(raw).code == code


def test_missing_boundaries_are_noted_as_damaged_structure() -> None:
    email = parsed(
        HEAD + b"Subject: x\r\nContent-Type: multipart/mixed; boundary=NOPE\r\n\r\nno parts here at all\r\n"
    )
    assert "malformed-structure" in note_codes(email)


def test_mutated_messages_never_raise() -> None:
    seed_message = (
        HEAD + b"Subject: =?utf-8?q?K=C3=BChlschrank?=\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Hallo =C3=A4\r\n--XX\r\nContent-Type: application/pdf; name*=utf-8''a%20b.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
    )
    generator = random.Random(20260105)
    alphabet = b"\x00\r\n=?<>:;\"'\\-_ \xff\xc3abQB"
    for _ in range(300):
        mutated = bytearray(seed_message)
        for _ in range(generator.randint(1, 12)):
            position = generator.randrange(len(mutated))
            mutated[position] = generator.choice(alphabet)
        outcome = parse_email(bytes(mutated))
        assert isinstance(outcome, InboundEmail | Rejected)


def test_an_html_body_of_unterminated_comments_renders_to_nothing_without_stalling() -> None:
    email = parsed(
        HEAD + b"Subject: x\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>" + b"<!--" * 250_000 + b"\r\n"
    )
    assert email.text == "Hi"


def test_html_beyond_the_limit_is_cut_with_a_note() -> None:
    raw = (
        HEAD
        + b"Subject: x\r\nContent-Type: text/html\r\n\r\n<p>start</p>"
        + b"<b>x</b>" * 1000
        + b"<p>END</p>\r\n"
    )
    outcome = parse_email(raw, EmailLimits(max_html_chars=500))
    assert isinstance(outcome, InboundEmail)
    assert outcome.text.startswith("start")
    assert "END" not in outcome.text
    assert "html-truncated" in note_codes(outcome)
