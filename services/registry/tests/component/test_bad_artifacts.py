"""The bad-artifact corpus: every one refused with its reason, nothing stored,
the service still serving."""

import grpc
import pytest

from driftloop.registry.v1 import registry_service_pb2 as pb

CORPUS = [
    "pickle",
    "pickle_protocol_0",
    "zip",
    "truncated_onnx",
    "text",
    "external_data_parent",
    "external_data_absolute",
    "external_data_sibling",
    "oversized",
    "huge_allocation",
    "wrong_width",
    "dynamic_width",
    "string_input",
]


def test_the_corpus_here_is_the_whole_corpus(models):
    assert sorted(CORPUS) == sorted(models.bad)


@pytest.mark.process_vetting
@pytest.mark.parametrize("case", CORPUS)
async def test_a_bad_artifact_is_refused_and_leaves_nothing_behind(harness, models, case):
    artifact, width, phrase = models.bad[case]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.register("m", artifact, {"feature_width": width})
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert phrase.lower() in err.value.details().lower(), err.value.details()
    assert harness.stored_files() == []
    listed = await harness.stub.ListModels(pb.ListModelsRequest())
    assert list(listed.models) == []
    assert await harness.repo.pending_events(10) == []
    # Still serving: a good model goes through and gets number 1.
    good = await harness.register("m", models.linear(), {"feature_width": 4})
    assert good.version == 1
