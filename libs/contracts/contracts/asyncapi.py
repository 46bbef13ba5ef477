"""The AsyncAPI 3.0 document and the event catalogue page, generated from the registry.

``python -m contracts.asyncapi`` writes ``docs/asyncapi.yaml`` and ``docs/events/README.md``;
``--check`` only reports (exit 1) when either is out of date. Neither file is edited by hand.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

import contracts  # noqa: F401  (registers every payload module)
from contracts.envelope import CONTENT_TYPE, SOURCE_PREFIX, CloudEvent, EventPayload
from contracts.registry import all_models, producer
from contracts.schemas import find_repository_root

EXCHANGE = "aftersales.events"
CHANNEL = "events"
DOCUMENT_VERSION = "1.0.0"
ASYNCAPI_PATH = Path("docs") / "asyncapi.yaml"
CATALOGUE_PATH = Path("docs") / "events" / "README.md"

ATTRIBUTES: dict[str, str] = {
    "specversion": "CloudEvents version, always 1.0.",
    "id": "Unique event id (UUID); consumers use it as the idempotency key of their inbox.",
    "source": "The producing service: /aftersales/<service>.",
    "type": "<service>.<entity>.<verb>.v<N>; also the AMQP routing key.",
    "subject": "The id of the entity the event is about (named per type under x-subject).",
    "time": "When the change happened (UTC, RFC 3339).",
    "datacontenttype": "Always application/json: data is a JSON object.",
    "data": "The payload, as the message's data schema describes it.",
    "correlationid": "Extension: the id that ties together everything one request caused.",
    "causationid": "Extension: the id of the event or request that directly caused this one.",
    "traceparent": "Extension: W3C trace context, continuing the producer's trace.",
    "dealerid": "Extension: the dealer the event concerns, for partner scoping of webhook deliveries.",
}


def summary(model: type[EventPayload]) -> str:
    """The first line of a payload model's docstring."""
    return description(model).split("\n", 1)[0]


def description(model: type[EventPayload]) -> str:
    return inspect.cleandoc(model.__doc__ or model.__name__)


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the whole catalogue, as plain data."""
    models = all_models()
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models.values()] + [(CloudEvent, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    envelope_ref = refs[(CloudEvent, "validation")]["$ref"]
    envelope_name = envelope_ref.rsplit("/", 1)[1]
    schemas[envelope_name] = _document_attributes(schemas[envelope_name])

    messages: dict[str, Any] = {}
    channel_messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type, model in models.items():
        service = producer(event_type)
        messages[event_type] = {
            "name": event_type,
            "title": model.__name__,
            "summary": summary(model),
            "description": description(model),
            "contentType": CONTENT_TYPE,
            "tags": [{"name": service}],
            "correlationId": {"location": "$message.payload#/correlationid"},
            "payload": {
                "allOf": [
                    {"$ref": envelope_ref},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "source": {"const": SOURCE_PREFIX + service},
                            "data": refs[(model, "validation")],
                        },
                    },
                ]
            },
            "bindings": {"amqp": {"messageType": event_type, "bindingVersion": "0.3.0"}},
            "x-producer": service,
            "x-subject": model.subject_field,
        }
        channel_messages[event_type] = {"$ref": f"#/components/messages/{event_type}"}
        operations[event_type] = {
            "action": "send",
            "title": f"{service} publishes {event_type}",
            "summary": summary(model),
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "messages": [{"$ref": f"#/channels/{CHANNEL}/messages/{event_type}"}],
            "tags": [{"name": service}],
            "bindings": {"amqp": {"cc": [event_type], "deliveryMode": 2, "bindingVersion": "0.3.0"}},
        }

    services = sorted({producer(event_type) for event_type in models})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "After-sales service platform events",
            "version": DOCUMENT_VERSION,
            "description": (
                "Every event the after-sales services publish. Each is a CloudEvents 1.0 document in "
                "structured mode (the attributes and `data` in one JSON body), published persistent to "
                f"the durable topic exchange `{EXCHANGE}` with the event type as routing key. "
                "Consumers bind one durable quorum queue per service to the types they handle. The AMQP "
                "message carries the event `id` as `message_id` and the `type` as `type`, with content "
                f"type `{CONTENT_TYPE}` and delivery mode 2 (persistent).\n\n"
                "A released type never changes incompatibly; a breaking change is published as a new "
                "version (`.v2`) beside the old one. JSON Schema snapshots of each payload are in "
                "`docs/events/`."
            ),
            "tags": [{"name": s, "description": f"Published by the {s} service"} for s in services],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "broker": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "The RabbitMQ broker (AMQP_URL in each service's configuration).",
            }
        },
        "channels": {
            CHANNEL: {
                "address": EXCHANGE,
                "title": "The event exchange",
                "description": (
                    f"The durable topic exchange `{EXCHANGE}`. The routing key of every message is its "
                    "CloudEvents `type`, so a queue binds to `intake.ticket.created.v1`, to "
                    "`dispatch.work_order.*.v1`, or to `#`."
                ),
                "messages": channel_messages,
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {"name": EXCHANGE, "type": "topic", "durable": True, "autoDelete": False},
                        "bindingVersion": "0.3.0",
                    }
                },
            }
        },
        "operations": operations,
        "components": {"schemas": dict(sorted(schemas.items())), "messages": messages},
    }


def _document_attributes(envelope: dict[str, Any]) -> dict[str, Any]:
    properties = {
        name: {**schema, "description": ATTRIBUTES[name]} if name in ATTRIBUTES else schema
        for name, schema in envelope.get("properties", {}).items()
    }
    return {
        **envelope,
        "description": "A CloudEvents 1.0 document (structured mode) with this platform's extensions.",
        "properties": properties,
    }


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_asyncapi() -> str:
    """The AsyncAPI document as YAML, as committed."""
    header = "# Generated by `python -m contracts.asyncapi` from libs/contracts. Do not edit.\n"
    body = yaml.dump(build_document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return header + body


def render_catalogue() -> str:
    """The event catalogue page (Markdown): type, producer, subject and what it means."""
    lines = [
        "# Event catalogue",
        "",
        "Generated by `python -m contracts.asyncapi` from the payload models in `libs/contracts`;",
        "do not edit. Each type links to its payload's JSON Schema snapshot; `envelope.json` is the",
        "CloudEvents envelope, and `../asyncapi.yaml` describes them all. Every event is published to",
        f"the topic exchange `{EXCHANGE}` with its type as the routing key.",
        "",
        "| type | producer | subject | description |",
        "| --- | --- | --- | --- |",
    ]
    for event_type, model in all_models().items():
        subject = f"`{model.subject_field}`" if model.subject_field else ""
        text = summary(model).replace("|", "\\|")
        lines.append(f"| [`{event_type}`]({event_type}.json) | {producer(event_type)} | {subject} | {text} |")
    lines += [
        "",
        "## Changing a contract",
        "",
        "- A compatible change (a new optional field, a wider bound, a new enum value, a new type): edit the",
        "  model, then run `python -m contracts.schemas snapshot` and `python -m contracts.asyncapi`.",
        "- An incompatible change to a released type (a field removed, retyped or newly required, an enum",
        "  value removed, a bound tightened): add `<service>.<entity>.<verb>.v<N+1>` beside the old type and",
        "  publish both until every consumer has moved. `python -m contracts.schemas check` (part of the",
        "  test suite) fails on such a change and `snapshot` refuses to record it.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.asyncapi", description="Write docs/asyncapi.yaml and docs/events/README.md."
    )
    parser.add_argument("--root", type=Path, default=None, help="repository root (default: found from here)")
    parser.add_argument("--check", action="store_true", help="only report whether the files are current")
    args = parser.parse_args(argv)
    root: Path = args.root or find_repository_root()

    outputs = {root / ASYNCAPI_PATH: render_asyncapi(), root / CATALOGUE_PATH: render_catalogue()}
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path} (run python -m contracts.asyncapi)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path], encoding="utf-8")
    for path in outputs:
        print(f"{'wrote' if path in stale else 'unchanged'}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
