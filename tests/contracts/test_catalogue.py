"""Every registered event travels through the envelope and back unchanged, and says what it is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from contracts import CloudEvent, new_event, parse
from contracts.common import Actor, AttachmentRef, MoneyAmount, ProductRef, TimeWindow
from contracts.dispatch import OldPartCollected, PartUsed, WorkOrderCompleted
from contracts.intake import TicketCreated
from contracts.registry import all_models, event_types, payload_model, producer
from contracts.schemas import payload_schema
from contracts.warranty import EntitlementDetermined, RemedyOption

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

DESIGN_CATALOGUE = [
    "intake.customer.created.v1",
    "intake.customer.updated.v1",
    "intake.ticket.created.v1",
    "intake.ticket.resolved.v1",
    "intake.ticket.closed.v1",
    "intake.ticket.reopened.v1",
    "intake.ticket.cancelled.v1",
    "intake.ticket.sla_breached.v1",
    "intake.call.missed.v1",
    "warranty.unit.registered.v1",
    "warranty.entitlement.determined.v1",
    "warranty.replacement.eligible.v1",
    "warranty.claim.submitted.v1",
    "warranty.claim.approved.v1",
    "warranty.claim.rejected.v1",
    "warranty.claim.settled.v1",
    "dispatch.work_order.created.v1",
    "dispatch.work_order.assigned.v1",
    "dispatch.work_order.rescheduled.v1",
    "dispatch.work_order.started.v1",
    "dispatch.work_order.completed.v1",
    "dispatch.work_order.cancelled.v1",
    "dispatch.work_order.escalated.v1",
    "dispatch.loaner.requested.v1",
    "inventory.reservation.confirmed.v1",
    "inventory.reservation.failed.v1",
    "inventory.reservation.released.v1",
    "inventory.part.consumed.v1",
    "inventory.stock.low.v1",
    "inventory.return.received.v1",
    "inventory.return.inspected.v1",
    "surveys.response.received.v1",
    "surveys.response.negative.v1",
    "webhooks.endpoint.disabled.v1",
]

# A valid value for each pattern the contracts use; a new pattern must be added here.
PATTERN_SAMPLES = {
    r"^\+[1-9][0-9]{1,14}$": "+4930123456",
    r"^[^@\s]+@[^@\s]+$": "anna@example.com",
    r"^[A-Z]{2}$": "DE",
    r"^[A-Z]{3}$": "EUR",
    r"^[0-9a-f]{64}$": "ab" * 32,
    r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$": "129.90",
    r"^[a-z_]+\.[a-z_]+\.[a-z_]+\.v[0-9]+$": "intake.ticket.created.v1",
}


class Sampler:
    """Builds a JSON document that a payload schema accepts: every property, or only required ones."""

    def __init__(self, root: dict[str, Any], *, complete: bool) -> None:
        self.root = root
        self.complete = complete
        self.instant = NOW

    def document(self) -> dict[str, Any]:
        value = self.value(self.root, "payload")
        assert isinstance(value, dict)
        return value

    def value(self, schema: dict[str, Any], name: str) -> Any:
        if "$ref" in schema:
            return self.value(self.root["$defs"][schema["$ref"].rsplit("/", 1)[1]], name)
        if "anyOf" in schema:
            options = [o for o in schema["anyOf"] if o.get("type") != "null"]
            return self.value(options[0], name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][-1]
        kind = schema.get("type")
        if kind == "object":
            required = set(schema.get("required", []))
            return {
                key: self.value(sub, key)
                for key, sub in schema.get("properties", {}).items()
                if self.complete or key in required
            }
        if kind == "array":
            count = max(schema.get("minItems", 0), 2 if self.complete else 0)
            return [self.value(schema["items"], name) for _ in range(count)]
        if kind == "string":
            return self.text(schema, name)
        if kind == "integer":
            return max(schema.get("minimum", 1), 1) if "maximum" not in schema else schema["maximum"]
        if kind == "number":
            return float(schema.get("minimum", 0)) + 0.5
        if kind == "boolean":
            return True
        raise AssertionError(f"no sample for {name}: {schema}")

    def text(self, schema: dict[str, Any], name: str) -> str:
        if schema.get("format") == "date-time":
            self.instant += timedelta(minutes=30)  # later fields (window ends) come after earlier ones
            return self.instant.isoformat()
        if schema.get("format") == "date":
            return "2026-03-02"
        if "pattern" in schema:
            assert schema["pattern"] in PATTERN_SAMPLES, f"add a sample for pattern {schema['pattern']}"
            return PATTERN_SAMPLES[schema["pattern"]]
        return f"{name}-1"[: schema.get("maxLength", 100)]


def round_trip(event_type: str, data: dict[str, Any]) -> None:
    model = payload_model(event_type)
    payload = model.model_validate(data)
    envelope = new_event(
        payload, service=producer(event_type), time=NOW, correlation_id="corr-1", causation_id="cause-1"
    )

    received = CloudEvent.from_json(envelope.to_json())

    assert received.type == event_type
    assert received.source == f"/aftersales/{producer(event_type)}"
    assert received.correlationid == "corr-1"
    assert parse(received) == payload
    assert model.subject_field
    assert received.subject == str(getattr(payload, model.subject_field))


@pytest.mark.parametrize("event_type", list(event_types()))
def test_every_event_with_all_its_fields_round_trips_through_the_envelope(event_type: str) -> None:
    schema = payload_schema(payload_model(event_type))
    round_trip(event_type, Sampler(schema, complete=True).document())


@pytest.mark.parametrize("event_type", list(event_types()))
def test_every_event_with_only_its_required_fields_round_trips_through_the_envelope(event_type: str) -> None:
    schema = payload_schema(payload_model(event_type))
    round_trip(event_type, Sampler(schema, complete=False).document())


def test_the_design_catalogue_is_registered() -> None:
    missing = [t for t in DESIGN_CATALOGUE if t not in set(event_types())]
    assert missing == []


@pytest.mark.parametrize("event_type", list(event_types()))
def test_each_event_lives_in_its_producers_module_with_a_subject_and_a_docstring(event_type: str) -> None:
    model = payload_model(event_type)
    assert model.__module__ == f"contracts.{producer(event_type)}"
    assert model.subject_field in model.model_fields
    assert model.model_fields[model.subject_field].is_required(), "every event has a subject"
    doc = (model.__doc__ or "").strip()
    assert doc.split("\n")[0].endswith("."), (
        "the first docstring line is the catalogue's one-line description"
    )
    assert "Emitted by" in doc, "the docstring says who emits it and when"


def test_events_about_a_dealer_carry_it_into_the_dealerid_extension() -> None:
    unscoped = [t for t, m in all_models().items() if "dealer_id" not in m.model_fields]
    data = Sampler(payload_schema(payload_model("warranty.claim.approved.v1")), complete=False).document()
    data["dealer_id"] = "dealer-7"
    payload = payload_model("warranty.claim.approved.v1").model_validate(data)

    envelope = new_event(payload, service="warranty", time=NOW)

    assert envelope.dealerid == "dealer-7"
    assert unscoped == ["intake.message.quarantined.v1"], "all but refused input can be scoped to a dealer"


def test_a_completed_work_order_carries_the_whole_completion_report() -> None:
    payload = WorkOrderCompleted(
        work_order_id="wo-1",
        work_order_number="WO-2026-000001",
        version=7,
        ticket_id="t-1",
        technician_id="tech-3",
        type="repair",
        customer_id="c-1",
        product=ProductRef(serial_number="SN-100", model_code="AC-9000"),
        billing="warranty",
        mode="on_site",
        fault_code="E42",
        cause="product_defect",
        actions=["replaced compressor relay", "tested cooling cycle"],
        parts_used=[
            PartUsed(part_number="RLY-20", quantity=1, serial_numbers=["RLY-20-555"], location_id="van-3")
        ],
        old_parts=[OldPartCollected(part_number="RLY-20", serial_number="RLY-20-001")],
        labour_minutes=45,
        first_time_fix=True,
        customer_signature=AttachmentRef(attachment_id="att-sig", kind="signature", content_type="image/png"),
        signed_by="Anna Schmidt",
        photos=[AttachmentRef(attachment_id="att-p1", kind="photo")],
        arrived_at=NOW,
        completed_at=NOW + timedelta(hours=1),
    )

    data = CloudEvent.from_json(new_event(payload, service="dispatch", time=NOW).to_json()).data

    assert data["fault_code"] == "E42"
    assert data["cause"] == "product_defect"
    assert data["parts_used"][0]["serial_numbers"] == ["RLY-20-555"]
    assert data["old_parts"][0] == {
        "part_number": "RLY-20",
        "serial_number": "RLY-20-001",
        "quantity": 1,
        "condition": "defective",
        "return_required": True,
    }
    assert data["labour_minutes"] == 45
    assert data["first_time_fix"] is True
    assert data["customer_signature"]["attachment_id"] == "att-sig"
    assert [p["attachment_id"] for p in data["photos"]] == ["att-p1"]


def test_an_entitlement_quotes_a_paid_repair_as_a_decimal_string() -> None:
    payload = EntitlementDetermined(
        entitlement_id="ent-1",
        ticket_id="t-1",
        serial_number="SN-100",
        as_of=date(2026, 3, 2),
        coverage="not_covered",
        billing="customer",
        remedies=[
            RemedyOption(
                remedy="paid_repair", price_estimate=MoneyAmount(amount=Decimal("189.50"), currency="EUR")
            )
        ],
        basis="sale_date",
        parts_covered=False,
        labour_covered=False,
        travel_covered=False,
        reasons=[
            {"code": "repair_period_over", "message": "The 24-month repair period ended on 2026-01-31."}
        ],
        determined_at=NOW,
    )

    data = new_event(payload, service="warranty", time=NOW).data

    assert data["remedies"][0]["price_estimate"] == {"amount": "189.50", "currency": "EUR"}


def test_a_naive_datetime_is_refused_and_other_zones_become_utc() -> None:
    with pytest.raises(ValidationError):
        TimeWindow(start=datetime(2026, 3, 2, 9), end=datetime(2026, 3, 2, 10))

    window = TimeWindow(start="2026-03-02T10:00:00+01:00", end="2026-03-02T11:00:00+01:00")

    assert window.start == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert window.start.tzinfo == UTC


def test_a_time_window_ends_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="ends after it starts"):
        TimeWindow(start=NOW, end=NOW)


def test_a_ticket_refuses_an_unknown_channel() -> None:
    data = Sampler(payload_schema(TicketCreated), complete=False).document()
    data["details"]["channel"] = "carrier_pigeon"

    with pytest.raises(ValidationError):
        TicketCreated.model_validate(data)


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    data = Sampler(payload_schema(TicketCreated), complete=False).document()
    data["added_in_a_later_release"] = {"anything": 1}

    assert TicketCreated.model_validate(data).ticket_id == data["ticket_id"]


def test_an_actor_names_who_did_it() -> None:
    assert Actor(kind="user", id="u-1", role="agent").model_dump(mode="json", exclude_none=True) == {
        "kind": "user",
        "id": "u-1",
        "role": "agent",
    }
