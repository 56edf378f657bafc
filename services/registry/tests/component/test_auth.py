"""With a token configured, every write RPC needs it; reads stay open."""

import grpc
import pytest

from driftloop.registry.v1 import registry_service_pb2 as pb

TOKEN = (("authorization", "Bearer s3cret"),)


async def test_every_write_rpc_without_the_token_is_unauthenticated(auth_harness, models):
    h = auth_harness
    ok = await h.stub.RegisterModelVersion(
        iter(models.requests_for(models.linear(), model="m")), metadata=TOKEN
    )
    assert ok.version == 1
    writes = {
        "RegisterModelVersion": lambda md: h.stub.RegisterModelVersion(
            iter(models.requests_for(models.linear(seed=0.7), model="m")), metadata=md
        ),
        "SetAlias": lambda md: h.stub.SetAlias(
            pb.SetAliasRequest(model="m", alias="champion", version=1), metadata=md
        ),
        "DeleteAlias": lambda md: h.stub.DeleteAlias(
            pb.DeleteAliasRequest(model="m", alias="champion"), metadata=md
        ),
    }
    for name, call in writes.items():
        for md in ((), (("authorization", "Bearer wrong"),)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await call(md)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
    # Nothing was written by the refused calls.
    listed = await h.stub.ListModels(pb.ListModelsRequest())
    assert [(m.latest_version, dict(m.aliases)) for m in listed.models] == [(1, {})]
    # With the token the writes go through, and reads need none.
    await writes["SetAlias"](TOKEN)
    await writes["DeleteAlias"](TOKEN)
    await h.stub.GetModelVersion(pb.GetModelVersionRequest(model="m", version=1))
    chunks = [
        c async for c in h.stub.DownloadArtifact(pb.DownloadArtifactRequest(model="m", version=1))
    ]
    assert chunks


def test_the_write_list_covers_every_write_rpc_of_the_service():
    from driftloop.platform.access import WRITE, access_table

    table = access_table("driftloop.registry.v1.RegistryService")
    writes = sorted(m.rsplit("/", 1)[1] for m, access in table.items() if access == WRITE)
    assert writes == ["DeleteAlias", "RegisterModelVersion", "SetAlias"]
