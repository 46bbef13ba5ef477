"""The committed snapshots and documents match the models, and the commands guard released versions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from contracts import asyncapi, schemas
from contracts.registry import event_types, producer

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "docs" / "events"
RELEASED = "intake.ticket.created.v1"


def test_the_models_are_compatible_with_every_committed_snapshot() -> None:
    diff = schemas.check(SNAPSHOTS)

    assert diff.breaking == []
    assert diff.added == [], "run: python -m contracts.schemas snapshot"


def test_the_committed_snapshots_are_what_the_models_generate() -> None:
    assert schemas.stale_snapshots(SNAPSHOTS) == [], "run: python -m contracts.schemas snapshot"


def test_the_asyncapi_document_and_catalogue_page_are_current() -> None:
    assert asyncapi.main(["--root", str(ROOT), "--check"]) == 0, "run: python -m contracts.asyncapi"


@pytest.fixture
def released(tmp_path: Path) -> Path:
    directory = tmp_path / "events"
    shutil.copytree(SNAPSHOTS, directory)
    return directory


def _release_with_an_extra_property(directory: Path) -> Path:
    """Pretend the released version had a property the current model no longer has."""
    path = directory / f"{RELEASED}.json"
    schema = json.loads(path.read_text())
    schema["properties"]["legacy_code"] = {"type": "string"}
    path.write_text(schemas.render(schema))
    return path


def test_check_fails_on_an_incompatible_change_to_a_released_version(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _release_with_an_extra_property(released)

    assert schemas.main(["check", "--dir", str(released)]) == 1
    assert f"{RELEASED}: $.legacy_code: property removed" in capsys.readouterr().err


def test_snapshot_refuses_to_overwrite_a_released_version_incompatibly(released: Path) -> None:
    path = _release_with_an_extra_property(released)

    assert schemas.main(["snapshot", "--dir", str(released)]) == 1
    assert "legacy_code" in path.read_text()

    assert schemas.main(["snapshot", "--dir", str(released), "--force"]) == 0
    assert "legacy_code" not in path.read_text()


def test_check_reports_a_new_type_without_a_snapshot_and_passes(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (released / f"{RELEASED}.json").unlink()

    assert schemas.main(["check", "--dir", str(released)]) == 0
    assert f"new type without a snapshot yet: {RELEASED}" in capsys.readouterr().out


def test_snapshot_writes_every_type_and_the_envelope(tmp_path: Path) -> None:
    assert schemas.main(["snapshot", "--dir", str(tmp_path)]) == 0

    written = sorted(p.stem for p in tmp_path.glob("*.json"))
    assert written == sorted([*event_types(), "envelope"])
    assert (tmp_path / f"{RELEASED}.json").read_text().endswith("}\n")


def test_the_asyncapi_document_publishes_each_type_on_the_exchange_by_routing_key() -> None:
    document = yaml.load(asyncapi.render_asyncapi(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

    assert document["asyncapi"] == "3.0.0"
    channel = document["channels"]["events"]
    assert channel["address"] == "aftersales.events"
    assert channel["bindings"]["amqp"]["exchange"]["type"] == "topic"
    assert sorted(channel["messages"]) == sorted(event_types())
    for event_type in event_types():
        operation = document["operations"][event_type]
        message = document["components"]["messages"][event_type]
        assert operation["action"] == "send"
        assert operation["bindings"]["amqp"]["cc"] == [event_type]
        assert message["x-producer"] == producer(event_type)
        data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        assert data_ref.rsplit("/", 1)[1] in document["components"]["schemas"]


def test_the_catalogue_page_lists_every_type_with_its_producer() -> None:
    page = asyncapi.render_catalogue()

    for event_type in event_types():
        assert f"| [`{event_type}`]({event_type}.json) | {producer(event_type)} |" in page
