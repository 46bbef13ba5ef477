"""Which differences between two JSON Schemas break a released event version.

A released payload must still parse every event published under it (events wait in outboxes,
queues and dead-letter queues, and are replayed), and must keep giving consumers the data they
were promised. So, comparing the released schema (old) with the current one (new), these break:

- a property removed, or its type changed so that an old value is no longer accepted;
- a property newly required (a new required property included);
- enum / literal values removed (or a free value newly restricted to a list);
- a bound tightened: ``maxLength``/``maxItems``/``maximum`` smaller, ``minLength``/``minItems``/
  ``minimum`` larger, or newly added; ``pattern``, ``format`` or ``multipleOf`` changed or added;
  ``additionalProperties`` newly forbidden; ``uniqueItems`` newly demanded.

Nested definitions are compared the same way, following ``$ref``. Titles, descriptions, defaults
and examples are documentation and never break anything. A new optional property, a widened bound,
a new enum value, a type that now also accepts ``null``, and a new event type are compatible.

Everything here is pure: JSON Schema documents in, human-readable findings out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

JsonSchema = Mapping[str, Any]
"""A JSON Schema document (or a part of one) as parsed from JSON."""

_Variant = tuple[str | None, JsonSchema]


@dataclass(frozen=True)
class CatalogueDiff:
    """The result of comparing the released snapshots of a catalogue with its current schemas."""

    breaking: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaking


def breaking_changes(old: JsonSchema, new: JsonSchema) -> list[str]:
    """Every incompatible change from the released schema ``old`` to ``new``, one sentence each."""
    return _Comparison(old, new).compare(old, new, "$")


def compare_catalogue(released: Mapping[str, JsonSchema], current: Mapping[str, JsonSchema]) -> CatalogueDiff:
    """Compare released schemas with current ones, by name (event type, or ``envelope``).

    A released name missing from ``current`` is breaking; a current name with no released schema is
    reported in ``added``; a compatible difference in ``changed``.
    """
    breaking: list[str] = []
    changed: list[str] = []
    for name in sorted(released):
        if name not in current:
            breaking.append(f"{name}: released schema removed")
            continue
        found = breaking_changes(released[name], current[name])
        breaking.extend(f"{name}: {finding}" for finding in found)
        if not found and _canonical(released[name]) != _canonical(current[name]):
            changed.append(name)
    added = sorted(set(current) - set(released))
    return CatalogueDiff(breaking=breaking, added=added, changed=changed)


# --- the comparison ----------------------------------------------------------------------------

_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_EXACT = ("pattern", "format", "multipleOf")


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class _Comparison:
    def __init__(self, old_root: JsonSchema, new_root: JsonSchema) -> None:
        self._roots = (old_root, new_root)
        self._active: set[tuple[str, str]] = set()

    def compare(self, old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        old_variants = list(self._variants(old, self._roots[0]))
        new_variants = list(self._variants(new, self._roots[1]))
        if any(_kind(v) == "any" for _, v in new_variants):
            return []
        if len(old_variants) == 1 and len(new_variants) == 1:
            old_kind, new_kind = _kind(old_variants[0][1]), _kind(new_variants[0][1])
            if not _accepts(new_kind, old_kind):
                return [f"{path}: type changed from {old_kind} to {new_kind}"]
            return self._compare_pair(old_variants[0], new_variants[0], path)
        findings: list[str] = []
        new_kinds = sorted({_kind(v) for _, v in new_variants})
        for old_variant in old_variants:
            old_kind = _kind(old_variant[1])
            candidates = [v for v in new_variants if _accepts(_kind(v[1]), old_kind)]
            if not candidates:
                findings.append(f"{path}: {old_kind} is no longer accepted (now {' or '.join(new_kinds)})")
                continue
            attempts = [self._compare_pair(old_variant, candidate, path) for candidate in candidates]
            closest: list[str] = min(attempts, key=len)
            findings.extend(closest)
        return findings

    def _compare_pair(self, old: _Variant, new: _Variant, path: str) -> list[str]:
        (old_ref, old_schema), (new_ref, new_schema) = old, new
        if old_ref is None or new_ref is None:
            return self._compare_one(old_schema, new_schema, path)
        # Recursive definitions: a pair already being compared further up is not compared again.
        pair = (old_ref, new_ref)
        if pair in self._active:
            return []
        self._active.add(pair)
        try:
            return self._compare_one(old_schema, new_schema, path)
        finally:
            self._active.discard(pair)

    def _compare_one(self, old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        findings = self._values(old, new, path)
        findings += self._bounds(old, new, path)
        kind = _kind(old)
        if kind == "object":
            findings += self._object(old, new, path)
        elif kind == "array":
            findings += self._array(old, new, path)
        return findings

    @staticmethod
    def _values(old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        new_values = _allowed_values(new)
        if new_values is None:
            return []
        old_values = _allowed_values(old)
        if old_values is None:
            shown = ", ".join(sorted(new_values))
            return [f"{path}: now restricted to the values {shown}"]
        removed = sorted(set(old_values) - set(new_values))
        if removed:
            return [f"{path}: values removed: {', '.join(removed)}"]
        return []

    @staticmethod
    def _bounds(old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        findings: list[str] = []
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                findings.append(f"{path}: {key} tightened from {old.get(key, 'none')} to {new[key]}")
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                if key in ("minLength", "minItems", "minProperties") and new[key] == 0:
                    continue
                findings.append(f"{path}: {key} tightened from {old.get(key, 'none')} to {new[key]}")
        for key in _EXACT:
            if key in new and new[key] != old.get(key):
                findings.append(f"{path}: {key} changed from {old.get(key, 'none')!r} to {new[key]!r}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            findings.append(f"{path}: items must now be unique")
        return findings

    def _object(self, old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        findings: list[str] = []
        old_props: Mapping[str, JsonSchema] = old.get("properties", {})
        new_props: Mapping[str, JsonSchema] = new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                findings.append(f"{_join(path, name)}: property removed")
            else:
                findings += self.compare(old_prop, new_props[name], _join(path, name))
        old_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name not in old_required:
                findings.append(f"{_join(path, name)}: property newly required")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            findings.append(f"{path}: additional properties no longer allowed")
        elif isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            findings += self.compare(old_extra, new_extra, f"{path}.*")
        return findings

    def _array(self, old: JsonSchema, new: JsonSchema, path: str) -> list[str]:
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            return self.compare(old_items, new_items, f"{path}[]")
        if isinstance(new_items, Mapping) and old_items is None:
            return self.compare({}, new_items, f"{path}[]")
        return []

    # --- schema navigation ---------------------------------------------------------------------

    def _variants(self, schema: JsonSchema, root: JsonSchema) -> Iterator[_Variant]:
        """The alternatives a schema accepts, each resolved: anyOf/oneOf and type lists flattened."""
        ref = schema.get("$ref")
        resolved = self._resolve(schema, root)
        for key in ("anyOf", "oneOf"):
            if key in resolved:
                for option in resolved[key]:
                    yield from self._variants(option, root)
                return
        types = resolved.get("type")
        if isinstance(types, list):
            for single in types:
                yield None, {**resolved, "type": single}
            return
        yield (ref if isinstance(ref, str) else None), resolved

    def _resolve(self, schema: JsonSchema, root: JsonSchema) -> JsonSchema:
        seen: set[str] = set()
        current = dict(schema)
        while isinstance(current.get("$ref"), str):
            ref = current.pop("$ref")
            if ref in seen:
                raise ValueError(f"circular $ref: {ref}")
            seen.add(ref)
            current = {**_pointer(root, ref), **current}
        if "allOf" in current:
            parts = [self._resolve(part, root) for part in current.pop("allOf")]
            for part in parts:
                current = _merge(current, part)
        return current


def _pointer(root: JsonSchema, ref: str) -> JsonSchema:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref is supported: {ref}")
    node: Any = root
    for token in ref[1:].split("/")[1:]:
        node = node[token.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping):
        raise ValueError(f"$ref does not point at a schema: {ref}")
    return node


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**extra, **base}
    if "properties" in base or "properties" in extra:
        merged["properties"] = {**extra.get("properties", {}), **base.get("properties", {})}
    if "required" in base or "required" in extra:
        merged["required"] = sorted({*base.get("required", []), *extra.get("required", [])})
    return merged


def _kind(schema: JsonSchema) -> str:
    declared = schema.get("type")
    if isinstance(declared, str):
        return declared
    values = _allowed_values(schema)
    if values is not None:
        kinds = {_json_kind(json.loads(value)) for value in values}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "any"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _accepts(new_kind: str, old_kind: str) -> bool:
    return new_kind in (old_kind, "any") or (new_kind == "number" and old_kind == "integer")


def _allowed_values(schema: JsonSchema) -> set[str] | None:
    if "const" in schema:
        return {_canonical(schema["const"])}
    if "enum" in schema:
        return {_canonical(value) for value in schema["enum"]}
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}"
