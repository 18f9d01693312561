"""OpenAI-shaped errors: every failure a client can see is ``{"error": {"message", "type",
"param", "code"}}`` with a fitting HTTP status, never a traceback or an HTML page.

:class:`~personae.errors.PersonaeError` already carries its status, type and code (one mapping
for the CLI and the server); :class:`APIError` adds the few errors only HTTP has (a body too
large, a busy chat). Anything else is a bug: it is logged with its traceback and the client gets
a plain 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from personae.errors import BackendAuthError, PersonaeError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.responses import JSONResponse

log = logging.getLogger("personae.server")

INTERNAL_MESSAGE = "the server failed unexpectedly; its log has the details"
FASTAPI_BODY_ERROR = "There was an error parsing the body"


class APIError(PersonaeError):
    """An error raised by the HTTP layer itself, with its status and code given per instance."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str = "invalid_request",
        param: str | None = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param)
        self.headers = dict(headers or {})  # e.g. Retry-After on a 429
        self.http_status = status
        self.code = code
        self.error_type = error_type or (
            "invalid_request_error" if status < 500 else "server_error"
        )


def model_not_found(model: str) -> APIError:
    return APIError(
        f"the model {model!r} does not exist: models are characters, GET /v1/models lists "
        "them (add one with `personae card import PATH`)",
        status=404,
        code="model_not_found",
        param="model",
    )


def describe(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for any exception; unexpected ones are logged, not shown."""
    if isinstance(exc, PersonaeError):
        status, error_type, code = exc.http_status, exc.error_type, exc.code
        if isinstance(exc, BackendAuthError):
            # The upstream server refused *our* key: a 401 would tell the client that its own
            # key is wrong, so this is a gateway failure.
            status, error_type = 502, "server_error"
        return status, body(exc.message, error_type, exc.param, code)
    log.error("unexpected error while serving a request", exc_info=exc)
    return 500, body(INTERNAL_MESSAGE, "server_error", None, "internal_error")


def body(message: str, error_type: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(exc: BaseException, headers: Mapping[str, str] | None = None) -> JSONResponse:
    from starlette.responses import JSONResponse

    status, content = describe(exc)
    merged = {**getattr(exc, "headers", {}), **(headers or {})}
    return JSONResponse(content, status_code=status, headers=merged)


def sse_error(exc: BaseException) -> str:
    """An error after streaming began (the status line is long gone): one ``data:`` event with
    the error object, as OpenAI sends it; the official clients raise it as an APIError."""
    _, content = describe(exc)
    return f"data: {json.dumps(content, ensure_ascii=False)}\n\n"


def param_name(loc: tuple[int | str, ...]) -> str:
    """``("messages", 0, "content")`` → ``messages[0].content``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def from_validation(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> APIError:
    """The first problem pydantic found, as a 400 naming the parameter."""
    first = exc.errors()[0]
    param = param_name((*prefix, *first["loc"])) or None
    if first["type"] == "missing":
        message = f"missing required parameter {param!r}"
    else:
        detail = str(first["msg"]).removeprefix("Value error, ")
        message = f"invalid value for {param!r}: {detail}" if param else detail
    return APIError(message, param=param, code="invalid_value")


def from_request_validation(errors: Sequence[Any]) -> APIError:
    """FastAPI's first validation error as a 400; the parameter is named without the part of
    the request it is in (``title``, not ``body.title``)."""
    first: Any = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = tuple(first.get("loc", ()))
    if loc and loc[0] in ("body", "path", "query", "header"):
        loc = loc[1:]
    param = param_name(loc) or None
    kind = first.get("type")
    if kind == "json_invalid":
        reason = first.get("ctx", {}).get("error", "")
        return APIError(f"the request body is not valid JSON ({reason})", code="invalid_json")
    if kind == "missing":
        message = (
            f"missing required parameter {param!r}"
            if param
            else "the request body is missing: send a JSON object"
        )
    elif param:
        message = f"invalid value for {param!r}: {first.get('msg')}"
    else:
        message = f"the request body must be a JSON object (application/json): {first.get('msg')}"
    return APIError(message, param=param, code="invalid_value")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through :func:`describe`, including Starlette's own 404/405 and
    FastAPI's validation errors for routes that declare typed parameters."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def personae_error(_: Request, exc: Exception) -> Response:
        return error_response(exc)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = "no such route: the OpenAI API is under /v1, the REST API under /api"
            code = "not_found"
        elif exc.status_code == 405:
            message = "this route does not take that HTTP method"
            code = "method_not_allowed"
        elif exc.status_code == 413:  # a body over its limit, found while it was read
            message, code = str(exc.detail), "request_too_large"
        elif exc.status_code == 400 and exc.detail == FASTAPI_BODY_ERROR:
            # FastAPI's word for a body its JSON parser gave up on (e.g. nested too deeply).
            message = "the request body could not be parsed: send one plain JSON object"
            code = "invalid_json"
        else:
            message, code = str(exc.detail), "http_error"
        error_type = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return JSONResponse(
            body(message, error_type, None, code),
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    async def validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(from_request_validation(exc.errors()))

    async def unexpected(_: Request, exc: Exception) -> Response:
        return error_response(exc)

    app.add_exception_handler(PersonaeError, personae_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
