"""The one place where errors become gRPC statuses: a server interceptor.

Every handler (ours, and any later service registered on the same server) is wrapped:
- `BitsegError` -> its `.status` (a `grpc.StatusCode` member name) with its message;
- a request message that cannot be decoded (for example nested deeper than protobuf's
  parser allows) -> INVALID_ARGUMENT, instead of grpc's generic failure;
- anything else -> INTERNAL "internal error", with the traceback logged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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
    @functools.wraps(behavior)
    async def handler(request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            request = _checked_stream(request) if stream_in else _check(request)
            result = behavior(request, context)
            return await result if isinstance(result, Awaitable) else result
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


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Wrap every method handler so errors leave the server with the right status."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
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
