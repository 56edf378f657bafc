"""The gRPC server bootstrap every service uses: ``grpc.aio`` with health,
reflection, size limits, optional TLS, and one interceptor that binds the
request id to logs, checks the bearer token on write methods, applies a
default deadline to unary calls, maps domain errors to status codes, and
counts and times unary calls for Prometheus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from driftloop.platform import errors
from driftloop.platform.settings import GrpcSettings

log = structlog.get_logger(__name__)

#: Each domain error's status code; anything else is INTERNAL.
STATUS_OF: dict[type[errors.DriftloopError], grpc.StatusCode] = {
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.Conflict: grpc.StatusCode.ABORTED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
}

HANDLED = Counter(
    "driftloop_grpc_server_handled_total", "Unary gRPC calls answered", ["method", "code"]
)
HANDLING = Histogram(
    "driftloop_grpc_server_handling_seconds",
    "Time to answer a unary gRPC call",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

#: Method names that only read; everything else is a write (needs the token).
READ_PREFIXES = (
    "Get",
    "List",
    "Download",
    "Check",
    "Watch",
    "Server",
    "ModelReady",
    "ModelMetadata",
    "ModelInfer",
    "ModelStreamInfer",
)


def status_of(exc: errors.DriftloopError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return grpc.StatusCode.INTERNAL


def is_read(method: str) -> bool:
    """Whether a full method name (``/pkg.Service/Method``) is a read."""
    return method.rsplit("/", 1)[-1].startswith(READ_PREFIXES)


class EdgeInterceptor(grpc.aio.ServerInterceptor):
    """The one interceptor: request id, auth, default deadline, error mapping."""

    def __init__(self, settings: GrpcSettings) -> None:
        token = settings.auth_token.get_secret_value()
        self._expected = f"Bearer {token}" if token else ""
        self._auth_reads = settings.auth_reads
        self._deadline = settings.default_deadline_s
        # Wrapped handlers per method, built once: this runs on every call.
        self._wrapped: dict[str, tuple[Any, Any, bool]] = {}

    async def intercept_service(
        self, continuation: Callable[[Any], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method
        cached = self._wrapped.get(method)
        if cached is None or cached[0] is not handler:
            needs_auth = bool(self._expected) and (self._auth_reads or not is_read(method))
            cached = (handler, _wrap(handler, method, self._deadline), needs_auth)
            self._wrapped[method] = cached
        if cached[2]:
            got = dict(details.invocation_metadata or ()).get("authorization", "")
            if got != self._expected:
                return _deny(handler)
        return cached[1]


def _request_id(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            return str(value)
    return ""


async def _abort_for(exc: Exception, context: grpc.aio.ServicerContext, method: str) -> None:
    if isinstance(exc, errors.DriftloopError):
        await context.abort(status_of(exc), str(exc))
    if isinstance(exc, TimeoutError):
        await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "default deadline exceeded")
    log.error("grpc.unhandled_error", method=method, error=repr(exc), exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")


def _observe(method: str, context: grpc.aio.ServicerContext, started: float) -> None:
    """Count the call by status code and time it (serving's error rate and p99)."""
    code = context.code()
    HANDLED.labels(method, code.name if isinstance(code, grpc.StatusCode) else "OK").inc()
    HANDLING.labels(method).observe(time.perf_counter() - started)


def _wrap(handler: grpc.RpcMethodHandler, method: str, deadline: float) -> grpc.RpcMethodHandler:
    def unary_response(behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            rid = _request_id(context)
            started = time.perf_counter()
            try:
                if rid:
                    structlog.contextvars.bind_contextvars(request_id=rid)
                if context.time_remaining() is None:
                    async with asyncio.timeout(deadline):
                        return await behavior(request, context)
                return await behavior(request, context)
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _abort_for(exc, context, method)
            finally:
                if rid:
                    structlog.contextvars.unbind_contextvars("request_id")
                _observe(method, context, started)

        return run

    def stream_response(behavior: Callable[..., Any]) -> Callable[..., Any]:
        async def run(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                async for item in behavior(request, context):
                    yield item
            except (grpc.aio.AbortError, asyncio.CancelledError):
                raise
            except Exception as exc:
                await _abort_for(exc, context, method)

        return run

    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary_response(handler.unary_unary), **kw)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary_response(handler.stream_unary), **kw)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream_response(handler.unary_stream), **kw)
    return grpc.stream_stream_rpc_method_handler(stream_response(handler.stream_stream), **kw)


def _deny(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    async def deny(_request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")

    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(deny, **kw)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(deny, **kw)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(deny, **kw)
    return grpc.stream_stream_rpc_method_handler(deny, **kw)


class GrpcServer:
    """A ``grpc.aio`` server with health and reflection.

    Register servicers with :meth:`add` before :meth:`start`. Health reports
    NOT_SERVING until the composition root calls :meth:`set_serving`.
    """

    def __init__(self, settings: GrpcSettings, default_port: int) -> None:
        self.settings = settings
        self.port = settings.port or default_port
        self.health = HealthServicer()
        self._names: list[str] = [reflection.SERVICE_NAME, "grpc.health.v1.Health"]
        self.server = grpc.aio.server(
            interceptors=[EdgeInterceptor(settings)],
            options=[
                ("grpc.max_receive_message_length", settings.max_message_bytes),
                ("grpc.max_send_message_length", settings.max_message_bytes),
                ("grpc.so_reuseport", int(settings.reuse_port)),
            ],
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)

    def add(self, register: Callable[[Any, Any], None], servicer: Any, *names: str) -> None:
        """``register`` is the generated ``add_XServicer_to_server``; ``names``
        are the full service names, for reflection and health."""
        register(servicer, self.server)
        self._names.extend(names)

    @property
    def service_names(self) -> Iterable[str]:
        return tuple(self._names)

    async def start(self) -> None:
        reflection.enable_server_reflection(self._names, self.server)
        address = f"{self.settings.host}:{self.port}"
        if self.settings.tls_certfile:
            creds = grpc.ssl_server_credentials(
                [
                    (
                        self.settings.tls_keyfile.read_bytes()
                        if self.settings.tls_keyfile
                        else b"",
                        self.settings.tls_certfile.read_bytes(),
                    )
                ]
            )
            self.port = self.server.add_secure_port(address, creds)
        else:
            self.port = self.server.add_insecure_port(address)
        await self.server.start()
        await self.set_serving(False)
        log.info("grpc.started", port=self.port, tls=bool(self.settings.tls_certfile))

    async def set_serving(self, serving: bool = True) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self._names):
            await self.health.set(name, status)

    async def stop(self) -> None:
        """Stop taking calls and let in-flight ones finish within the grace."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.settings.shutdown_grace_s)
