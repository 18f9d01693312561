"""The OpenAPI description at ``/openapi.json``: every route, its request and response bodies and
its error bodies, for client generators and for schemathesis. (No docs page: FastAPI's loads its
scripts from a CDN, and personae works offline.)

Two things differ from what FastAPI writes by itself: the OpenAI routes read their JSON by hand
(to answer bad JSON with OpenAI's error body), so their request schema is given explicitly; and
validation errors are 400s with an OpenAI error body here, never FastAPI's 422.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from fastapi import FastAPI

DESCRIPTION = (
    "Characters as OpenAI models under `/v1`, and the characters, chats, messages, memories and "
    "models themselves under `/api`. Once an API key exists (`personae keys create`), every "
    "route needs one: `Authorization: Bearer KEY` or `X-API-Key: KEY`. Errors are OpenAI-shaped: "
    '`{"error": {"message", "type", "param", "code"}}`. personae\'s own fields are extensions '
    "OpenAI clients can ignore: in a chat completion's body, `personae` asks for a reply "
    "strategy (`strategy`: single, best-of-n, refine or auto; `n`, `rounds`, `time_budget_s`, "
    "`token_budget`) over the one configured for the character; in its response, `personae` "
    "names the stored chat and, for a reply chosen among candidates, lists them "
    "(`personae.candidates`, best first, each with its verifiers' scores and reasons)."
)


class ErrorDetail(BaseModel):
    message: str = Field(description="What went wrong, and how to fix it.")
    type: str = Field(description="invalid_request_error or server_error")
    param: str | None = Field(description="The parameter at fault, if one is.")
    code: str | None = Field(description="A stable code, e.g. not_found, invalid_api_key.")


class ErrorBody(BaseModel):
    """OpenAI's error shape."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Statuses every API route may answer besides its success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad input: malformed JSON, a wrong type, an invalid id or card."),
    401: _error("An API key is needed, or the one sent is not valid."),
    403: _error(
        "Not yours to change, or acting for another user; or, on a server without API keys, "
        "addressed to a Host name that is not this machine's (see --allowed-host)."
    ),
    404: _error("Unknown, or not visible to this caller."),
    409: _error("The chat is busy generating a reply."),
    413: _error("The request body is too large."),
    415: _error(
        "On a server without API keys: a POST, PUT or PATCH without a Content-Type, or with one "
        "any web page may send unasked (text/plain, forms); /v1 wants application/json."
    ),
}


# A chat completion's 200: one JSON body, or server-sent events when streamed.
COMPLETION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat.completion object, or with `stream` chat.completion.chunk events. "
        "A reply chosen among candidates (best-of-n, refine, auto) adds `personae.candidates` "
        "(best first: text, finish_reason, total, passed, scores) to the body, or to choice 0's "
        "finish chunk; its stream sends nothing until the reply is chosen, then the text whole.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            # One schema per event, as OpenAPI 3.2 describes streams.
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {
                            "type": "string",
                            "description": "A chat.completion.chunk as JSON, an error object, "
                            "or [DONE] at the end.",
                        }
                    },
                }
            },
        },
    }
}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` written in place (for ``openapi_extra``,
    which cannot add components). The models given here are not recursive."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def request_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``model`` as JSON by hand."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(model)}},
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Serve the schema as described above (built once, on the first request for it)."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=DESCRIPTION,
            routes=app.routes,
        )
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.setdefault("components", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.get("schemas", {}).pop(unused, None)
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        # The empty requirement: a server without keys needs none.
        schema["security"] = [{"bearer": []}, {"apiKey": []}, {}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
