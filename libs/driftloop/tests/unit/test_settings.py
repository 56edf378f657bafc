import pytest

from driftloop.platform.settings import (
    KafkaSettings,
    ServiceSettings,
    SettingsError,
    load_settings,
)


def test_sections_load_from_prefixed_environment(monkeypatch):
    monkeypatch.delenv("DRIFTLOOP_KAFKA_IDEMPOTENCE", raising=False)  # the test broker sets it
    monkeypatch.setenv("DRIFTLOOP_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("DRIFTLOOP_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("DRIFTLOOP_GRPC_PORT", "6000")
    monkeypatch.setenv("DRIFTLOOP_DATA_DIR", "/srv/driftloop")
    monkeypatch.setenv("DRIFTLOOP_SERVICE_ADDRESSES", '{"registry": "registry:50054"}')

    s = load_settings(ServiceSettings)

    assert s.kafka.servers == "kafka-1:9092,kafka-2:9092"
    assert not s.kafka.own_broker
    assert s.kafka.idempotent  # an existing cluster is Apache Kafka
    assert s.kafka.sasl_username == "svc"
    assert s.grpc.port == 6000
    assert str(s.data_dir) == "/srv/driftloop"
    assert s.address_of("registry") == "registry:50054"
    assert s.address_of("serving") == "127.0.0.1:50055"


def test_defaults_run_embedded(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("DRIFTLOOP_"):
            monkeypatch.delenv(name)
    s = load_settings(ServiceSettings)
    assert s.kafka.own_broker
    assert s.kafka.embedded == "tansu"
    assert s.kafka.servers == "127.0.0.1:19092"
    assert s.kafka.idempotence == "auto"
    assert not s.kafka.idempotent  # Tansu has no idempotent producer


@pytest.mark.parametrize(
    ("env", "idempotent"),
    [
        ({"DRIFTLOOP_KAFKA_EMBEDDED": "kafka"}, True),
        ({"DRIFTLOOP_KAFKA_EMBEDDED": "kafka", "DRIFTLOOP_KAFKA_IDEMPOTENCE": "off"}, False),
        ({"DRIFTLOOP_KAFKA_IDEMPOTENCE": "on"}, True),
        ({"DRIFTLOOP_KAFKA_BOOTSTRAP": "k:9092", "DRIFTLOOP_KAFKA_IDEMPOTENCE": "false"}, False),
        ({"DRIFTLOOP_KAFKA_BOOTSTRAP": "k:9092", "DRIFTLOOP_KAFKA_IDEMPOTENCE": "true"}, True),
    ],
)
def test_idempotence_resolves_by_broker(monkeypatch, env, idempotent):
    for name in list(__import__("os").environ):
        if name.startswith("DRIFTLOOP_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings(ServiceSettings).kafka.idempotent is idempotent


def test_unknown_embedded_broker_is_named(monkeypatch):
    monkeypatch.setenv("DRIFTLOOP_KAFKA_EMBEDDED", "redpanda")
    with pytest.raises(SettingsError, match="DRIFTLOOP_KAFKA_EMBEDDED"):
        load_settings(ServiceSettings)


def test_port_offset_moves_peer_addresses(monkeypatch):
    monkeypatch.setenv("DRIFTLOOP_PORT_OFFSET", "100")
    assert load_settings(ServiceSettings).address_of("registry") == "127.0.0.1:50154"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DRIFTLOOP_GRPC_PORT", "not-a-port"),
        ("DRIFTLOOP_GRPC_PORT", "70000"),
        ("DRIFTLOOP_KAFKA_SECURITY_PROTOCOL", "TLS13"),
        ("DRIFTLOOP_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_value_fails_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings(ServiceSettings)
    assert name in str(err.value)
    assert repr(value) in str(err.value)


def test_the_port_offset_moves_the_embedded_broker_unless_its_port_is_set():
    assert ServiceSettings(port_offset=100).kafka.embedded_port == 19192
    explicit = ServiceSettings(port_offset=100, kafka=KafkaSettings(embedded_port=1234))
    assert explicit.kafka.embedded_port == 1234
