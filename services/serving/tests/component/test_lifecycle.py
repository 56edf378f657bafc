"""Hot swap under load, corrupt artifacts, start-up from the registry, and
promotion / rollback, over real gRPC."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from driftloop.platform.testing import wait_for
from driftloop_serving.domain.routing import Mode
from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def request(model: str, i: int = 0) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id=f"r{i}")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [float(i % 7)] * WIDTH
    )
    return req


async def test_hot_swap_five_times_under_load_fails_nothing_and_never_answers_stale(
    harness, artifacts
):
    reg = harness.registry
    reg.add("hs", 1, artifacts["v1"])
    reg.add("hs", 2, artifacts["v2"])
    await harness.serve("hs", "champion", 1)
    answers: list[tuple[float, float, str]] = []  # (sent, received, version)
    failures: list[Exception] = []
    stop = asyncio.Event()

    async def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            sent = time.monotonic()
            try:
                reply = await harness.oip.ModelInfer(request("hs", n * 100000 + i))
                answers.append((sent, time.monotonic(), reply.model_version))
            except grpc.aio.AioRpcError as exc:
                failures.append(exc)
            i += 1

    def answered_since(moment: float) -> int:
        return sum(1 for sent, _, _ in answers if sent > moment)

    clients = [asyncio.create_task(client(n)) for n in range(16)]
    switches: list[tuple[float, float, str]] = []  # (began, completed, version)
    last = time.monotonic()
    for _ in range(5):
        for version in (2, 1):
            # Each version serves a stretch of traffic before the next switch,
            # counted in answers rather than seconds so a loaded machine
            # cannot leave a stretch empty.
            await wait_for(lambda since=last: answered_since(since) >= 30, interval_s=0.01)
            began = time.monotonic()
            await harness.serve("hs", "champion", version)
            last = time.monotonic()
            switches.append((began, last, str(version)))
    await wait_for(lambda: answered_since(last) >= 30, interval_s=0.01)
    stop.set()
    await asyncio.gather(*clients)

    assert not failures, failures[:3]
    assert len(answers) >= 11 * 30
    # A request sent after a switch completed (and answered before the next
    # one began) is answered by the new version.
    nexts = [s[0] for s in switches[1:]] + [float("inf")]
    for (_, done, version), next_began in zip(switches, nexts, strict=True):
        after = [v for sent, got, v in answers if done < sent and got < next_began]
        assert len(after) > 10, "too few requests between two switches"
        assert set(after) == {version}, (version, set(after))
    # The first load and each switch fetched afresh: a released version is
    # not kept around, and nothing was served from a stale session.
    assert reg.downloads == 11


async def test_old_session_is_released_after_its_inflight_requests(harness, artifacts):
    harness.registry.add("rel", 1, artifacts["v1"])
    harness.registry.add("rel", 2, artifacts["v2"])
    await harness.serve("rel", "champion", 1)
    old = harness.catalog.get("rel").champion
    old.acquire()  # a request still running on v1
    await harness.serve("rel", "champion", 2)
    assert old.retired and old.runner._session is not None
    old.release()
    assert old.runner._session is None


@pytest.mark.parametrize("fault", ["checksum", "corrupt", "metadata"])
async def test_bad_artifact_never_serves(harness, artifacts, fault):
    reg = harness.registry
    reg.add("bad", 1, artifacts["v1"])
    await harness.serve("bad", "champion", 1)
    if fault == "checksum":
        reg.add("bad", 2, artifacts["v2"])
        reg.lie_sha[("bad", 2)] = "0" * 64
    elif fault == "corrupt":
        reg.add("bad", 2, b"this is not an onnx model")
    else:
        reg.add("bad", 2, artifacts["v2"], sha256="f" * 64)
    await harness.serve("bad", "champion", 2)
    await harness.serve("bad", "candidate", 2)
    reply = await harness.oip.ModelInfer(request("bad"))
    assert reply.model_version == "1"
    assert harness.catalog.get("bad").loaded_versions() == [1]
    assert [(m, v) for m, v, _ in harness.events.failed_events] == [("bad", 2), ("bad", 2)]
    reason = harness.events.failed_events[0][2]
    assert ("sha256" in reason) if fault != "corrupt" else ("cannot load" in reason)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await harness.oip.ModelInfer(
            pb.ModelInferRequest(model_name="bad", model_version="2", inputs=request("bad").inputs)
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_first_version_that_fails_leaves_the_model_not_found(harness):
    harness.registry.add("broken", 1, b"garbage")
    await harness.serve("broken", "champion", 1)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await harness.oip.ModelInfer(request("broken"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_start_up_reads_current_aliases_from_the_registry(harness, artifacts):
    reg = harness.registry
    reg.add("boot", 1, artifacts["v1"])
    reg.add("boot", 2, artifacts["v2"])
    reg.aliases["boot"] = {"champion": 1, "candidate": 2, "archived": 1}
    await harness.lifecycle.reconcile_until_done(0.05)
    served = harness.catalog.get("boot")
    assert (served.champion.version, served.candidate.version) == (1, 2)
    # The registry moved on while an event was missed: reconcile catches up
    # (a missing candidate is a fault, not an unload: see test_alias_order).
    reg.aliases["boot"] = {"champion": 2, "candidate": 2}
    await harness.lifecycle.reconcile()
    assert served.champion.version == 2 and served.candidate.version == 2


async def test_start_up_retries_until_the_registry_answers(artifacts):
    from driftloop.platform.errors import Unavailable
    from driftloop_serving.domain.models import Catalog, VersionInfo
    from driftloop_serving.service.lifecycle import Lifecycle

    calls = []

    class Flaky:
        async def aliases(self):
            calls.append(1)
            if len(calls) < 3:
                raise Unavailable("registry starting")
            return {}

    lifecycle = Lifecycle(Catalog(), Flaky(), None, None)  # type: ignore[arg-type]
    await asyncio.wait_for(lifecycle.reconcile_until_done(0.01), 5)
    assert len(calls) == 3
    assert VersionInfo("m", 1).version == 1


async def test_promotion_and_rollback_drop_no_request(harness, artifacts):
    reg = harness.registry
    reg.add("pr", 1, artifacts["v1"])
    reg.add("pr", 2, artifacts["v2"])
    reg.add("pr", 3, artifacts["v1"])
    await harness.serve("pr", "champion", 1)
    await harness.serve("pr", "candidate", 2)
    harness.rollouts.started("pr", "ro-1", 0.5, Mode.CANARY)
    versions = {(await harness.oip.ModelInfer(request("pr", i))).model_version for i in range(60)}
    assert versions == {"1", "2"}
    # Promote: champion := 2 (the loaded candidate, no new download), candidate deleted.
    downloads = reg.downloads
    await harness.serve("pr", "champion", 2)
    await harness.lifecycle.alias_changed("pr", "candidate", 0)
    assert reg.downloads == downloads
    replies = [await harness.oip.ModelInfer(request("pr", i)) for i in range(60)]
    assert {(r.model_version, r.parameters["role"].string_param) for r in replies} == {
        ("2", "champion")
    }
    state = harness.catalog.get("pr")
    assert state.rollout is None and state.loaded_versions() == [2]
    # Rollback of the next candidate: it disappears, the champion stays.
    await harness.serve("pr", "candidate", 3)
    await harness.lifecycle.alias_changed("pr", "candidate", 0)
    await wait_for(lambda: harness.catalog.get("pr").loaded_versions() == [2])
    replies = [await harness.oip.ModelInfer(request("pr", i)) for i in range(30)]
    assert {r.model_version for r in replies} == {"2"}
