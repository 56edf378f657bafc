"""What a failed start says: who, how, the log tail or "no output yet", and
the likely cause."""

import socket

from driftloop.platform.testing import free_port_offset
from driftloop_cli.ports import broker_port_problem, service_port_problem
from driftloop_cli.supervisor import log_tail


def test_an_empty_log_says_no_output_yet(tmp_path):
    (tmp_path / "empty.log").write_text("")
    assert log_tail(tmp_path / "empty.log") == "(no output yet)"
    assert log_tail(tmp_path / "missing.log") == "(no output yet)"


def test_a_log_tail_has_no_colour_codes(tmp_path):
    log = tmp_path / "broker.log"
    log.write_text("\x1b[2m2026\x1b[0m \x1b[31mERROR\x1b[0m Address already in use (os error 98)\n")
    assert log_tail(log) == "2026 ERROR Address already in use (os error 98)"


def test_a_taken_port_is_named_with_the_setting_that_moves_it():
    offset = free_port_offset()
    port = 50054 + offset  # the registry's gRPC port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        assert "DRIFTLOOP_KAFKA_EMBEDDED_PORT" in (broker_port_problem(port) or "")
        problem = service_port_problem("registry", offset) or ""
        assert f"gRPC port {port} already in use" in problem
        assert f"DRIFTLOOP_PORT_OFFSET (now {offset})" in problem
    assert broker_port_problem(port) is None


def test_replica_ports_beyond_65535_are_refused_before_a_start():
    # Replica 1 of the registry would listen on 50054 + 15000 + 1000 = 66054.
    assert "beyond" not in (service_port_problem("registry", 15000) or "")
    problem = service_port_problem("registry", 15000, replicas=2) or ""
    assert "port 66054 is beyond 65535" in problem, problem
    assert "use a smaller DRIFTLOOP_PORT_OFFSET" in problem
