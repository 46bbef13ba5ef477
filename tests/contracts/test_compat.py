"""The compatibility check catches each kind of breaking change and lets compatible ones through."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from contracts.compat import breaking_changes, compare_catalogue


def changes(old: type[BaseModel], new: type[BaseModel]) -> list[str]:
    return breaking_changes(old.model_json_schema(), new.model_json_schema())


# --- breaking ----------------------------------------------------------------------------------


def test_removing_a_property_breaks() -> None:
    class Old(BaseModel):
        ticket_id: str
        note: str | None = None

    class New(BaseModel):
        ticket_id: str

    assert changes(Old, New) == ["$.note: property removed"]


def test_changing_a_property_type_breaks() -> None:
    class Old(BaseModel):
        labour_minutes: str

    class New(BaseModel):
        labour_minutes: int

    assert changes(Old, New) == ["$.labour_minutes: type changed from string to integer"]


def test_no_longer_accepting_null_breaks() -> None:
    class Old(BaseModel):
        serial_number: str | None = None

    class New(BaseModel):
        serial_number: str = ""

    assert changes(Old, New) == ["$.serial_number: null is no longer accepted (now string)"]


def test_making_an_optional_property_required_breaks() -> None:
    class Old(BaseModel):
        reason: str | None = None

    class New(BaseModel):
        reason: str | None

    assert changes(Old, New) == ["$.reason: property newly required"]


def test_adding_a_required_property_breaks() -> None:
    class Old(BaseModel):
        ticket_id: str

    class New(BaseModel):
        ticket_id: str
        channel: str

    assert changes(Old, New) == ["$.channel: property newly required"]


def test_removing_an_enum_value_breaks() -> None:
    class Old(BaseModel):
        outcome: Literal["reusable", "scrap", "to_supplier"]

    class New(BaseModel):
        outcome: Literal["reusable", "scrap"]

    assert changes(Old, New) == ['$.outcome: values removed: "to_supplier"']


def test_restricting_a_free_text_to_a_list_breaks() -> None:
    class Old(BaseModel):
        reason: str

    class New(BaseModel):
        reason: Literal["a", "b"]

    assert changes(Old, New) == ['$.reason: now restricted to the values "a", "b"']


def test_a_smaller_max_length_breaks() -> None:
    class Old(BaseModel):
        note: Annotated[str, Field(max_length=500)]

    class New(BaseModel):
        note: Annotated[str, Field(max_length=200)]

    assert changes(Old, New) == ["$.note: maxLength tightened from 500 to 200"]


def test_a_new_or_changed_pattern_breaks() -> None:
    class Old(BaseModel):
        phone: str
        code: Annotated[str, Field(pattern=r"^[A-Z]+$")]

    class New(BaseModel):
        phone: Annotated[str, Field(pattern=r"^\+[0-9]+$")]
        code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    assert changes(Old, New) == [
        "$.phone: pattern changed from 'none' to '^\\\\+[0-9]+$'",
        "$.code: pattern changed from '^[A-Z]+$' to '^[A-Z]{3}$'",
    ]


def test_tighter_numeric_and_list_bounds_break() -> None:
    class Old(BaseModel):
        quantity: Annotated[int, Field(ge=1)]
        lines: Annotated[list[str], Field(max_length=100)]

    class New(BaseModel):
        quantity: Annotated[int, Field(ge=1, le=50)]
        lines: Annotated[list[str], Field(min_length=1, max_length=10)]

    assert changes(Old, New) == [
        "$.quantity: maximum tightened from none to 50",
        "$.lines: maxItems tightened from 100 to 10",
        "$.lines: minItems tightened from none to 1",
    ]


def test_changes_inside_nested_definitions_are_found_through_refs() -> None:
    class OldAddress(BaseModel):
        city: Annotated[str, Field(max_length=100)]
        postal_code: str | None = None

    class OldLine(BaseModel):
        part_number: str

    class Old(BaseModel):
        site: OldAddress | None = None
        lines: list[OldLine]

    class NewAddress(BaseModel):
        city: Annotated[str, Field(max_length=50)]

    class NewLine(BaseModel):
        part_number: int

    class New(BaseModel):
        site: NewAddress | None = None
        lines: list[NewLine]

    assert changes(Old, New) == [
        "$.site.city: maxLength tightened from 100 to 50",
        "$.site.postal_code: property removed",
        "$.lines[].part_number: type changed from string to integer",
    ]


def test_removing_a_released_event_type_breaks_the_catalogue() -> None:
    class Payload(BaseModel):
        ticket_id: str

    diff = compare_catalogue({"intake.ticket.created.v1": Payload.model_json_schema()}, {})

    assert diff.breaking == ["intake.ticket.created.v1: released schema removed"]
    assert not diff.ok


# --- compatible --------------------------------------------------------------------------------


def test_a_new_optional_property_is_compatible() -> None:
    class Old(BaseModel):
        ticket_id: str

    class New(BaseModel):
        ticket_id: str
        loaner_id: str | None = None
        photos: list[str] = Field(default_factory=list)

    assert changes(Old, New) == []


def test_widened_bounds_are_compatible() -> None:
    class Old(BaseModel):
        note: Annotated[str, Field(min_length=2, max_length=200, pattern=r"^[a-z]+$")]
        quantity: Annotated[int, Field(ge=1, le=10)]

    class New(BaseModel):
        note: Annotated[str, Field(max_length=500)]
        quantity: Annotated[int, Field(ge=0)]

    assert changes(Old, New) == []


def test_a_new_enum_value_is_compatible() -> None:
    class Old(BaseModel):
        channel: Literal["phone", "email"]

    class New(BaseModel):
        channel: Literal["phone", "email", "fax"]

    assert changes(Old, New) == []


def test_accepting_null_or_a_wider_number_is_compatible() -> None:
    class Old(BaseModel):
        serial_number: str
        travel_km: int

    class New(BaseModel):
        serial_number: str | None
        travel_km: float

    assert changes(Old, New) == []


def test_renamed_definitions_and_new_descriptions_are_compatible() -> None:
    class PartLine(BaseModel):
        part_number: str

    class Old(BaseModel):
        lines: list[PartLine]

    class PartQuantity(BaseModel):
        """A quantity of one part."""

        part_number: str = Field(description="Catalogue number")

    class New(BaseModel):
        """Documented now."""

        lines: list[PartQuantity]

    assert changes(Old, New) == []


def test_recursive_definitions_are_compared_without_looping() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = Field(default_factory=list)
        parent: Node | None = None

    assert changes(Node, Node) == []


def test_a_new_event_type_is_reported_and_passes() -> None:
    class Payload(BaseModel):
        ticket_id: str

    schema = Payload.model_json_schema()
    diff = compare_catalogue(
        {"intake.ticket.created.v1": schema},
        {"intake.ticket.created.v1": schema, "intake.ticket.merged.v1": schema},
    )

    assert diff.ok
    assert diff.added == ["intake.ticket.merged.v1"]
