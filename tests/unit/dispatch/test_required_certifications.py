"""Every work order on a product line requires the certifications the operator set for the line
(``DISPATCH_REQUIRED_CERTIFICATIONS``); a list given for one order adds to them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from dispatch.domain.technicians import certifications_required
from dispatch.settings import DispatchSettings

BY_LINE = {"air_conditioner": ["refrigerant_handling"], "gas_boiler": ["gas_safe", "flue_analysis"]}


def test_the_setting_maps_each_product_line_to_its_certifications(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DISPATCH_REQUIRED_CERTIFICATIONS",
        '{"air_conditioner": ["refrigerant_handling"], "gas_boiler": ["gas_safe", "flue_analysis"]}',
    )

    assert DispatchSettings().required_certifications == BY_LINE


def test_no_line_requires_anything_unless_the_operator_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPATCH_REQUIRED_CERTIFICATIONS", raising=False)

    assert DispatchSettings().required_certifications == {}


@pytest.mark.parametrize("value", ['["refrigerant_handling"]', '{"air_conditioner": [""]}', "refrigerant"])
def test_a_setting_that_is_not_a_map_of_lines_to_names_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DISPATCH_REQUIRED_CERTIFICATIONS", value)

    with pytest.raises((SettingsError, ValidationError)):
        DispatchSettings()


def test_a_job_requires_its_lines_certifications_and_those_listed_for_it() -> None:
    assert certifications_required("air_conditioner", [], BY_LINE) == {"refrigerant_handling"}
    assert certifications_required("air_conditioner", ["working_at_height"], BY_LINE) == {
        "refrigerant_handling",
        "working_at_height",
    }
    assert certifications_required("air_conditioner", ["refrigerant_handling"], BY_LINE) == {
        "refrigerant_handling"
    }
    assert certifications_required("water_heater", ["working_at_height"], BY_LINE) == {"working_at_height"}
    assert certifications_required("water_heater", [], BY_LINE) == frozenset()
