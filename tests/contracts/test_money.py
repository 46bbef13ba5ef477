"""Money travels as a decimal string with its currency, never as a JSON number."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.common import MoneyAmount
from contracts.registry import all_models
from contracts.schemas import payload_schema
from kit.domain import Money


def test_an_amount_serialises_as_a_decimal_string() -> None:
    money = MoneyAmount(amount=Decimal("129.90"), currency="EUR")

    assert money.model_dump(mode="json") == {"amount": "129.90", "currency": "EUR"}
    assert json.loads(money.model_dump_json()) == {"amount": "129.90", "currency": "EUR"}


def test_an_amount_in_exponent_form_is_written_out_in_plain_digits() -> None:
    assert MoneyAmount(amount=Decimal("1E+2"), currency="EUR").model_dump(mode="json")["amount"] == "100"


def test_an_amount_is_read_back_from_its_string_exactly() -> None:
    money = MoneyAmount.model_validate_json('{"amount": "0.10", "currency": "USD"}')

    assert money.amount == Decimal("0.10")


def test_kit_money_converts_to_an_amount_in_cents() -> None:
    assert MoneyAmount.of(Money(Decimal("10"), "EUR")).model_dump(mode="json") == {
        "amount": "10.00",
        "currency": "EUR",
    }


@pytest.mark.parametrize("amount", [0.1, "ten", "1.23456", "1" * 16, "NaN", "Infinity"])
def test_floats_words_and_out_of_range_amounts_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError):
        MoneyAmount.model_validate({"amount": amount, "currency": "EUR"})


def test_a_currency_is_an_iso_code() -> None:
    with pytest.raises(ValidationError):
        MoneyAmount(amount=Decimal(1), currency="euro")


def test_the_schema_says_amount_is_a_decimal_string() -> None:
    amount = MoneyAmount.model_json_schema()["properties"]["amount"]

    assert amount["type"] == "string"
    assert re.match(amount["pattern"], "-1250.5")
    assert not re.match(amount["pattern"], "1e5")


def _money_schemas(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("title") == "MoneyAmount":
            found.append(node)
        for value in node.values():
            found += _money_schemas(value)
    elif isinstance(node, list):
        for value in node:
            found += _money_schemas(value)
    return found


def test_every_money_field_in_the_catalogue_is_a_decimal_string() -> None:
    money_types = {t: _money_schemas(payload_schema(m)) for t, m in all_models().items()}
    with_money = {t for t, schemas in money_types.items() if schemas}

    assert {
        "warranty.claim.submitted.v1",
        "warranty.claim.settled.v1",
        "inventory.part.consumed.v1",
    } <= with_money
    for schemas in money_types.values():
        for schema in schemas:
            assert schema["properties"]["amount"]["type"] == "string"
            assert "number" not in json.dumps(schema["properties"]["amount"])
