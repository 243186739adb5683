"""The one place where errors become gRPC statuses: every method handler, wrapped once.

Services are registered through `MappedServer(server)` (ours; health and reflection
map their own errors), which wraps each method handler when it is registered, not on
every call as a `grpc.ServerInterceptor` would (an interceptor costs a handler lookup
and new handler objects per call). Handlers are plain functions (unary responses) and
generators (streamed responses) run on the server's thread pool; they raise errors,
never call `context.abort` themselves. A wrapped handler maps:
- `BitsegError` -> its `.status` (a `grpc.StatusCode` member name) with its message;
- a request message that cannot be decoded (for example nested deeper than protobuf's
  parser allows) -> INVALID_ARGUMENT, instead of grpc's generic failure;
- anything else -> INTERNAL "internal error", with the traceback logged.
A streamed-request handler marked `@answers_each_request` (CountStream) gets the
requests unchecked and answers each one, error or not, itself (`check_request`,
`error_status`); only unexpected errors end its stream.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from bitseg.errors import BitsegError, InvalidArgument

log = logging.getLogger("bitseg.server")

Handler = Callable[..., Any]


class _Undecodable:
    """Stands in for a request the deserializer could not parse; the handler raises on it."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def raise_(self) -> None:
        if "MaxDepth" in str(self.error):
            raise InvalidArgument("request message nested too deeply to decode (rule too deep?)")
        raise InvalidArgument(f"malformed request message: {self.error}")


def _safe_deserializer(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def wrapped(data: bytes) -> Any:
        try:
            return deserialize(data)
        except (DecodeError, ValueError, RuntimeError) as e:
            return _Undecodable(e)

    return wrapped


def check_request(request: Any) -> Any:
    """The request, or INVALID_ARGUMENT when it could not be decoded."""
    if isinstance(request, _Undecodable):
        request.raise_()
    return request


def _checked_stream(requests: Iterator[Any]) -> Iterator[Any]:
    for request in requests:
        yield check_request(request)


def answers_each_request(behavior: Handler) -> Handler:
    """Mark a streamed-request handler that checks and answers each request itself."""
    behavior.answers_each_request = True  # type: ignore[attr-defined]
    return behavior


def _requests(behavior: Handler, request: Any, stream_in: bool) -> Any:
    if not stream_in:
        return check_request(request)
    return request if getattr(behavior, "answers_each_request", False) else _checked_stream(
        request
    )


def error_status(error: Exception) -> tuple[str, str] | None:
    """(status code name, message) of an error the client is told about; None for an
    unexpected one (which must end the call as INTERNAL)."""
    if isinstance(error, BitsegError):
        code = error.status if hasattr(grpc.StatusCode, error.status) else "INTERNAL"
        return code, error.message
    return None


def _abort(context: grpc.ServicerContext, error: Exception, method: str) -> NoReturn:
    """Abort the call with the status `error` maps to (`context.abort` raises)."""
    status = error_status(error)
    if status is not None:
        context.abort(getattr(grpc.StatusCode, status[0]), status[1])
    log.error("unexpected error in %s", method, exc_info=error)
    context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(error).__name__})")
    raise AssertionError("unreachable: context.abort raises")


def _cancelled(error: Exception, context: grpc.ServicerContext) -> bool:
    """The client cancelled the call (or it timed out) while its requests were being
    read: grpcio raises a bare RpcError from the request iterator. Nothing is left to
    answer, and it is not a server error."""
    return isinstance(error, grpc.RpcError) and not context.is_active()


def _wrap_unary_response(behavior: Handler, method: str, stream_in: bool) -> Handler:
    @functools.wraps(behavior)
    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return behavior(_requests(behavior, request, stream_in), context)
        except Exception as e:  # the one place unexpected errors are caught
            if _cancelled(e, context):
                raise  # grpcio ends the call quietly: the error is its request iterator's
            _abort(context, e, method)

    return handler


def _wrap_stream_response(behavior: Handler, method: str, stream_in: bool) -> Handler:
    @functools.wraps(behavior)
    def handler(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behavior(_requests(behavior, request, stream_in), context)
        except Exception as e:
            if _cancelled(e, context):
                raise  # grpcio ends the call quietly: the error is its request iterator's
            _abort(context, e, method)

    return handler


def wrap_handler(handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
    """`handler` with its errors mapped to statuses and undecodable requests refused."""
    deserializer = _safe_deserializer(handler.request_deserializer)
    serializer = handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            _wrap_unary_response(handler.unary_unary, method, False), deserializer, serializer
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            _wrap_unary_response(handler.stream_unary, method, True), deserializer, serializer
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_stream_response(handler.unary_stream, method, False), deserializer, serializer
        )
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            _wrap_stream_response(handler.stream_stream, method, True), deserializer, serializer
        )
    return handler


class _MappedGeneric(grpc.GenericRpcHandler):
    """A generic handler whose handlers are wrapped (once per method)."""

    def __init__(self, inner: grpc.GenericRpcHandler) -> None:
        self._inner = inner
        self._wrapped: dict[str, grpc.RpcMethodHandler | None] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        if method not in self._wrapped:
            handler = self._inner.service(handler_call_details)
            self._wrapped[method] = wrap_handler(handler, method) if handler else None
        return self._wrapped[method]  # type: ignore[return-value]


class MappedServer:
    """Stands in for a `grpc.Server` in generated `add_*Servicer_to_server` functions:
    registers the service on the real server with every handler wrapped."""

    def __init__(self, server: grpc.Server) -> None:
        self.server = server

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self.server.add_generic_rpc_handlers(tuple(_MappedGeneric(h) for h in handlers))

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        self.server.add_registered_method_handlers(
            service, {name: wrap_handler(h, f"/{service}/{name}") for name, h in handlers.items()}
        )
