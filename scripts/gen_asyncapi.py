"""Generate the AsyncAPI 3 document of every topic (docs/asyncapi.yaml), its
HTML rendering (docs/asyncapi.html) and docs/CONTRACTS.md's events table, all
from the code: the topic table (driftloop.platform.topics), the protobuf
descriptors of the events and the CloudEvents headers the envelope writes.

Run through `make asyncapi` (writes into docs/) or `make asyncapi-check`
(writes into a temporary folder and fails when the committed files differ).
"""

from __future__ import annotations

import html
import importlib
import sys
from pathlib import Path
from typing import Any

import yaml
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from driftloop.common.v1.common_pb2 import EventMeta
from driftloop.platform import topics
from driftloop.platform.envelope import headers_for

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- events:begin (make asyncapi) -->", "<!-- events:end -->"

_SCALAR = {
    FieldDescriptor.TYPE_DOUBLE: "number",
    FieldDescriptor.TYPE_FLOAT: "number",
    FieldDescriptor.TYPE_BOOL: "boolean",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "string",
}


def _message(full_name: str) -> Descriptor:
    package, name = full_name.rsplit(".", 1)
    for module in ("events_pb2", "deadletter_pb2"):
        try:
            return getattr(importlib.import_module(f"{package}.{module}"), name).DESCRIPTOR
        except (ImportError, AttributeError):
            continue
    raise KeyError(f"no generated message {full_name}")


def _schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if field.message_type is not None:
        if field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": _schema(value, schemas)}
        _collect(field.message_type, schemas)
        one: dict[str, Any] = {"$ref": f"#/components/schemas/{field.message_type.full_name}"}
    elif field.enum_type is not None:
        one = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    else:
        one = {"type": _SCALAR.get(field.type, "integer")}
    return {"type": "array", "items": one} if field.is_repeated else one


def _collect(message: Descriptor, schemas: dict[str, Any]) -> None:
    """The JSON schema of a protobuf message (and of the messages it holds)."""
    if message.full_name in schemas:
        return
    schemas[message.full_name] = {}  # placed first: messages may nest themselves
    schemas[message.full_name] = {
        "type": "object",
        "description": f"protobuf {message.full_name} ({message.file.name})",
        "properties": {f.name: _schema(f, schemas) for f in message.fields},
    }


def _headers() -> dict[str, Any]:
    meta = EventMeta(event_id="id", causation_id="c", correlation_id="c", source="s")
    sample = _message("driftloop.monitoring.v1.DriftDetected")._concrete_class(meta=meta)
    names = sorted(headers_for(sample))
    return {"type": "object", "properties": {n: {"type": "string"} for n in names}}


def document() -> dict[str, Any]:
    """The AsyncAPI 3 document of every topic."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    headers = _headers()
    for topic in topics.ALL:
        refs = {}
        for carried in topic.carries:
            if carried.startswith("driftloop."):
                name = carried.rsplit(".", 1)[1]
                _collect(_message(carried), schemas)
                payload = {"$ref": f"#/components/schemas/{carried}"}
                messages[name] = {
                    "name": name,
                    "contentType": "application/x-protobuf",
                    "headers": headers,
                    "payload": payload,
                }
            else:
                name = topic.name.removeprefix("driftloop.").replace(".", "_")
                messages[name] = {"name": name, "summary": carried, "payload": {}}
            messages[name]["bindings"] = {
                "kafka": {"key": {"type": "string", "description": topic.key}}
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channels[topic.name] = {
            "address": topic.name,
            "description": f"keyed by {topic.key}",
            "messages": refs,
        }
        for action, who in (("send", topic.producers), ("receive", topic.consumers)):
            for party in who:
                op = f"{party.split()[0]}.{action}.{topic.name}"
                operations[op] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{topic.name.replace('/', '~1')}"},
                    "summary": f"{party} {'publishes' if action == 'send' else 'consumes'}",
                }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "driftloop events",
            "version": "1",
            "description": "Every Kafka topic of driftloop: its events (protobuf, "
            "CloudEvents binary-mode headers), key, publishers and consumers.",
        },
        "defaultContentType": "application/x-protobuf",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def table() -> str:
    """docs/CONTRACTS.md's events table."""
    rows = ["| topic | event(s) | producer | consumers | key |", "|---|---|---|---|---|"]
    for t in topics.ALL:
        events = ", ".join(
            f"`{c.rsplit('.', 1)[1]}`" if c.startswith("driftloop.") else c for c in t.carries
        )
        rows.append(
            f"| `{t.name}` | {events} | {', '.join(t.producers)} | "
            f"{', '.join(t.consumers)} | {t.key} |"
        )
    return "\n".join(rows)


def render(doc: dict[str, Any]) -> str:
    """A plain HTML page of the document, for ops (no scripts, no fetches)."""
    out = ["<!doctype html><meta charset=utf-8><title>driftloop events</title>"]
    out.append(f"<h1>{html.escape(doc['info']['title'])}</h1>")
    out.append(f"<p>{html.escape(doc['info']['description'])}</p>")
    for name, channel in doc["channels"].items():
        ops = [
            o["summary"] for o in doc["operations"].values() if o["channel"]["$ref"].endswith(name)
        ]
        out.append(f"<h2>{html.escape(name)}</h2><p>{html.escape(channel['description'])}; "
                   f"{html.escape('; '.join(ops))}</p><ul>")  # fmt: skip
        for msg in channel["messages"]:
            payload = doc["components"]["messages"][msg]["payload"]
            ref = payload.get("$ref", "").rsplit("/", 1)[-1]
            fields = doc["components"]["schemas"].get(ref, {}).get("properties", {})
            out.append(f"<li><b>{html.escape(msg)}</b> {html.escape(', '.join(fields))}</li>")
        out.append("</ul>")
    return "\n".join(out) + "\n"


def generate(out: Path, contracts: Path) -> None:
    doc = document()
    out.mkdir(parents=True, exist_ok=True)
    (out / "asyncapi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=100))
    (out / "asyncapi.html").write_text(render(doc))
    text = contracts.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    (out / "CONTRACTS.md").write_text(text[:start] + "\n" + table() + "\n" + text[end:])


if __name__ == "__main__":
    generate(Path(sys.argv[1]), ROOT / "docs" / "CONTRACTS.md")
