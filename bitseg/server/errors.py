"""The one place where errors become gRPC statuses: every method handler, wrapped once.

Services are registered through `MappedServer(server)` (ours and health; reflection
maps its own errors), which wraps each method handler when it is registered, not on
every call as a `grpc.aio.ServerInterceptor` would (an interceptor costs a coroutine,
a handler lookup and new handler objects per call). A wrapped handler maps:
- `BitsegError` -> its `.status` (a `grpc.StatusCode` member name) with its message;
- a request message that cannot be decoded (for example nested deeper than protobuf's
  parser allows) -> INVALID_ARGUMENT, instead of grpc's generic failure;
- anything else -> INTERNAL "internal error", with the traceback logged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

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


def _check(request: Any) -> Any:
    if isinstance(request, _Undecodable):
        request.raise_()
    return request


async def _checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _check(request)


async def _abort(context: grpc.aio.ServicerContext, error: Exception, method: str) -> None:
    """Abort the call with the status `error` maps to (raises AbortError)."""
    if isinstance(error, BitsegError):
        code = getattr(grpc.StatusCode, error.status, grpc.StatusCode.INTERNAL)
        await context.abort(code, error.message)
    log.error("unexpected error in %s", method, exc_info=error)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(error).__name__})")


def _wrap_unary_response(behavior: Handler, method: str, stream_in: bool) -> Handler:
    is_coroutine = inspect.iscoroutinefunction(behavior)

    @functools.wraps(behavior)
    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            request = _checked_stream(request) if stream_in else _check(request)
            if is_coroutine:
                return await behavior(request, context)
            result = behavior(request, context)
            return await result if inspect.isawaitable(result) else result
        except grpc.aio.AbortError:
            raise
        except Exception as e:  # the one place unexpected errors are caught
            await _abort(context, e, method)

    return handler


def _wrap_stream_response(behavior: Handler, method: str, stream_in: bool) -> Handler:
    if not inspect.isasyncgenfunction(behavior):
        # a coroutine writing with context.write(): same shape as a unary response
        return _wrap_unary_response(behavior, method, stream_in)

    @functools.wraps(behavior)
    async def handler(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        try:
            request = _checked_stream(request) if stream_in else _check(request)
            async for response in behavior(request, context):
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as e:
            await _abort(context, e, method)

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
    """Stands in for a `grpc.aio.Server` in generated `add_*Servicer_to_server` functions:
    registers the service on the real server with every handler wrapped."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self.server = server

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self.server.add_generic_rpc_handlers(tuple(_MappedGeneric(h) for h in handlers))

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        self.server.add_registered_method_handlers(
            service, {name: wrap_handler(h, f"/{service}/{name}") for name, h in handlers.items()}
        )
