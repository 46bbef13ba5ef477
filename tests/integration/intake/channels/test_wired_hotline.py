"""The hotline through the served API on PostgreSQL and RabbitMQ: the PBX's CTI webhook, the caller card,
ring time against the three-ring target, the call-back list with its escalation, tickets opened on calls."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from intake_channels_harness import (
    AGENT,
    CTI_TOKEN,
    SUPERVISOR,
    T0,
    IntakeUnderTest,
    Served,
    of_type,
    running_intake,
)

pytestmark = pytest.mark.integration

CALLER = "030 1234567"
CALLER_E164 = "+49301234567"


@pytest.fixture(scope="module")
async def intake() -> AsyncIterator[IntakeUnderTest]:
    async with running_intake() as under_test:
        yield under_test


@pytest.fixture
async def served(intake: IntakeUnderTest) -> AsyncIterator[Served]:
    async with intake.serve() as running:
        yield running


def new_call_id() -> str:
    return "pbx-" + uuid.uuid4().hex[:10]


async def cti(client: httpx.AsyncClient, intake: IntakeUnderTest, **fields: Any) -> httpx.Response:
    """A CTI event as a PBX posts it: form fields, the token in the Authorization header."""
    form = [(key.replace("user", "user[]") if key == "user" else key, value) for key, value in fields.items()]
    return await client.post(
        f"{intake.prefix}/hotline/cti",
        data=dict(form),
        headers={"Authorization": f"Bearer {CTI_TOKEN}"},
    )


async def ring_in(
    client: httpx.AsyncClient, intake: IntakeUnderTest, call_id: str, caller: str, **fields: Any
) -> httpx.Response:
    """A new inbound call from ``caller``, ringing at T0."""
    return await cti(
        client,
        intake,
        event="newCall",
        callId=call_id,
        **{"from": caller},
        direction="in",
        timestamp=T0.isoformat(),
        **fields,
    )


async def hang_up(
    client: httpx.AsyncClient, intake: IntakeUnderTest, call_id: str, *, cause: str, after: timedelta
) -> httpx.Response:
    """The inbound call ends ``after`` it began ringing, for ``cause``."""
    return await cti(
        client,
        intake,
        event="hangup",
        callId=call_id,
        cause=cause,
        direction="in",
        timestamp=(T0 + after).isoformat(),
    )


async def register_customer(client: httpx.AsyncClient, intake: IntakeUnderTest, phone: str, name: str) -> str:
    response = await client.post(
        f"{intake.prefix}/customers",
        json={"kind": "person", "name": name, "phones": [{"number": phone}]},
        headers=intake.auth(*AGENT),
    )
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


async def test_a_known_caller_is_on_the_agents_screen_and_a_late_answer_misses_the_three_rings(
    intake: IntakeUnderTest, served: Served
) -> None:
    client = served.client
    phone = f"030 {uuid.uuid4().int % 10_000_000:07d}"
    customer_id = await register_customer(client, intake, phone, "Anna Berg")
    call_id = new_call_id()

    ringing = await ring_in(client, intake, call_id, phone, to="0800 1234567", user="anna")
    assert ringing.status_code == 200, ringing.text
    card = ringing.json()["caller"]
    assert card["customer"]["id"] == customer_id
    assert card["customer"]["name"] == "Anna Berg"

    answered_at = T0 + timedelta(seconds=22)
    answer = await cti(
        client,
        intake,
        event="answer",
        callId=call_id,
        **{"from": phone},
        direction="in",
        user="anna",
        answeringNumber="anna",
        timestamp=answered_at.isoformat(),
    )
    assert answer.json()["call"]["within_target"] is False
    assert answer.json()["call"]["ring_seconds"] == 22

    event = await intake.next_event(of_type("intake.call.answered.v1", call_id=call_id))
    assert event["data"]["agent_id"] == "anna"
    assert event["data"]["customer_id"] == customer_id
    assert event["data"]["ring_seconds"] == 22
    assert event["data"]["within_target"] is False
    assert event["data"]["started_at"].startswith("2026-03-09T09:00:00")

    # a replay of the same event changes nothing
    again = await cti(
        client,
        intake,
        event="answer",
        callId=call_id,
        direction="in",
        user="anna",
        timestamp=answered_at.isoformat(),
    )
    assert again.json()["changed"] is False

    lookup = await client.get(
        f"{intake.prefix}/hotline/caller", params={"phone": phone}, headers=intake.auth(*AGENT)
    )
    assert lookup.json()["customer"]["id"] == customer_id


async def test_the_agent_opens_the_ticket_on_the_call_once(intake: IntakeUnderTest, served: Served) -> None:
    client = served.client
    phone = f"089 {uuid.uuid4().int % 10_000_000:07d}"
    customer_id = await register_customer(client, intake, phone, "Bernd Roth")
    call_id = new_call_id()
    await ring_in(client, intake, call_id, phone, user="anna")
    await cti(
        client,
        intake,
        event="answer",
        callId=call_id,
        direction="in",
        user="anna",
        timestamp=(T0 + timedelta(seconds=6)).isoformat(),
    )

    form = {
        "type": "repair",
        "fault_description": "The washing machine does not drain",
        "product": {"serial_number": "WM-778899"},
    }
    opened = await client.post(
        f"{intake.prefix}/calls/{call_id}/ticket", json=form, headers=intake.auth(*AGENT)
    )
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert ticket["customer_id"] == customer_id
    assert ticket["ticket_number"].startswith("T-2026-")

    created = await intake.next_event(of_type("intake.ticket.created.v1", ticket_id=ticket["ticket_id"]))
    assert created["data"]["details"]["channel"] == "phone"
    assert created["data"]["source_reference"] == f"call:{call_id}"

    call = (await client.get(f"{intake.prefix}/calls/{call_id}", headers=intake.auth(*AGENT))).json()
    assert call["call"]["ticket_id"] == ticket["ticket_id"]
    assert call["call"]["within_target"] is True

    second = await client.post(
        f"{intake.prefix}/calls/{call_id}/ticket", json=form, headers=intake.auth(*AGENT)
    )
    assert second.status_code == 409
    assert second.json()["type"].endswith("call-has-ticket")


async def test_an_abandoned_call_lands_on_the_call_back_list_and_escalates_when_overdue(
    intake: IntakeUnderTest, served: Served
) -> None:
    client, clock = served.client, served.clock
    call_id = new_call_id()
    await ring_in(client, intake, call_id, CALLER, queue="service")
    hangup = await hang_up(client, intake, call_id, cause="cancel", after=timedelta(seconds=40))
    callback_id = hangup.json()["callback_id"]
    assert hangup.json()["call"]["outcome"] == "abandoned"
    assert callback_id is not None

    missed = await intake.next_event(of_type("intake.call.missed.v1", call_id=call_id))
    assert missed["data"]["outcome"] == "abandoned"
    assert missed["data"]["ring_seconds"] == 40
    assert missed["data"]["callback_task_id"] == callback_id
    assert missed["data"]["callback_owner_id"] == "hotline"

    listed = await client.get(
        f"{intake.prefix}/callbacks", params={"owner": "hotline"}, headers=intake.auth(*AGENT)
    )
    task = next(t for t in listed.json()["items"] if t["id"] == callback_id)
    assert task["number"] == CALLER_E164
    assert task["due_at"].startswith("2026-03-09T10:00:40")  # within the hour, by default

    # nobody calls back in time: the scheduler hands it to the supervisors
    clock.advance(timedelta(hours=1, minutes=1))
    await served.runtime.scheduler.run_due()
    escalated = (
        await client.get(f"{intake.prefix}/callbacks/{callback_id}", headers=intake.auth(*AGENT))
    ).json()
    assert escalated["owner"] == "supervisors"
    assert escalated["escalation_level"] == 1
    assert escalated["overdue"] is True


async def test_calling_back_records_the_outcome_and_unreached_customers_stay_on_the_list(
    intake: IntakeUnderTest, served: Served
) -> None:
    client, clock = served.client, served.clock
    call_id = new_call_id()
    await ring_in(client, intake, call_id, "040 7654321", user="bea")
    hangup = await hang_up(client, intake, call_id, cause="noAnswer", after=timedelta(seconds=30))
    callback_id = hangup.json()["callback_id"]
    missed = await intake.next_event(of_type("intake.call.missed.v1", call_id=call_id))
    assert missed["data"]["outcome"] == "no_answer"
    assert missed["data"]["callback_owner_id"] == "bea"  # the one agent it rang for

    taken = await client.post(f"{intake.prefix}/callbacks/{callback_id}/take", headers=intake.auth(*AGENT))
    assert taken.json()["owner"] == AGENT[0]
    someone_else = await client.post(
        f"{intake.prefix}/callbacks/{callback_id}/take", headers=intake.auth("agent-carl", "agent")
    )
    assert someone_else.status_code == 409

    clock.advance(timedelta(minutes=20))
    tried = await client.post(
        f"{intake.prefix}/callbacks/{callback_id}/complete",
        json={"outcome": "no_answer", "note": "rang out"},
        headers={**intake.auth(*AGENT), "If-Match": taken.headers["ETag"]},
    )
    assert tried.status_code == 200, tried.text
    assert tried.json()["status"] == "open"
    assert tried.json()["due_at"].startswith("2026-03-09T10:20")  # due again an hour after the attempt

    stale = await client.post(
        f"{intake.prefix}/callbacks/{callback_id}/complete",
        json={"outcome": "reached"},
        headers={**intake.auth(*AGENT), "If-Match": taken.headers["ETag"]},
    )
    assert stale.status_code == 412

    reached = await client.post(
        f"{intake.prefix}/callbacks/{callback_id}/complete",
        json={"outcome": "reached", "note": "booked a visit"},
        headers=intake.auth(*AGENT),
    )
    assert reached.json()["status"] == "done"
    assert reached.json()["outcome"] == "reached"
    assert [a["reached"] for a in reached.json()["attempts"]] == [False, True]


async def test_the_webhook_refuses_strangers_and_quarantines_what_it_cannot_read(
    intake: IntakeUnderTest, served: Served
) -> None:
    client, clock = served.client, served.clock
    unsigned = await client.post(f"{intake.prefix}/hotline/cti", data={"event": "newCall", "callId": "x"})
    assert unsigned.status_code == 401
    wrong = await client.post(
        f"{intake.prefix}/hotline/cti/not-the-token", data={"event": "newCall", "callId": "x"}
    )
    assert wrong.status_code == 401

    # the token in the URL, as generic CTI integrations are configured
    call_id = new_call_id()
    by_url = await client.post(
        f"{intake.prefix}/hotline/cti/{CTI_TOKEN}",
        data={"event": "newCall", "callId": call_id, "from": CALLER, "direction": "in"},
    )
    assert by_url.status_code == 200, by_url.text

    # a signed JSON event (HMAC of "<timestamp>.<body>")
    intake.configure(cti_secrets=("s3cret",))
    body = b'{"event": "hangup", "callId": "' + call_id.encode() + b'", "cause": "busy", "direction": "in"}'
    stamp = str(int(clock.now().timestamp()))
    signature = hmac.new(b"s3cret", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    signed = await client.post(
        f"{intake.prefix}/hotline/cti",
        content=body,
        headers={"Content-Type": "application/json", "X-CTI-Timestamp": stamp, "X-CTI-Signature": signature},
    )
    intake.configure()
    assert signed.status_code == 200, signed.text
    assert signed.json()["call"]["outcome"] == "missed"
    busy = await intake.next_event(of_type("intake.call.missed.v1", call_id=call_id))
    assert busy["data"]["outcome"] == "busy"

    garbled = await client.post(
        f"{intake.prefix}/hotline/cti",
        data={"event": "ringing-maybe", "callId": new_call_id()},
        headers={"Authorization": f"Bearer {CTI_TOKEN}"},
    )
    assert garbled.status_code == 422
    item_id = garbled.json()["quarantine_id"]
    item = await client.get(f"{intake.prefix}/quarantine/{item_id}", headers=intake.auth(*SUPERVISOR))
    assert item.json()["channel"] == "hotline"
    assert item.json()["reason_code"] == "bad-cti-event"
    raw = await client.get(f"{intake.prefix}/quarantine/{item_id}/raw", headers=intake.auth(*SUPERVISOR))
    assert b"ringing-maybe" in raw.content
