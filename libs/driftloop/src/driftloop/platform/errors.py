"""Domain errors. They know nothing of transports: the gRPC edge maps each to a
status code once (see ``grpc_server``), other edges map them their own way."""

from __future__ import annotations


class DriftloopError(Exception):
    """Base of every error a use case raises on purpose."""


class NotFound(DriftloopError):
    """The thing asked for does not exist."""


class InvalidArgument(DriftloopError):
    """The request is malformed or fails validation; the message says where."""


class AlreadyExists(DriftloopError):
    """The thing to create exists already."""


class Conflict(DriftloopError):
    """A compare-and-set lost: the current state is not the expected one."""


class FailedPrecondition(DriftloopError):
    """The system is not in a state where the request can run."""


class ResourceExhausted(DriftloopError):
    """A size, rate or capacity limit was hit."""


class Unavailable(DriftloopError):
    """Temporarily unable to answer (loading, a dependency down); retry later."""


class Unauthenticated(DriftloopError):
    """Missing or wrong credentials."""
