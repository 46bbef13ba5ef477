"""JSON Schema snapshots of every event payload, and the check that guards released versions.

``python -m contracts.schemas snapshot`` writes ``docs/events/<type>.json`` for every registered
type and ``docs/events/envelope.json``. It refuses to overwrite a released snapshot with an
incompatible schema (publish a new version of the type instead); ``--force`` overrides that for a
version that was never released.

``python -m contracts.schemas check`` compares the live models with the committed snapshots and
exits 1 on an incompatible change (see :mod:`contracts.compat`); new types without a snapshot and
compatible changes are reported, and pass.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import contracts  # noqa: F401  (registers every payload module)
from contracts.compat import CatalogueDiff, compare_catalogue
from contracts.envelope import CloudEvent, EventPayload
from contracts.registry import all_models

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE = "envelope"
SNAPSHOT_DIR = Path("docs") / "events"


def payload_schema(model: type[EventPayload]) -> dict[str, Any]:
    """The JSON Schema of a payload model as consumers validate it."""
    return {"$schema": DIALECT, **model.model_json_schema()}


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of the CloudEvents envelope every payload travels in."""
    return {"$schema": DIALECT, **CloudEvent.model_json_schema()}


def live_schemas() -> dict[str, dict[str, Any]]:
    """Every registered type's payload schema, plus the envelope under ``envelope``."""
    schemas = {event_type: payload_schema(model) for event_type, model in all_models().items()}
    schemas[ENVELOPE] = envelope_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    """A schema as committed: two-space indent, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_snapshots(directory: Path) -> dict[str, dict[str, Any]]:
    """The committed snapshots in ``directory``, by name (event type or ``envelope``)."""
    if not directory.is_dir():
        return {}
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.json"))
    }


def check(directory: Path, live: dict[str, dict[str, Any]] | None = None) -> CatalogueDiff:
    """Compare the committed snapshots with the live models (or the ``live`` schemas given)."""
    return compare_catalogue(read_snapshots(directory), live_schemas() if live is None else live)


def stale_snapshots(directory: Path) -> list[str]:
    """Names whose committed snapshot differs from what ``snapshot`` would write now."""
    live = live_schemas()
    stale = [name for name, schema in live.items() if _read(directory / f"{name}.json") != render(schema)]
    stale += [name for name in read_snapshots(directory) if name not in live]
    return sorted(stale)


def write_snapshots(directory: Path, *, force: bool = False) -> CatalogueDiff:
    """Write every live schema to ``directory``; refuse (write nothing) on a breaking change unless ``force``.

    With ``force``, snapshots of types no longer registered are deleted too.
    """
    live = live_schemas()
    diff = check(directory, live)
    if diff.breaking and not force:
        return diff
    directory.mkdir(parents=True, exist_ok=True)
    for name, schema in live.items():
        path = directory / f"{name}.json"
        text = render(schema)
        if _read(path) != text:
            path.write_text(text, encoding="utf-8")
    if force:
        for path in directory.glob("*.json"):
            if path.stem not in live:
                path.unlink()
    return diff


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def find_repository_root(start: Path | None = None) -> Path:
    """The monorepo root above ``start`` (the working directory by default), else ``start`` itself."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "libs" / "contracts").is_dir():
            return candidate
    return here


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.schemas", description="Write or check the event schema snapshots."
    )
    parser.add_argument("command", choices=["snapshot", "check"])
    parser.add_argument("--dir", type=Path, default=None, help="snapshot directory (default: docs/events)")
    parser.add_argument("--force", action="store_true", help="snapshot: overwrite even on a breaking change")
    args = parser.parse_args(argv)
    directory: Path = args.dir or find_repository_root() / SNAPSHOT_DIR

    if args.command == "snapshot":
        diff = write_snapshots(directory, force=args.force)
        if diff.breaking and not args.force:
            _report_breaking(diff, refused=True)
            return 1
        print(f"snapshots in {directory} are current")
        for name in diff.added:
            print(f"  new: {name}")
        return 0

    diff = check(directory)
    for name in diff.added:
        print(f"new type without a snapshot yet: {name}")
    for name in diff.changed:
        print(f"compatible change, snapshot needs refreshing: {name}")
    if diff.breaking:
        _report_breaking(diff, refused=False)
        return 1
    print(f"contracts compatible with the snapshots in {directory}")
    return 0


def _report_breaking(diff: CatalogueDiff, *, refused: bool) -> None:
    print("incompatible changes to released event versions:", file=sys.stderr)
    for finding in diff.breaking:
        print(f"  {finding}", file=sys.stderr)
    advice = "publish the change as a new version (<type>.v<N+1>) beside the old one"
    if refused:
        advice += ", or pass --force for a version that was never released"
    print(advice, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
