"""Throwaway PostgreSQL and Redis servers on free loopback ports.

The test suite (fixtures ``postgres_url`` and ``redis_url`` in
:mod:`driftloop.platform.testing`) and the benchmarks start their own
databases with these, so nothing has to run beforehand. The servers are the
distribution's own binaries (Debian's ``postgresql`` and ``redis-server``
packages, which ``scripts/test-servers.sh`` installs when missing): see
tests/README.md for why those and not a wheel.

Each server keeps its data in a temporary directory, skips durability (a
test database is thrown away) and is stopped, directory and all, on exit.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HOW_TO_PROVIDE = (
    "install the server (Debian/Ubuntu: `apt-get install postgresql redis-server`; "
    "`make test` does it when run as root), or point the tests at running servers with "
    "DRIFTLOOP_TEST_POSTGRES_URL=postgresql://user@host:port/db and "
    "DRIFTLOOP_TEST_REDIS_URL=redis://host:port/0"
)


class ServerUnavailable(RuntimeError):
    """The server's binaries are missing or it would not start."""


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server's bin directory (Debian keeps ``initdb`` and
    ``postgres`` off PATH, under /usr/lib/postgresql/<version>/bin)."""
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@contextlib.contextmanager
def postgres(start_timeout_s: float = 60.0) -> Iterator[str]:
    """A fresh PostgreSQL cluster with an empty database ``test``; yields its URL."""
    bindir = postgres_bindir()
    if bindir is None:
        raise ServerUnavailable(f"no PostgreSQL server binaries found: {HOW_TO_PROVIDE}")
    # PostgreSQL refuses to run as root: run it as its own system user then.
    user = _unprivileged_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="driftloop-postgres-"))
    if user is not None:
        shutil.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    log = root / "server.log"
    uid, gid = (user.pw_uid, user.pw_gid) if user else (None, None)
    proc: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            check=True, capture_output=True, user=uid, group=gid,
        )  # fmt: skip
        port = _free_port()
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [bindir / "postgres", "-D", data, "-p", str(port), "-k", root,
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                 "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                 "-c", "max_connections=300"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, user=uid, group=gid,
            )  # fmt: skip
        _create_database(proc, port, log, start_timeout_s)
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    except subprocess.CalledProcessError as e:
        raise ServerUnavailable(f"initdb failed: {e.stderr.decode(errors='replace')}") from e
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis(start_timeout_s: float = 30.0) -> Iterator[str]:
    """A fresh Redis server, no persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable(f"no redis-server binary found: {HOW_TO_PROVIDE}")
    root = Path(tempfile.mkdtemp(prefix="driftloop-redis-"))
    port = _free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        with open(root / "server.log", "ab") as out:
            proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(root), "--daemonize", "no"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait(proc, root / "server.log", start_timeout_s, lambda: _redis_pong(port))
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _create_database(proc: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float) -> None:
    import psycopg

    def ready() -> bool:
        try:
            with psycopg.connect(
                f"postgresql://postgres@127.0.0.1:{port}/postgres",
                autocommit=True,
                connect_timeout=2,
            ) as conn:
                conn.execute("CREATE DATABASE test")
            return True
        except psycopg.OperationalError:
            return False

    _wait(proc, log, timeout_s, ready)


def _wait(
    proc: subprocess.Popen[bytes], log: Path, timeout_s: float, ready: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerUnavailable(f"server exited with {proc.returncode}: {_tail(log)}")
        if ready():
            return
        time.sleep(0.1)
    raise ServerUnavailable(f"server not ready after {timeout_s:.0f}s: {_tail(log)}")


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerUnavailable("PostgreSQL will not run as root and there is no postgres user")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) or "no output"
    return "no output"
