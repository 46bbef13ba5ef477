from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.common import Actor
from intake.domain.contact_history import ContactDirection, ContactHistoryEntry, ContactKind
from intake.domain.contact_points import (
    Address,
    Email,
    Phone,
    PhoneKind,
    ServiceTier,
    normalise_email,
    normalise_phone,
    try_normalise_phone,
)
from intake.domain.customers import (
    Customer,
    CustomerChanged,
    CustomerKind,
    CustomerRegistered,
    CustomersMerged,
)
from intake.domain.duplicates import (
    choose_survivor,
    duplicate_match,
    find_duplicates,
    merge_customers,
    name_key,
)
from kit.domain import Conflict, DomainError, Forbidden

T0 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
AGENT = Actor.user("anna", "agent")
BERLIN_ADDRESS = Address(
    "Hauptstraße 5", "Berlin", "DE", postal_code="10115", region_code="BER", tier=ServiceTier.A
)


def person(
    name: str,
    *,
    phones: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    postcode: str | None = None,
    at: datetime = T0,
    customer_id: str | None = None,
) -> Customer:
    addresses = [Address("Street 1", "Town", "DE", postal_code=postcode)] if postcode else []
    return Customer.register(
        kind=CustomerKind.PERSON,
        name=name,
        at=at,
        actor=AGENT,
        default_region="DE",
        phones=phones,
        emails=emails,
        addresses=addresses,
        customer_id=customer_id,
    )


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (0)30 123 45 67", "DE", "+49301234567"),
        ("0049 30 1234567", "DE", "+49301234567"),
        ("0171 2345678", "DE", "+491712345678"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "DE", "+442079460958"),
        ("(202) 555-0143", "US", "+12025550143"),
    ],
)
def test_phone_numbers_are_stored_in_e164_reading_local_numbers_in_the_default_region(
    raw: str, region: str, e164: str
) -> None:
    assert normalise_phone(raw, default_region=region) == e164


@pytest.mark.parametrize("raw", ["anonymous", "201", "+49 123", "", "0" * 41, "call me"])
def test_extensions_withheld_and_garbage_numbers_do_not_normalise(raw: str) -> None:
    assert try_normalise_phone(raw, default_region="DE") is None
    with pytest.raises(DomainError) as refused:
        normalise_phone(raw, default_region="DE")
    assert refused.value.code == "invalid-phone"


def test_mobile_and_landline_numbers_are_recognised() -> None:
    assert Phone.parse("0171 2345678", default_region="DE").kind is PhoneKind.MOBILE
    assert Phone.parse("030 1234567", default_region="DE").kind is PhoneKind.LANDLINE
    assert Phone.parse("030 1234567", default_region="DE", kind=PhoneKind.FAX).kind is PhoneKind.FAX


def test_email_domain_is_case_folded_and_local_part_kept() -> None:
    assert normalise_email("  <Hans.Mueller@Example.COM.> ") == "Hans.Mueller@example.com"
    assert Email.parse("Hans@EXAMPLE.com").key == Email.parse("hans@example.com").key


@pytest.mark.parametrize(
    "raw", ["no-at-sign", "a@b", "two@@example.com", "a b@example.com", "x@-bad.com", "@example.com"]
)
def test_malformed_email_addresses_are_refused(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_email(raw)
    assert refused.value.code == "invalid-email"


def test_registered_customer_has_normalised_contact_points_and_an_event() -> None:
    customer = person("Hans Müller", phones=("030 1234567", "+49 30 1234567"), emails=("Hans@Example.com",))
    assert [p.number for p in customer.phones] == ["+49301234567"]  # the same number once
    assert customer.has_phone("+49301234567")
    assert customer.has_email("HANS@example.com")
    assert [type(e) for e in customer.pull_events()] == [CustomerRegistered]


def test_tier_comes_from_the_contract_else_the_primary_address_region() -> None:
    customer = person("Hans Müller")
    assert customer.tier is ServiceTier.C
    customer.add_address(BERLIN_ADDRESS, at=T0, actor=AGENT)
    assert customer.tier is ServiceTier.A
    assert customer.region_code == "BER"
    customer.set_tier(ServiceTier.B, at=T0, actor=AGENT)
    assert customer.tier is ServiceTier.B


def test_each_change_bumps_the_version_and_names_the_fields() -> None:
    customer = person("Hans Müller")
    customer.pull_events()
    customer.add_phone("0171 2345678", default_region="DE", at=T0, actor=AGENT, primary=True)
    customer.add_email("h@example.com", at=T0, actor=AGENT)
    customer.add_email("H@Example.com", at=T0, actor=AGENT)  # already there: no change
    assert customer.version == 3
    assert [e.changed_fields for e in customer.pull_events() if isinstance(e, CustomerChanged)] == [
        ("phones",),
        ("emails",),
    ]


# --- duplicates ----------------------------------------------------------------------------------


def test_name_key_ignores_case_accents_umlaut_spelling_titles_legal_form_and_word_order() -> None:
    assert name_key("Dr. Hans Müller") == name_key("mueller, hans")
    assert name_key("ACME GmbH & Co. KG") == name_key("Acme")
    assert name_key("José Núñez") == name_key("Jose Nunez")


def test_same_normalised_phone_is_a_duplicate() -> None:
    existing = person("Hans Mueller", phones=("+49 30 1234567",), customer_id="c-old")
    new = person("H. Müller-Schmidt", phones=("030/1234567",))
    matches = find_duplicates(new, [existing])
    assert [m.duplicate_id for m in matches] == ["c-old"]
    assert [r.code for r in matches[0].reasons] == ["same_phone"]
    assert "1234567" not in matches[0].reasons[0].detail  # reasons do not spell out personal data


def test_same_email_in_another_case_is_a_duplicate() -> None:
    existing = person("Acme Facility", emails=("Service@ACME.de",), customer_id="c-old")
    match = duplicate_match(person("Someone Else", emails=("service@acme.de",)), existing)
    assert match.score == 60
    assert [r.code for r in match.reasons] == ["same_email"]


def test_similar_name_at_the_same_postcode_is_a_duplicate_but_not_elsewhere() -> None:
    existing = person("Hans Müller", postcode="10115", customer_id="c-old")
    same_place = person("Hans Mueller", postcode="10 115")
    elsewhere = person("Hans Mueller", postcode="80331")
    assert [m.duplicate_id for m in find_duplicates(same_place, [existing])] == ["c-old"]
    assert find_duplicates(elsewhere, [existing]) == []
    assert duplicate_match(elsewhere, existing).reasons[0].code == "similar_name"


def test_duplicate_evidence_adds_up_to_at_most_100_and_best_match_comes_first() -> None:
    strong = person(
        "Hans Müller",
        phones=("030 1234567",),
        emails=("h@example.com",),
        postcode="10115",
        customer_id="c-strong",
    )
    weak = person("Grete Weber", phones=("030 1234567",), customer_id="c-weak")
    new = person("Hans Mueller", phones=("030 1234567",), emails=("h@example.com",), postcode="10115")
    matches = find_duplicates(new, [weak, strong, new])
    assert [(m.duplicate_id, m.score) for m in matches] == [("c-strong", 100), ("c-weak", 60)]


def test_different_people_are_not_duplicates() -> None:
    assert (
        find_duplicates(person("Hans Müller", postcode="10115"), [person("Grete Weber", postcode="10115")])
        == []
    )


# --- merge ---------------------------------------------------------------------------------------


def test_older_record_survives_a_merge() -> None:
    older = person("Hans Müller", at=T0 - timedelta(days=400))
    newer = person("Hans Mueller")
    assert choose_survivor(newer, older) == (older, newer)


def test_merge_moves_contact_points_keeps_both_records_and_refuses_later_edits() -> None:
    survivor = person("Hans Müller", phones=("030 1234567",), customer_id="c-1")
    absorbed = person(
        "Hans Mueller", phones=("030 1234567", "0171 2345678"), emails=("h@example.com",), customer_id="c-2"
    )
    absorbed.set_tier(ServiceTier.A, at=T0, actor=AGENT)
    outcome = merge_customers(survivor, absorbed, at=T0, actor=AGENT)
    assert [p.number for p in survivor.phones] == ["+49301234567", "+491712345678"]
    assert [e.address for e in survivor.emails] == ["h@example.com"]
    assert survivor.tier is ServiceTier.A
    assert survivor.merged_ids == ["c-2"]
    assert absorbed.merged_into == "c-1"
    assert absorbed.phones
    assert len(outcome.moved) == 2
    assert "tickets" in outcome.repoint
    assert "contact_history" in outcome.repoint
    assert any(isinstance(e, CustomersMerged) and e.merged_customer_ids == ("c-2",) for e in survivor.events)
    with pytest.raises(Conflict) as refused:
        absorbed.rename("Other", at=T0, actor=AGENT)
    assert refused.value.code == "customer-merged"


def test_merge_is_a_persons_decision_and_not_into_itself() -> None:
    a, b = person("A Person"), person("B Person")
    with pytest.raises(Forbidden):
        merge_customers(a, b, at=T0, actor=Actor.system())
    with pytest.raises(DomainError):
        merge_customers(a, a, at=T0, actor=AGENT)


def test_contact_history_moves_to_the_survivor_and_remembers_where_it_came_from() -> None:
    survivor, absorbed = person("Hans Müller", customer_id="c-1"), person("Hans Mueller", customer_id="c-2")
    entry = ContactHistoryEntry.record(
        customer_id="c-2",
        kind=ContactKind.FOLLOW_UP_CALL,
        direction=ContactDirection.OUTBOUND,
        occurred_at=T0,
        summary="Satisfied with the repair",
        actor=AGENT,
        reference="inv-7",
    )
    other = ContactHistoryEntry.record(
        customer_id="c-9",
        kind=ContactKind.LETTER,
        direction=ContactDirection.INBOUND,
        occurred_at=T0,
        summary="Letter",
        actor=AGENT,
    )
    outcome = merge_customers(survivor, absorbed, at=T0, actor=AGENT)
    moved = entry.repointed_to(outcome)
    assert (moved.customer_id, moved.merged_from, moved.kind) == ("c-1", "c-2", ContactKind.FOLLOW_UP_CALL)
    assert other.repointed_to(outcome) is other
