"""``driftloop models``: list, show, register, promote, roll back and trace the
alias history of models in the registry, for ops. Human tables by default,
``--json`` for scripts. Writes send ``DRIFTLOOP_GRPC_AUTH_TOKEN`` as the bearer
token and a fresh request id as the causing event id."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from driftloop_cli import discovery
from driftloop_cli.discovery import DataDir
from driftloop_cli.ui import JsonFlag as Json
from driftloop_cli.ui import err as console
from driftloop_cli.ui import fail, print_json, print_table, version_word

models_app = typer.Typer(help="Model versions and aliases in the registry.", no_args_is_help=True)

Address = Annotated[
    str | None,
    typer.Option(help="host:port of the registry (default: the running platform's registry)."),
]
CHUNK = 1024 * 1024


def _pb() -> ModuleType:
    from driftloop.registry.v1 import registry_service_pb2

    return registry_service_pb2


class _Client:
    def __init__(self, address: str | None, data_dir: Path | None = None) -> None:
        import grpc

        from driftloop.platform.envelope import new_id
        from driftloop.registry.v1 import registry_service_pb2_grpc

        settings = discovery.find(data_dir).settings
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
        import grpc

        try:
            return getattr(self.stub, method)(
                request, timeout=60, metadata=self.write_md if write else ()
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                fail(
                    f"no registry answers at {self.address}; is driftloop running? "
                    "(`driftloop status`, or --address / --data-dir)"
                )
            fail(f"{method} failed: {exc.code().name}: {exc.details()}")


def _dump(message: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(message, preserving_proto_field_name=True)


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out_: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--{what} {item!r}: expected KEY=VALUE", 2)
        out_[key] = value
    return out_


@models_app.command("list")
def list_models(as_json: Json = False, address: Address = None, data_dir: DataDir = None) -> None:
    """Every model with its latest version and aliases."""
    pb = _pb()
    reply = _Client(address, data_dir).call("ListModels", pb.ListModelsRequest())
    if as_json:
        print_json([_dump(m) for m in reply.models])
        return
    rows = [
        (
            m.name,
            version_word(m.latest_version),
            ", ".join(f"{a} → {version_word(v)}" for a, v in sorted(m.aliases.items())),
        )
        for m in reply.models
    ]
    print_table(("model", "latest", "aliases"), rows)


@models_app.command()
def show(
    model: str,
    version: Annotated[int, typer.Option(help="Version number.")] = 0,
    alias: Annotated[str, typer.Option(help="Alias to resolve.")] = "",
    as_json: Json = False,
    address: Address = None,
    data_dir: DataDir = None,
) -> None:
    """One version (by --version or --alias), or every version of MODEL."""
    pb = _pb()
    client = _Client(address, data_dir)
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
        print_json([_dump(v) for v in versions])
        return
    rows = [
        (
            version_word(v.version),
            ", ".join(v.aliases) or "-",
            v.created_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            v.artifact_sha256[:12],
            " ".join(f"{t.name}:{t.datatype}{list(t.shape)}" for t in v.signature.inputs),
            " ".join(f"{k}={x:.4g}" for k, x in sorted(v.metrics.items())),
            " ".join(f"{k}={x}" for k, x in sorted(v.tags.items())),
            v.run_id,
        )
        for v in versions
    ]
    columns = ("version", "aliases", "created (UTC)", "sha256", "inputs", "metrics", "tags", "run")
    print_table(columns, rows, title=f"{model} versions")


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
    data_dir: DataDir = None,
) -> None:
    """Upload FILE as a new version of MODEL; the registry vets it first."""
    pb = _pb()
    metrics: dict[str, float] = {}
    for key, value in _pairs(metric, "metric").items():
        try:
            metrics[key] = float(value)
        except ValueError:
            fail(f"--metric {key}={value}: not a number", 2)
    data = file.read_bytes()
    client = _Client(address, data_dir)
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

    def requests() -> Iterator[Any]:
        yield pb.RegisterModelVersionRequest(metadata=metadata)
        for start in range(0, len(data), CHUNK):
            yield pb.RegisterModelVersionRequest(chunk=data[start : start + CHUNK])

    version = client.call("RegisterModelVersion", requests(), write=True)
    if as_json:
        print_json(_dump(version))
        return
    print(f"registered {model} version {version.version} (sha256 {version.artifact_sha256})")


def _aliases(client: _Client, model: str) -> dict[str, int]:
    for m in client.call("ListModels", _pb().ListModelsRequest()).models:
        if m.name == model:
            return dict(m.aliases)
    fail(f"model {model!r} is not registered")


def _set(client: _Client, model: str, alias: str, version: int, expected: int, why: str) -> Any:
    request = _pb().SetAliasRequest(
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
    data_dir: DataDir = None,
) -> None:
    """Make VERSION the champion (compare-and-set on the current champion).

    The old champion becomes `archived`; `candidate` is dropped if it was VERSION."""
    client = _Client(address, data_dir)
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
                _pb().DeleteAliasRequest(
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
    data_dir: DataDir = None,
) -> None:
    """Point the champion back at the archived version (or --to N).

    The version rolled back from becomes `archived`."""
    client = _Client(address, data_dir)
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
    data_dir: DataDir = None,
) -> None:
    """Every alias change of MODEL with its reason and cause, oldest first."""
    from google.protobuf.timestamp_pb2 import Timestamp

    request = _pb().GetAliasHistoryRequest(model=model, alias=alias)
    if at is not None:
        ts = Timestamp()
        ts.FromDatetime(at if at.tzinfo else at.replace(tzinfo=UTC))
        request.at.CopyFrom(ts)
    reply = _Client(address, data_dir).call("GetAliasHistory", request)
    if as_json:
        body: dict[str, Any] = {"entries": [_dump(e) for e in reply.entries]}
        if reply.HasField("at_entry"):
            body["at_entry"] = _dump(reply.at_entry)
        print_json(body)
        return
    if at is not None:
        if reply.HasField("at_entry"):
            print(f"{alias} at {at.isoformat()}: {version_word(reply.at_entry.version)}")
        else:
            print(f"{alias} was not set at {at.isoformat()}")
    _print_changes(list(reply.entries), False)


def _print_changes(entries: list[Any], as_json: bool) -> None:
    if as_json:
        print_json([_dump(e) for e in entries])
        return
    rows = [
        (
            str(e.sequence),
            e.changed_at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S"),
            e.alias,
            version_word(e.previous_version),
            version_word(e.version) if e.version else "deleted",
            e.reason,
            e.caused_by_event_id,
        )
        for e in entries
    ]
    print_table(("#", "when (UTC)", "alias", "from", "to", "reason", "caused by"), rows)
