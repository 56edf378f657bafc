"""Training against the real registry process: the exported ONNX passes the
registry's vetting, lineage and the reference profile are stored, the first
version becomes champion, and a worse model is registered but not candidate."""

from __future__ import annotations

import pytest
from training_fakes import Harness, fill, model_yaml

from driftloop.platform.grpc_client import channel
from driftloop.platform.testing import ServiceProcess, free_port, kafka_env, unique
from driftloop.registry.v1 import registry_service_pb2 as pb
from driftloop.registry.v1 import registry_service_pb2_grpc
from driftloop.training.v1 import training_service_pb2
from driftloop_training.domain.runs import RunState

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def registry(kafka, tmp_path):
    port = free_port()
    proc = ServiceProcess(
        "driftloop_registry",
        {
            **kafka_env(kafka),
            "DRIFTLOOP_GRPC_PORT": str(port),
            "DRIFTLOOP_METRICS_ENABLED": "false",
            "DRIFTLOOP_DATA_DIR": str(tmp_path / "registry"),
            "DRIFTLOOP_ROLLOUTS_GROUP": unique("registry"),
            "DRIFTLOOP_LOG_FORMAT": "json",
        },
        tmp_path / "registry.log",
    ).start()
    address = f"127.0.0.1:{port}"
    try:
        proc.wait_healthy(address)
        yield address
    finally:
        proc.terminate()


async def test_initial_champion_then_worse_model_is_not_candidate(registry, tmp_path):
    model = unique("m")
    h = await Harness(
        tmp_path / "h",
        model_yaml(model) + model_yaml("worse", trainer="callable: 'training_trainers:worse'"),
        registry_address=registry,
    ).start()
    try:
        fill(h.store, 300)
        await h.triggers.tick()  # no champion yet: the initial run
        await h.runs.wait_idle()
        (first,) = h.store.list_runs(model)
        assert first.state is RunState.COMPLETED and first.gate_passed, first.error

        # The same model, now trained by the deliberately worse trainer.
        worse = h.spec.model("worse")
        h.runs.spec = h.spec.model_copy(
            update={
                "models": tuple(
                    m.model_copy(update={"trainer": worse.trainer}) if m.name == model else m
                    for m in h.spec.models
                )
            }
        )
        reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model=model))
        assert reply.accepted, reply.message
        await h.runs.wait_idle()
        second = h.store.get_run(reply.run_id)
        assert second.state is RunState.COMPLETED and not second.gate_passed, second.error

        async with channel(registry) as ch:
            stub = registry_service_pb2_grpc.RegistryServiceStub(ch)
            champion = await stub.GetModelVersion(
                pb.GetModelVersionRequest(model=model, alias="champion")
            )
            assert champion.version == first.version == 1
            assert champion.run_id == first.run_id
            assert champion.dataset_snapshot_id == first.snapshot.snapshot_id
            assert champion.feature_view == "v" and champion.feature_view_version == 1
            assert len(champion.reference_profile.features) == 4
            assert [t.name for t in champion.signature.outputs] == ["label", "probabilities"]
            v2 = await stub.GetModelVersion(pb.GetModelVersionRequest(model=model, version=2))
            assert v2.parent_version == 1 and v2.run_id == second.run_id
            assert "candidate" not in v2.aliases
            summary = {m.name: m for m in (await stub.ListModels(pb.ListModelsRequest())).models}
            assert dict(summary[model].aliases) == {"champion": 1}
    finally:
        await h.stop()
