"""The fax channel of the served intake on PostgreSQL and RabbitMQ: the provider's webhook and the
fax-to-email gateway store the document, real tesseract reads a page the test draws, and the reading
pre-fills a ticket for the matched customer. Bombs are quarantined before anything renders them."""

from __future__ import annotations

import base64
import json
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from intake_channels_harness import (
    AGENT,
    FAX_TOKEN,
    SUPERVISOR,
    T0,
    IntakeUnderTest,
    Served,
    as_pdf,
    as_tiff,
    eventually,
    fax_page,
    of_type,
    running_intake,
)
from PIL import Image

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("document_tools")]

GATEWAY = "fax-gateway@faxes.example"


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[IntakeUnderTest]:
    async with running_intake() as under_test:
        yield under_test


@pytest.fixture
async def served(intake: IntakeUnderTest) -> AsyncIterator[Served]:
    intake.configure(fax_gateway_addresses=(GATEWAY,), fax_max_page_pixels=10_000_000)
    async with intake.serve() as running:
        yield running


def tiff_declaring(width: int, height: int) -> bytes:
    """A TIFF of a few hundred bytes whose header claims ``width`` x ``height`` bilevel pixels."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 4), (262, 3, 0), (273, 4, 0)]
    entries += [(277, 3, 1), (278, 4, height), (279, 4, 16)]
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


def pdf_inflating_to(size: int) -> bytes:
    """A PDF of a few kilobytes whose one stream inflates to ``size`` bytes of zeros."""
    stream = zlib.compress(b"\x00" * size, 9)
    head = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    body = b"4 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
    return head + body + stream + b"\nendstream\nendobj\n%%EOF\n"


async def deliver(served: Served, intake: IntakeUnderTest, document: bytes, **fields: Any) -> httpx.Response:
    payload = {
        "fax_id": fields.pop("fax_id", "prov-" + uuid.uuid4().hex[:10]),
        "from": "+49 30 9999999",
        "to": "+49 800 1234567",
        "pages": 1,
        "received_at": T0.isoformat(),
        "document": base64.b64encode(document).decode(),
        **fields,
    }
    return await served.client.post(
        f"{intake.prefix}/fax/inbound", json=payload, headers={"Authorization": f"Bearer {FAX_TOKEN}"}
    )


async def fax_when(served: Served, intake: IntakeUnderTest, fax_id: str, *statuses: str) -> dict[str, Any]:
    response = await eventually(
        lambda: served.client.get(f"{intake.prefix}/faxes/{fax_id}", headers=intake.auth(*AGENT)),
        until=lambda r: r.json()["status"] in statuses,
        within=60,
        what=f"fax {fax_id} to be {' or '.join(statuses)}",
    )
    fax: dict[str, Any] = response.json()
    return fax


async def test_a_provider_fax_is_read_and_opens_a_pre_filled_ticket_for_the_customer_who_sent_it(
    intake: IntakeUnderTest, served: Served
) -> None:
    number = f"+4930{uuid.uuid4().int % 10_000_000:07d}"
    registered = await served.client.post(
        f"{intake.prefix}/customers",
        json={"kind": "company", "name": "Bäckerei Krume", "phones": [{"number": number}]},
        headers=intake.auth(*AGENT),
    )
    assert registered.status_code == 201, registered.text
    page = fax_page(
        "SERVICE REQUEST",
        "Company: Baeckerei Krume",
        "Serial No: SN-4711-ABC-0042",
        "Fault: the dishwasher is leaking water",
    )
    document = as_tiff(page)

    delivered = await deliver(served, intake, document, fax_id="prov-4711", **{"from": number})
    assert delivered.status_code == 202, delivered.text
    fax_id = delivered.json()["fax_id"]
    again = await deliver(served, intake, document, fax_id="prov-4711", **{"from": number})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate", "fax_id": fax_id})

    fax = await fax_when(served, intake, fax_id, "ticket_opened")
    assert fax["serial_numbers"] == ["SN-4711-ABC-0042"]
    assert "leaking water" in (fax["fault_description"] or "")
    assert fax["customer_id"] == registered.json()["id"]
    created = await intake.next_event(of_type("intake.ticket.created.v1", ticket_id=fax["ticket_id"]))
    details = created["data"]["details"]
    assert details["channel"] == "fax"
    assert details["customer_id"] == registered.json()["id"]
    assert details["product"]["serial_number"] == "SN-4711-ABC-0042"
    assert "leaking water" in details["fault_description"]
    assert created["data"]["opened_at"].startswith("2026-03-09T09:00:00")  # from the fax's receipt
    assert [a["content_type"] for a in details["attachments"]] == ["image/tiff"]

    kept = await served.client.get(f"{intake.prefix}/faxes/{fax_id}/document", headers=intake.auth(*AGENT))
    assert kept.content == document


async def test_a_fax_through_the_email_gateway_is_read_like_any_other(
    intake: IntakeUnderTest, served: Served
) -> None:
    message = EmailMessage()
    message["From"] = GATEWAY
    message["To"] = "support@service.example"
    message["Subject"] = "Fax from +49 40 7654321, 1 page"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@faxes.example>"
    message.set_content("You have received a fax.")
    page = fax_page("Please repair our oven", "Serial No: OV-2020-77812", "Fault: the oven does not heat")
    message.add_attachment(as_pdf(page), maintype="application", subtype="pdf", filename="fax.pdf")

    uploaded = await served.client.post(
        f"{intake.prefix}/emails",
        content=message.as_bytes(),
        headers={**intake.auth(*AGENT), "Content-Type": "message/rfc822"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["status"] == "fax"
    fax = await fax_when(served, intake, uploaded.json()["fax_id"], "ticket_opened")
    assert fax["channel"] == "email-gateway"
    assert fax["sender_number"] == "+49407654321"
    assert fax["serial_numbers"] == ["OV-2020-77812"]


@pytest.mark.parametrize(
    ("document", "what"),
    [
        (tiff_declaring(100_000, 100_000), "a TIFF page of ten gigapixels"),
        (pdf_inflating_to(300 * 1024 * 1024), "a PDF stream inflating to 300 MB"),
    ],
    ids=["tiff", "pdf"],
)
async def test_a_decompression_bomb_is_quarantined_before_anything_renders_it(
    intake: IntakeUnderTest, served: Served, document: bytes, what: str
) -> None:
    delivered = await deliver(served, intake, document)
    assert delivered.status_code == 202, delivered.text
    fax = await fax_when(served, intake, delivered.json()["fax_id"], "quarantined", "ticket_opened")
    assert fax["status"] == "quarantined", what
    assert fax["ticket_id"] is None
    item = await served.client.get(
        f"{intake.prefix}/quarantine/{fax['quarantine_id']}", headers=intake.auth(*SUPERVISOR)
    )
    assert item.json()["reason_code"] == "decompression-bomb"
    assert item.json()["channel"] == "fax"
    assert (await served.client.get(f"{intake.prefix}/faxes", headers=intake.auth(*AGENT))).status_code == 200


async def test_a_document_over_the_pixel_limit_is_read_once_released_under_a_raised_limit(
    intake: IntakeUnderTest, served: Served
) -> None:
    big_page = Image.new("1", (4000, 4000), 1)  # sixteen megapixels; the limit here is ten
    delivered = await deliver(served, intake, as_tiff(big_page))
    fax = await fax_when(served, intake, delivered.json()["fax_id"], "quarantined")
    boss = intake.auth(*SUPERVISOR)

    intake.configure(fax_gateway_addresses=(GATEWAY,), fax_max_page_pixels=20_000_000)
    released = await served.client.post(
        f"{intake.prefix}/quarantine/{fax['quarantine_id']}/release", headers=boss
    )
    assert released.json()["released"] is True, released.text
    fax = await fax_when(served, intake, fax["id"], "ticket_opened")
    assert fax["ticket_id"] is not None
    item = (
        await served.client.get(f"{intake.prefix}/quarantine/{fax['quarantine_id']}", headers=boss)
    ).json()
    assert item["status"] == "released"
    assert [entry["action"] for entry in item["history"]] == ["quarantine.held", "quarantine.released"]


async def test_the_webhook_refuses_strangers_and_keeps_what_it_cannot_read(
    intake: IntakeUnderTest, served: Served
) -> None:
    boss = intake.auth(*SUPERVISOR)
    held_before = (await served.client.get(f"{intake.prefix}/quarantine/counts", headers=boss)).json()["held"]
    stranger = await served.client.post(
        f"{intake.prefix}/fax/inbound", json={"document": "AAAA"}, headers={"Authorization": "Bearer guess"}
    )
    assert stranger.status_code == 401
    held_after = (await served.client.get(f"{intake.prefix}/quarantine/counts", headers=boss)).json()["held"]
    assert held_after == held_before, "an unauthenticated stranger cannot fill the quarantine"

    not_a_fax = await served.client.post(
        f"{intake.prefix}/fax/inbound",
        json={
            "fax_id": "p-1",
            "from": "+49301111111",
            "document": base64.b64encode(b"MZ\x90\x00 an exe").decode(),
        },
        headers={"Authorization": f"Bearer {FAX_TOKEN}"},
    )
    assert not_a_fax.status_code == 422
    assert not_a_fax.json()["type"].endswith("document-type-not-allowed")
    item = await served.client.get(
        f"{intake.prefix}/quarantine/{not_a_fax.json()['quarantine_id']}", headers=intake.auth(*SUPERVISOR)
    )
    assert item.json()["source"] == "webhook"
    raw = await served.client.get(
        f"{intake.prefix}/quarantine/{not_a_fax.json()['quarantine_id']}/raw",
        headers=intake.auth(*SUPERVISOR),
    )
    assert json.loads(raw.content)["fax_id"] == "p-1", "the delivery is kept as it came"
