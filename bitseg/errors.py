"""The one error hierarchy of bitseg; each class carries the gRPC status it maps to.

Core modules raise these and never import grpc: the server translates `status`
(a `grpc.StatusCode` member name) once, at the edge.
"""

from __future__ import annotations


class BitsegError(Exception):
    """Root of every error bitseg raises on purpose."""

    status: str = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(BitsegError):
    """Bad input: an unknown field, a wrong operator, a malformed value, a rule too large."""

    status = "INVALID_ARGUMENT"


class NotFound(BitsegError):
    """An org, segment or record that does not exist."""

    status = "NOT_FOUND"


class AlreadyExists(BitsegError):
    """A create that would duplicate something unique, such as a segment name."""

    status = "ALREADY_EXISTS"


class FailedPrecondition(BitsegError):
    """The operation is valid but the current state forbids it."""

    status = "FAILED_PRECONDITION"


class PermissionDenied(BitsegError):
    """The caller may not use this org, field or rule kind."""

    status = "PERMISSION_DENIED"


class Unauthenticated(BitsegError):
    """No API key, or an unknown one."""

    status = "UNAUTHENTICATED"


class Unavailable(BitsegError):
    """The server cannot serve the call right now (e.g. it is shutting down): retry."""

    status = "UNAVAILABLE"


class ResourceExhausted(BitsegError):
    """A per-server limit is reached (e.g. concurrent Watch streams): retry later or elsewhere."""

    status = "RESOURCE_EXHAUSTED"


class RecordError(InvalidArgument):
    """A bad ingest record, located by source (file name) and 1-based line number."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.detail = message
