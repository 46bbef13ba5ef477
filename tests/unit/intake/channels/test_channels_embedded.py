"""The channels served in the embedded mode (`make run`): SQLite file, in-process transport, no servers.

The real-infrastructure behaviour is proven by tests/integration/intake/channels; this checks the same
wiring also runs where developers start it: a call missed, a mail taken, a hostile mail quarantined.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from intake.app import service
from intake.channels.settings import ChannelSettings, configure_channels
from kit.app import create_app
from kit.auth import mint_token
from kit.clock import ManualClock
from kit.settings import Settings
from messaging.inprocess import InProcessBroker

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
TOKEN = "cti-" + uuid.uuid4().hex


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, Settings]]:
    definition = dataclasses.replace(service, name="intake_" + uuid.uuid4().hex[:8])
    configure_channels(definition.name, ChannelSettings(cti_tokens=(TOKEN,), email_max_parts=50))
    settings = Settings(environment="test", data_dir=tmp_path)
    app = create_app(definition, settings=settings, clock=ManualClock(T0), broker=InProcessBroker())
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                yield client, definition.prefix, settings
    finally:
        configure_channels(definition.name, None)


async def test_the_channels_run_embedded_on_sqlite(embedded: tuple[httpx.AsyncClient, str, Settings]) -> None:
    client, prefix, settings = embedded
    agent = {"Authorization": "Bearer " + mint_token(settings, subject="anna", roles=["agent"])}
    supervisor = {"Authorization": "Bearer " + mint_token(settings, subject="sam", roles=["supervisor"])}
    pbx = {"Authorization": f"Bearer {TOKEN}"}

    await client.post(
        f"{prefix}/hotline/cti", data={"event": "newCall", "callId": "c1", "from": "0301234567"}, headers=pbx
    )
    hangup = await client.post(
        f"{prefix}/hotline/cti", data={"event": "hangup", "callId": "c1", "cause": "cancel"}, headers=pbx
    )
    assert hangup.status_code == 200, hangup.text
    callbacks = (await client.get(f"{prefix}/callbacks", headers=agent)).json()["items"]
    assert [c["call_id"] for c in callbacks] == ["c1"]

    mail = b"From: anna@example.com\r\nSubject: Oven broken\r\nMessage-ID: <e1@example.com>\r\n\r\nIt does not heat.\r\n"
    taken = await client.post(
        f"{prefix}/emails", content=mail, headers={**agent, "Content-Type": "message/rfc822"}
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["status"] == "ticket_opened"
    again = await client.post(
        f"{prefix}/emails", content=mail, headers={**agent, "Content-Type": "message/rfc822"}
    )
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")

    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(100))
    bomb = b"From: m@example.com\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + parts + b"--B--\r\n"
    refused = await client.post(
        f"{prefix}/emails", content=bomb, headers={**agent, "Content-Type": "message/rfc822"}
    )
    assert refused.status_code == 422
    held = (await client.get(f"{prefix}/quarantine", headers=supervisor)).json()["items"]
    assert [item["reason_code"] for item in held] == ["too-many-parts"]
