"""Registering, reading and listing versions through the real servicer, on
SQLite and on PostgreSQL."""

import hashlib

import grpc
import pytest

from driftloop.common.v1 import common_pb2
from driftloop.registry.v1 import registry_service_pb2 as pb


async def test_versions_are_numbered_per_model_with_the_signature_read_from_the_model(
    harness, models
):
    art = models.linear(width=4, seed=0.3)
    profile = common_pb2.ReferenceProfile(rows=123)
    v1 = await harness.register(
        "m",
        art,
        {
            "metrics": {"auc": 0.9},
            "tags": {"team": "risk"},
            "run_id": "run-1",
            "dataset_snapshot_id": "snap-1",
            "feature_view": "loan_features",
            "feature_view_version": 2,
            "feature_width": 4,
            "reference_profile": profile,
            "task": common_pb2.TASK_KIND_REGRESSION,
            "expected_sha256": hashlib.sha256(art).hexdigest(),
        },
    )
    v2 = await harness.register("m", models.linear(seed=0.5), {"parent_version": 1})
    other = await harness.register("other", models.classifier())

    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v1.artifact_sha256 == hashlib.sha256(art).hexdigest()
    assert v1.artifact_size == len(art)
    assert [(t.name, t.datatype, list(t.shape)) for t in v1.signature.inputs] == [
        ("input", "FP32", [-1, 4])
    ]
    assert [(t.name, t.datatype, list(t.shape)) for t in other.signature.outputs] == [
        ("label", "INT64", [-1]),
        ("probabilities", "FP32", [-1, 2]),
    ]
    got = await harness.stub.GetModelVersion(pb.GetModelVersionRequest(model="m", version=1))
    assert got.metrics["auc"] == 0.9 and got.tags["team"] == "risk"
    assert (got.run_id, got.dataset_snapshot_id, got.feature_view) == (
        "run-1",
        "snap-1",
        "loan_features",
    )
    assert got.feature_view_version == 2
    assert got.reference_profile.rows == 123
    assert got.task == common_pb2.TASK_KIND_REGRESSION
    assert got.created_at.seconds > 0
    lineage = await harness.stub.GetLineage(pb.GetLineageRequest(model="m", version=2))
    assert [v.version for v in lineage.chain] == [2, 1]


async def test_concurrent_registrations_get_distinct_consecutive_numbers(harness, models):
    import asyncio

    replies = await asyncio.gather(
        *(harness.register("busy", models.linear(seed=0.1 * (i + 1))) for i in range(4))
    )
    assert sorted(r.version for r in replies) == [1, 2, 3, 4]


async def test_list_models_and_versions_filter_by_alias_tag_and_metric(harness, models):
    for seed, auc, team in ((0.1, 0.7, "a"), (0.2, 0.8, "b"), (0.3, 0.9, "b")):
        await harness.register(
            "m", models.linear(seed=seed), {"metrics": {"auc": auc}, "tags": {"team": team}}
        )
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="champion", version=2))

    listed = await harness.stub.ListModels(pb.ListModelsRequest())
    assert [(m.name, m.latest_version, dict(m.aliases)) for m in listed.models] == [
        ("m", 3, {"champion": 2})
    ]

    async def versions(**kw):
        reply = await harness.stub.ListModelVersions(pb.ListModelVersionsRequest(model="m", **kw))
        return [v.version for v in reply.versions]

    assert await versions() == [1, 2, 3]
    assert await versions(alias="champion") == [2]
    assert await versions(tags={"team": "b"}) == [2, 3]
    assert await versions(metrics=[pb.MetricFilter(metric="auc", op=">", value=0.75)]) == [2, 3]
    assert await versions(
        tags={"team": "b"}, metrics=[pb.MetricFilter(metric="auc", op="<", value=0.85)]
    ) == [2]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await versions(metrics=[pb.MetricFilter(metric="auc", op="~", value=1)])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "op" in err.value.details()


async def test_get_by_alias_and_missing_things_are_not_found(harness, models):
    await harness.register("m")
    await harness.stub.SetAlias(pb.SetAliasRequest(model="m", alias="champion", version=1))
    got = await harness.stub.GetModelVersion(pb.GetModelVersionRequest(model="m", alias="champion"))
    assert got.version == 1 and list(got.aliases) == ["champion"]
    for request in (
        pb.GetModelVersionRequest(model="m", version=9),
        pb.GetModelVersionRequest(model="m", alias="candidate"),
        pb.GetModelVersionRequest(model="nope", version=1),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await harness.stub.GetModelVersion(request)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND, request


async def test_bad_metadata_is_refused_with_the_field_named(harness, models):
    cases = {
        "model": {"model": "bad name!"},
        "metrics": {"model": "m", "metrics": {"auc": float("nan")}},
        "expected_sha256": {"model": "m", "expected_sha256": "0" * 64},
    }
    for field, metadata in cases.items():
        requests = models.requests_for(models.linear(), **metadata)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await harness.stub.RegisterModelVersion(iter(requests))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in err.value.details()
    # Chunks before metadata.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.stub.RegisterModelVersion(
            iter([pb.RegisterModelVersionRequest(chunk=models.linear())])
        )
    assert "metadata" in err.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.register("m", metadata={"parent_version": 4})
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "parent_version" in err.value.details()
    assert harness.stored_files() == []


async def test_a_retried_registration_with_the_same_cause_returns_the_first_version(
    harness, models
):
    import asyncio

    first = await harness.register("m", metadata={"caused_by_event_id": "run-done-1"})
    again = await harness.register("m", metadata={"caused_by_event_id": "run-done-1"})
    assert again.version == first.version == 1
    # Concurrent retries of another registration also make one version.
    racing = await asyncio.gather(
        *(harness.register("m", metadata={"caused_by_event_id": "run-done-2"}) for _ in range(3))
    )
    assert {r.version for r in racing} == {2}
    listed = await harness.stub.ListModelVersions(pb.ListModelVersionsRequest(model="m"))
    assert len(listed.versions) == 2
    assert await harness.relay.drain() == 2  # one event per version


async def test_download_streams_the_verified_bytes(harness, models):
    art = models.linear(width=20_000)
    await harness.register("m", art)
    chunks = [
        c
        async for c in harness.stub.DownloadArtifact(
            pb.DownloadArtifactRequest(model="m", version=1)
        )
    ]
    assert len(chunks) > 1  # 32 KiB chunks in the harness
    assert b"".join(c.data for c in chunks) == art
    assert chunks[0].sha256 == hashlib.sha256(art).hexdigest() and chunks[0].size == len(art)


async def test_a_tampered_artifact_fails_its_checksum_on_download(harness, models):
    art = models.linear()
    v = await harness.register("m", art)
    path = harness.store.path_of(v.artifact_sha256)
    tampered = bytearray(path.read_bytes())
    tampered[-5] ^= 0xFF
    path.write_bytes(bytes(tampered))

    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in harness.stub.DownloadArtifact(
            pb.DownloadArtifactRequest(model="m", version=1)
        ):
            pass
    assert err.value.code() == grpc.StatusCode.DATA_LOSS
    assert "checksum" in err.value.details()


async def test_identical_artifacts_share_one_stored_file_and_staging_is_left_empty(harness, models):
    art = models.linear(seed=0.9)
    a = await harness.register("a", art)
    b = await harness.register("b", art)
    assert a.artifact_sha256 == b.artifact_sha256
    assert [p.name for p in harness.stored_files()] == [a.artifact_sha256]
    for model in ("a", "b"):
        chunks = harness.stub.DownloadArtifact(pb.DownloadArtifactRequest(model=model, version=1))
        assert b"".join([c.data async for c in chunks]) == art
