"""Client channels to other driftloop services, with a default deadline and
the bearer token when one is configured."""

from __future__ import annotations

from typing import Any

import grpc


class _Defaults(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, deadline_s: float, token: str) -> None:
        self._deadline = deadline_s
        self._auth = (("authorization", f"Bearer {token}"),) if token else ()

    def _details(self, d: Any) -> Any:
        timeout = d.timeout if d.timeout is not None else self._deadline
        metadata = tuple(d.metadata or ()) + self._auth
        return d._replace(timeout=timeout, metadata=metadata)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_stream_unary(
        self, continuation: Any, details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(self._details(details), request_iterator)


def channel(
    address: str,
    *,
    deadline_s: float = 30.0,
    token: str = "",
    max_message_bytes: int = 64 * 1024 * 1024,
) -> grpc.aio.Channel:
    """An insecure loopback/cluster channel to ``address`` (``host:port``)."""
    return grpc.aio.insecure_channel(
        address,
        interceptors=[_Defaults(deadline_s, token)],
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            # A restarted peer is back in seconds: do not back off for minutes.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ],
    )
