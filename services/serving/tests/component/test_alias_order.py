"""Serving never forgets a model on hearsay: alias events apply in the
registry's order, and a registry answer that lacks a loaded model is a fault,
not an instruction to unload. Real gRPC to a fake registry."""

from __future__ import annotations

from inference import grpc_predict_v2_pb2 as pb

WIDTH = 20


def request(model: str) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name=model, id="r")
    req.inputs.add(name="input", datatype="FP32", shape=[1, WIDTH]).contents.fp32_contents.extend(
        [1.0] * WIDTH
    )
    return req


async def test_a_redelivered_older_alias_changed_changes_nothing(harness, artifacts):
    reg, lifecycle = harness.registry, harness.lifecycle
    reg.add("order", 1, artifacts["v1"])
    reg.add("order", 2, artifacts["v2"])
    await lifecycle.alias_changed("order", "champion", 1, reg.info("order", 1), sequence=10)
    await lifecycle.alias_changed("order", "champion", 2, reg.info("order", 2), sequence=11)
    assert (await harness.oip.ModelInfer(request("order"))).model_version == "2"
    # The v1 event comes again (a rebalance, a replay): older than applied.
    await lifecycle.alias_changed("order", "champion", 1, reg.info("order", 1), sequence=10)
    # And a re-delivered copy of the applied one, and an old delete.
    await lifecycle.alias_changed("order", "champion", 2, reg.info("order", 2), sequence=11)
    await lifecycle.alias_changed("order", "champion", 0, sequence=9)
    served = harness.catalog.get("order")
    assert served.champion.version == 2 and served.loaded_versions() == [2]
    assert (await harness.oip.ModelInfer(request("order"))).model_version == "2"
    # A newer delete does unload.
    await lifecycle.alias_changed("order", "champion", 0, sequence=12)
    assert served.champion is None


async def test_a_registry_that_lists_nothing_is_a_fault_and_serving_keeps_its_champion(
    harness, artifacts
):
    reg = harness.registry
    reg.add("keep", 1, artifacts["v1"])
    await harness.serve("keep", "champion", 1)
    reg.aliases.clear()  # a registry restarted on an empty disk
    await harness.lifecycle.reconcile()
    assert (await harness.oip.ModelInfer(request("keep"))).model_version == "1"
    assert ("keep", 1, "champion") in harness.events.faults


async def test_ready_only_once_every_champion_the_registry_names_is_loaded(harness, artifacts):
    reg, lifecycle = harness.registry, harness.lifecycle
    reg.add("good", 1, artifacts["v1"])
    reg.add("bad", 1, b"not a model")
    reg.aliases.update({"good": {"champion": 1}, "bad": {"champion": 1}})
    assert lifecycle.ready is False  # no registry answer yet
    await lifecycle.reconcile()
    assert lifecycle.ready is False  # `bad` names a champion that cannot load
    reg.add("bad", 2, artifacts["v2"])
    reg.aliases["bad"] = {"champion": 2}
    await lifecycle.reconcile()
    assert lifecycle.ready is True
