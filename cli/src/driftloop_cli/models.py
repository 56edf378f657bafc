"""``driftloop models``: list, show, register, promote, roll back and trace the
alias history of models in the registry, for ops. Human tables by default,
``--json`` for scripts. Writes send ``DRIFTLOOP_GRPC_AUTH_TOKEN`` as the bearer
token and a fresh request id as the causing event id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table

from driftloop.platform.envelope import new_id
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop_cli.settings import cli_settings

models_app = typer.Typer(help="Model versions and aliases in the registry.", no_args_is_help=True)
console = Console(stderr=True)


def _out() -> Console:
    # Made per command, so that the terminal width (COLUMNS) is read when it runs.
    return Console()


Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Address = Annotated[
    str | None, typer.Option(help="host:port of the registry (default: from settings).")
]
CHUNK = 1024 * 1024


class _Client:
    def __init__(self, address: str | None) -> None:
        settings = cli_settings()
        self.address = address or settings.address_of("registry")
        token = settings.grpc.auth_token.get_secret_value()
        self.request_id = new_id()
        self.write_md: tuple[tuple[str, str], ...] = (("x-request-id", self.request_id),)
        if token:
            self.write_md += (("authorization", f"Bearer {token}"),)
        self.channel = grpc.insecure_channel(
            self.address, options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        )
        self.stub = registry_service_pb2_grpc.RegistryServiceStub(self.channel)

    def call(self, method: str, request: Any, *, write: bool = False) -> Any:
        try:
            return getattr(self.stub, method)(
                request, timeout=60, metadata=self.write_md if write else ()
            )
        except grpc.RpcError as exc:
            console.print(f"[red]{method} failed: {exc.code().name}: {exc.details()}[/red]")
            raise typer.Exit(1) from None


def _dump(message: Any) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out_: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            console.print(f"[red]--{what} {item!r}: expected KEY=VALUE[/red]")
            raise typer.Exit(2)
        out_[key] = value
    return out_


@models_app.command("list")
def list_models(as_json: Json = False, address: Address = None) -> None:
    """Every model with its latest version and aliases."""
    reply = _Client(address).call("ListModels", pb.ListModelsRequest())
    if as_json:
        _out().print_json(json.dumps([_dump(m) for m in reply.models]))
        return
    table = Table("model", "latest", "aliases")
    for m in reply.models:
        aliases = ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items()))
        table.add_row(m.name, str(m.latest_version), aliases)
    _out().print(table)


@models_app.command()
def show(
    model: str,
    version: Annotated[int, typer.Option(help="Version number.")] = 0,
    alias: Annotated[str, typer.Option(help="Alias to resolve.")] = "",
    as_json: Json = False,
    address: Address = None,
) -> None:
    """One version (by --version or --alias), or every version of MODEL."""
    client = _Client(address)
    if version or alias:
        request = pb.GetModelVersionRequest(model=model)
        if version:
            request.version = version
        else:
            request.alias = alias
        versions = [client.call("GetModelVersion", request)]
    else:
        versions = list(
            client.call("ListModelVersions", pb.ListModelVersionsRequest(model=model)).versions
        )
    if as_json:
        _out().print_json(json.dumps([_dump(v) for v in versions]))
        return
    table = Table("version", "aliases", "created", "sha256", "inputs", "metrics", "tags", "run")
    for v in versions:
        table.add_row(
            str(v.version),
            ", ".join(v.aliases),
            v.created_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            v.artifact_sha256[:12],
            " ".join(f"{t.name}:{t.datatype}{list(t.shape)}" for t in v.signature.inputs),
            " ".join(f"{k}={x:.4g}" for k, x in sorted(v.metrics.items())),
            " ".join(f"{k}={x}" for k, x in sorted(v.tags.items())),
            v.run_id,
        )
    _out().print(table)


@models_app.command()
def register(
    file: Annotated[Path, typer.Argument(help="The ONNX file.", exists=True, dir_okay=False)],
    model: Annotated[str, typer.Option(help="Model name.")],
    metric: Annotated[list[str] | None, typer.Option(help="NAME=VALUE (repeatable).")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeatable).")] = None,
    feature_view: Annotated[str, typer.Option(help="Feature view the model expects.")] = "",
    feature_view_version: Annotated[int, typer.Option(help="Its version.")] = 0,
    feature_width: Annotated[int, typer.Option(help="Input width to check (0: none).")] = 0,
    parent: Annotated[int, typer.Option(help="Parent version (0: none).")] = 0,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    as_json: Json = False,
    address: Address = None,
) -> None:
    """Upload FILE as a new version of MODEL; the registry vets it first."""
    metrics: dict[str, float] = {}
    for key, value in _pairs(metric, "metric").items():
        try:
            metrics[key] = float(value)
        except ValueError:
            console.print(f"[red]--metric {key}={value}: not a number[/red]")
            raise typer.Exit(2) from None
    data = file.read_bytes()
    client = _Client(address)
    metadata = pb.RegisterModelVersionMetadata(
        model=model,
        metrics=metrics,
        tags=_pairs(tag, "tag"),
        feature_view=feature_view,
        feature_view_version=feature_view_version,
        feature_width=feature_width,
        parent_version=parent,
        description=description,
        expected_sha256=hashlib.sha256(data).hexdigest(),
        caused_by_event_id=client.request_id,
    )

    def requests() -> Iterator[pb.RegisterModelVersionRequest]:
        yield pb.RegisterModelVersionRequest(metadata=metadata)
        for start in range(0, len(data), CHUNK):
            yield pb.RegisterModelVersionRequest(chunk=data[start : start + CHUNK])

    version = client.call("RegisterModelVersion", requests(), write=True)
    if as_json:
        _out().print_json(json.dumps(_dump(version)))
        return
    _out().print(
        f"[green]registered {model} version {version.version}[/green] ({version.artifact_sha256})"
    )


def _aliases(client: _Client, model: str) -> dict[str, int]:
    for m in client.call("ListModels", pb.ListModelsRequest()).models:
        if m.name == model:
            return dict(m.aliases)
    console.print(f"[red]model {model!r} is not registered[/red]")
    raise typer.Exit(1)


def _set(client: _Client, model: str, alias: str, version: int, expected: int, why: str) -> Any:
    request = pb.SetAliasRequest(
        model=model,
        alias=alias,
        version=version,
        expected_version=expected,
        reason=why,
        caused_by_event_id=client.request_id,
    )
    return client.call("SetAlias", request, write=True)


@models_app.command()
def promote(
    model: str,
    version: Annotated[int, typer.Argument(help="The version to make champion.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the alias history).")] = "",
    as_json: Json = False,
    address: Address = None,
) -> None:
    """Make VERSION the champion (compare-and-set on the current champion).

    The old champion becomes `archived`; `candidate` is dropped if it was VERSION."""
    client = _Client(address)
    current = _aliases(client, model)
    old = current.get("champion", 0)
    why = reason or "promoted with the CLI"
    changes = [_set(client, model, "champion", version, old, why)]
    if old and old != version:
        changes.append(
            _set(
                client, model, "archived", version=old, expected=current.get("archived", 0), why=why
            )
        )
    if current.get("candidate") == version:
        changes.append(
            client.call(
                "DeleteAlias",
                pb.DeleteAliasRequest(
                    model=model,
                    alias="candidate",
                    expected_version=version,
                    reason=why,
                    caused_by_event_id=client.request_id,
                ),
                write=True,
            )
        )
    _print_changes(changes, as_json)


@models_app.command()
def rollback(
    model: str,
    to: Annotated[int, typer.Option(help="Version to return to (default: `archived`).")] = 0,
    reason: Annotated[str, typer.Option(help="Why (kept in the alias history).")] = "",
    as_json: Json = False,
    address: Address = None,
) -> None:
    """Point the champion back at the archived version (or --to N).

    The version rolled back from becomes `archived`."""
    client = _Client(address)
    current = _aliases(client, model)
    target = to or current.get("archived", 0)
    old = current.get("champion", 0)
    if not target:
        console.print(f"[red]{model} has no archived version; give --to VERSION[/red]")
        raise typer.Exit(1)
    why = reason or "rolled back with the CLI"
    changes = [_set(client, model, "champion", target, old, why)]
    if old and old != target:
        changes.append(_set(client, model, "archived", old, current.get("archived", 0), why))
    _print_changes(changes, as_json)


@models_app.command()
def history(
    model: str,
    alias: Annotated[str, typer.Option(help="Only this alias.")] = "",
    at: Annotated[
        datetime | None, typer.Option(help="With --alias: what it pointed at at this time (UTC).")
    ] = None,
    as_json: Json = False,
    address: Address = None,
) -> None:
    """Every alias change of MODEL with its reason and cause, oldest first."""
    request = pb.GetAliasHistoryRequest(model=model, alias=alias)
    if at is not None:
        ts = Timestamp()
        ts.FromDatetime(at if at.tzinfo else at.replace(tzinfo=UTC))
        request.at.CopyFrom(ts)
    reply = _Client(address).call("GetAliasHistory", request)
    if as_json:
        body: dict[str, Any] = {"entries": [_dump(e) for e in reply.entries]}
        if reply.HasField("at_entry"):
            body["at_entry"] = _dump(reply.at_entry)
        _out().print_json(json.dumps(body))
        return
    if at is not None:
        if reply.HasField("at_entry"):
            _out().print(f"{alias} at {at.isoformat()}: version {reply.at_entry.version}")
        else:
            _out().print(f"{alias} was not set at {at.isoformat()}")
    _print_changes(list(reply.entries), False)


def _print_changes(entries: list[Any], as_json: bool) -> None:
    if as_json:
        _out().print_json(json.dumps([_dump(e) for e in entries]))
        return
    table = Table("#", "when (UTC)", "alias", "from", "to", "reason", "caused by")
    for e in entries:
        table.add_row(
            str(e.sequence),
            e.changed_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.alias,
            str(e.previous_version or "-"),
            str(e.version or "deleted"),
            e.reason,
            e.caused_by_event_id,
        )
    _out().print(table)
