"""Every RPC of every service says who may call it (an option in proto/), and
the gRPC edge's table is read from those options."""

import importlib
import pkgutil

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

import driftloop
import inference
from driftloop.platform.access import READ, WRITE, MissingAccess, access_table


def _services() -> list[str]:
    """The full name of every service in the generated stubs."""
    names = []
    for package in (driftloop, inference):
        for mod in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if mod.name.endswith("_pb2"):
                module = importlib.import_module(mod.name)
                names += [s.full_name for s in module.DESCRIPTOR.services_by_name.values()]
    return sorted(names)


SERVICES = _services()


def test_the_stubs_hold_every_service():
    assert len(SERVICES) == 7 and "inference.GRPCInferenceService" in SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_of_every_service_is_in_the_table(service):
    methods = descriptor_pool.Default().FindServiceByName(service).methods
    table = access_table(service)
    assert sorted(table) == sorted(f"/{service}/{m.name}" for m in methods)
    assert set(table.values()) <= {READ, WRITE}


def test_the_writes_are_the_rpcs_that_change_state():
    writes = sorted(
        method.rsplit("/", 1)[1]
        for service in SERVICES
        for method, access in access_table(service).items()
        if access == WRITE
    )
    assert writes == [
        "ClearTrafficSplit",
        "DeleteAlias",
        "IngestRecords",
        "PinTrafficSplit",
        "RegisterModelVersion",
        "RegisterStream",
        "SetAlias",
        "StartTraining",
        "StreamRecords",
        "SubmitLabels",
    ]


def test_an_rpc_without_the_option_is_refused_at_start():
    proto = descriptor_pb2.FileDescriptorProto(
        name="test/unmarked.proto", package="test.unmarked", syntax="proto3"
    )
    proto.message_type.add(name="Empty")
    proto.service.add(name="Unmarked").method.add(
        name="FetchThing", input_type=".test.unmarked.Empty", output_type=".test.unmarked.Empty"
    )
    descriptor_pool.Default().Add(proto)
    with pytest.raises(MissingAccess, match=r"test\.unmarked\.Unmarked\.FetchThing"):
        access_table("test.unmarked.Unmarked")
