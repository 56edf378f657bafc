"""The gRPC edge: validation errors name the field, unknown things are
NOT_FOUND, a second run while one is in progress is not accepted, and a run
interrupted by stopping ends failed."""

from __future__ import annotations

import grpc
import pytest
from training_fakes import fill, model_yaml

from driftloop.training.v1 import run_pb2, training_service_pb2
from driftloop_training.domain.runs import RunState


async def status_of(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), err.value.details()


async def test_bad_requests(harness):
    h = await harness(model_yaml("m"))
    c = h.client
    code, text = await status_of(c.StartTraining(training_service_pb2.StartTrainingRequest()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "model" in text
    code, text = await status_of(
        c.StartTraining(training_service_pb2.StartTrainingRequest(model="nope"))
    )
    assert code == grpc.StatusCode.NOT_FOUND and "nope" in text
    bad_window = training_service_pb2.StartTrainingRequest(
        model="m", window=run_pb2.DataWindow(policy="yesterday")
    )
    code, text = await status_of(c.StartTraining(bad_window))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "window.policy" in text
    code, text = await status_of(
        c.StartTraining(training_service_pb2.StartTrainingRequest(model="m", snapshot_id="x"))
    )
    assert code == grpc.StatusCode.NOT_FOUND and "snapshot" in text
    code, _ = await status_of(c.GetRun(training_service_pb2.GetRunRequest(run_id="run-x")))
    assert code == grpc.StatusCode.NOT_FOUND
    code, text = await status_of(c.GetRun(training_service_pb2.GetRunRequest()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "run_id" in text
    assert h.store.list_runs() == []


async def test_one_run_at_a_time_and_waiting_for_labels(harness):
    h = await harness(model_yaml("m", min_rows=200), label_wait_s=60)
    fill(h.store, 50)  # fewer than min_rows: the run waits for labels
    first = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
    second = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
    assert first.accepted and not second.accepted
    assert first.run_id in second.message and "in progress" in second.message
    run = await h.client.GetRun(training_service_pb2.GetRunRequest(run_id=first.run_id))
    assert run.state == run_pb2.RUN_STATE_REQUESTED
    await h.runs.stop()  # as on SIGTERM
    stopped = h.store.get_run(first.run_id)
    assert stopped.state is RunState.FAILED and stopped.failure_kind == "interrupted"
    assert h.events.of("failed")[-1][1:] == (first.run_id, "interrupted")


async def test_a_window_that_never_fills_fails_with_not_enough_data(harness):
    h = await harness(model_yaml("m", min_rows=200))  # label_wait_s=0 in the harness
    fill(h.store, 50)
    reply = await h.client.StartTraining(training_service_pb2.StartTrainingRequest(model="m"))
    await h.runs.wait_idle()
    run = h.store.get_run(reply.run_id)
    assert run.failure_kind == "not_enough_data" and "50 labelled rows" in run.error
