from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kit.domain import Conflict, DomainError
from warranty.domain.units import (
    ContractTier,
    RegisteredUnit,
    RegistrationCardReceived,
    RegistrationStatus,
    ServiceContract,
    UnitOwnershipTransferred,
    UnitRegistered,
    registered_on_time,
    registration_deadline,
    registration_status,
)

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SOLD = date(2026, 1, 10)


def _unit(card_received_on: date | None) -> RegisteredUnit:
    return RegisteredUnit.register(
        serial="SN-1",
        model_code="AC-3500",
        customer_id="C-1",
        dealer_id="D-1",
        sold_on=SOLD,
        at=AT,
        actor="dealer:D-1",
        card_received_on=card_received_on,
    )


def test_registration_card_on_day_20_after_the_sale_is_on_time() -> None:
    unit = _unit(date(2026, 1, 30))
    assert registration_deadline(unit) == date(2026, 1, 30)
    assert registered_on_time(unit)
    assert registration_status(unit) is RegistrationStatus.ON_TIME


def test_registration_card_on_day_21_after_the_sale_is_late() -> None:
    unit = _unit(date(2026, 1, 31))
    assert not registered_on_time(unit)
    assert registration_status(unit) is RegistrationStatus.LATE


def test_a_missing_card_is_pending_until_the_deadline_then_missing() -> None:
    unit = _unit(None)
    assert registration_status(unit, today=date(2026, 1, 30)) is RegistrationStatus.PENDING
    assert registration_status(unit, today=date(2026, 1, 31)) is RegistrationStatus.MISSING
    assert not registered_on_time(unit)


def test_the_registration_limit_is_configuration() -> None:
    unit = _unit(date(2026, 2, 4))
    assert not registered_on_time(unit)
    assert registered_on_time(unit, within_days=25)


def test_registering_a_unit_raises_unit_registered_for_the_outbox() -> None:
    unit = _unit(None)
    events = unit.pull_events()
    assert len(events) == 1
    assert isinstance(events[0], UnitRegistered)
    assert events[0].serial == "SN-1"
    assert events[0].at == AT
    assert events[0].actor == "dealer:D-1"
    assert unit.pull_events() == []


def test_the_first_registration_card_counts_and_reports_whether_it_was_late() -> None:
    unit = _unit(None)
    unit.pull_events()
    unit.record_registration_card(received_on=date(2026, 2, 2), at=AT, actor="clerk")
    unit.record_registration_card(received_on=date(2026, 2, 20), at=AT, actor="clerk")
    assert unit.card_received_on == date(2026, 2, 2)
    (event,) = unit.pull_events()
    assert isinstance(event, RegistrationCardReceived)
    assert not event.on_time


def test_a_registration_card_cannot_predate_the_sale() -> None:
    with pytest.raises(DomainError):
        _unit(date(2026, 1, 9))


def test_ownership_transfer_keeps_the_unit_and_records_who_owned_it_when() -> None:
    unit = _unit(None)
    unit.pull_events()
    unit.transfer_to("C-2", transferred_on=date(2026, 6, 1), at=AT, actor="agent:A", reason="house sold")
    assert unit.customer_id == "C-2"
    assert unit.owner_on(date(2026, 5, 31)) == "C-1"
    assert unit.owner_on(date(2026, 6, 1)) == "C-2"
    assert unit.owner_on(date(2025, 1, 1)) is None
    assert unit.sold_on == SOLD
    (event,) = unit.pull_events()
    assert isinstance(event, UnitOwnershipTransferred)
    assert (event.from_customer_id, event.to_customer_id) == ("C-1", "C-2")


def test_a_transfer_cannot_predate_the_current_ownership_or_repeat_the_owner() -> None:
    unit = _unit(None)
    with pytest.raises(DomainError):
        unit.transfer_to("C-2", transferred_on=date(2026, 1, 9), at=AT, actor="agent:A")
    with pytest.raises(Conflict):
        unit.transfer_to("C-1", transferred_on=date(2026, 2, 1), at=AT, actor="agent:A")


def test_acceptance_cannot_precede_installation() -> None:
    unit = _unit(None)
    with pytest.raises(DomainError):
        unit.record_installation(
            installed_on=date(2026, 1, 20), accepted_on=date(2026, 1, 19), at=AT, actor="T-7"
        )
    unit.record_installation(
        installed_on=date(2026, 1, 20), accepted_on=date(2026, 1, 21), at=AT, actor="T-7"
    )
    assert (unit.installed_on, unit.accepted_on) == (date(2026, 1, 20), date(2026, 1, 21))


def test_changes_need_timezone_aware_timestamps() -> None:
    unit = _unit(None)
    with pytest.raises(DomainError):
        unit.transfer_to(
            "C-2", transferred_on=date(2026, 6, 1), at=datetime(2026, 6, 1, 9, 0), actor="agent:A"
        )


def test_a_twelve_month_contract_from_january_runs_to_the_end_of_december() -> None:
    contract = ServiceContract.for_months(
        contract_id="SC-1", serial="SN-1", tier=ContractTier.PREMIUM, starts_on=date(2027, 1, 1), months=12
    )
    assert contract.ends_on == date(2027, 12, 31)
    assert contract.active_on(date(2027, 12, 31))
    assert not contract.active_on(date(2028, 1, 1))


def test_a_contract_cannot_end_before_it_starts() -> None:
    with pytest.raises(DomainError):
        ServiceContract("SC-1", "SN-1", ContractTier.BASIC, date(2027, 1, 2), date(2027, 1, 1))


# --- installations reported by completed installation jobs ---------------------------------------


def _installed(on: date) -> RegisteredUnit:
    unit = _unit(date(2026, 1, 15))
    unit.record_completed_installation(installed_on=on, installer_id="T-7", at=AT, actor="warranty")
    return unit


def test_a_completed_installation_job_records_the_installation_date_and_the_installer() -> None:
    unit = _installed(date(2026, 1, 20))
    assert (unit.installed_on, unit.installer_id) == (date(2026, 1, 20), "T-7")


def test_a_later_installation_job_does_not_restart_the_warranty() -> None:
    unit = _installed(date(2026, 1, 20))
    changed = unit.record_completed_installation(
        installed_on=date(2026, 2, 10), installer_id="T-9", at=AT, actor="warranty"
    )
    assert not changed
    assert (unit.installed_on, unit.installer_id) == (date(2026, 1, 20), "T-7")


def test_an_earlier_installation_reported_late_replaces_the_later_one() -> None:
    unit = _installed(date(2026, 1, 20))
    assert unit.record_completed_installation(
        installed_on=date(2026, 1, 12), installer_id="T-3", at=AT, actor="warranty"
    )
    assert (unit.installed_on, unit.installer_id) == (date(2026, 1, 12), "T-3")


def test_an_installation_cannot_be_recorded_before_it_happens() -> None:
    unit = _unit(None)
    with pytest.raises(DomainError):
        unit.record_installation(installed_on=date(2026, 3, 2), at=AT, actor="T-7")


# --- units first known from their installation ---------------------------------------------------

INSTALLED = date(2026, 1, 20)


def _from_installation() -> RegisteredUnit:
    return RegisteredUnit.register_from_installation(
        serial="SN-9",
        model_code="AC-3500",
        customer_id="C-1",
        dealer_id="D-1",
        installed_on=INSTALLED,
        installer_id="T-7",
        at=AT,
        actor="warranty",
    )


def test_a_unit_known_from_its_installation_has_no_sale_date_and_no_card_yet() -> None:
    unit = _from_installation()
    assert not unit.sale_date_known
    assert unit.sold_on == INSTALLED  # stands in until the card states the sale
    assert unit.card_received_on is None
    assert registration_status(unit, today=INSTALLED) is RegistrationStatus.PENDING


def test_the_dealers_card_states_the_sale_date_and_the_20_day_rule_counts_from_it() -> None:
    on_time, late = _from_installation(), _from_installation()
    on_time.record_registration_card(
        received_on=date(2026, 1, 30), sold_on=date(2026, 1, 10), at=AT, actor="D-1"
    )
    late.record_registration_card(
        received_on=date(2026, 1, 31), sold_on=date(2026, 1, 10), at=AT, actor="D-1"
    )
    assert on_time.sale_date_known
    assert on_time.sold_on == date(2026, 1, 10)
    assert on_time.owners[0].from_date == date(2026, 1, 10)
    assert registration_status(on_time) is RegistrationStatus.ON_TIME  # day 20
    assert registration_status(late) is RegistrationStatus.LATE  # day 21


def test_a_card_cannot_change_a_known_sale_date_or_put_the_sale_after_the_installation() -> None:
    known = _unit(None)
    with pytest.raises(Conflict):
        known.record_registration_card(
            received_on=date(2026, 1, 20), sold_on=date(2026, 1, 5), at=AT, actor="D-1"
        )
    unknown = _from_installation()
    with pytest.raises(DomainError):
        unknown.record_registration_card(
            received_on=date(2026, 1, 25), sold_on=date(2026, 1, 21), at=AT, actor="D-1"
        )


def test_a_registration_card_cannot_be_recorded_before_it_arrives() -> None:
    with pytest.raises(DomainError):
        _unit(None).record_registration_card(received_on=date(2026, 3, 2), at=AT, actor="clerk")


def test_the_recorded_facts_name_what_a_change_changed() -> None:
    unit = _unit(None)
    before = unit.recorded_facts()
    unit.record_installation(installed_on=date(2026, 1, 20), installer_id="T-7", at=AT, actor="T-7")
    after = unit.recorded_facts()
    assert [name for name in after if after[name] != before[name]] == ["installation_date", "installer_id"]
