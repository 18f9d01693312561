"""``/api/me`` (who the caller is) and ``/api/models`` (the model catalogue and which of its
models are here), for the web page's header and settings."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from personae import __version__
from personae.models import CATALOGUE, is_pulled
from personae.server.auth import get_caller
from personae.server.rest.common import LimitedRoute
from personae.server.rest.schemas import Me, ModelList
from personae.server.state import get_state

router = APIRouter(route_class=LimitedRoute, tags=["server"])


@router.get(
    "/me",
    response_model=Me,
    summary="Who you are to this server",
    description="The user your chats and memories belong to, and whether keys are in use.",
)
async def me(request: Request) -> dict[str, Any]:
    caller = get_caller(request)
    return {"user_id": caller.user(), "keyed": caller.key_user is not None, "version": __version__}


@router.get(
    "/models",
    response_model=ModelList,
    summary="The models replies can use",
    description="The catalogue with what is pulled here, and the server's own model when it is "
    "not one of them (a local file, or a model of an OpenAI-compatible server).",
)
def list_models(request: Request) -> dict[str, Any]:
    settings = get_state(request).settings
    rows: list[dict[str, Any]] = [
        {
            "id": spec.name,
            "title": spec.title,
            "size_mb": round(spec.size / 1e6, 1),
            "pulled": is_pulled(spec),
            "default": spec.name == settings.model,
            "languages": list(spec.languages),
            "licence": spec.licence,
            "context": spec.default_ctx,
        }
        for spec in CATALOGUE.values()
    ]
    if settings.model not in CATALOGUE:
        # A local file is named without its folder: clients need not learn this machine's paths.
        name = PurePath(settings.model).name if settings.model.endswith(".gguf") else settings.model
        rows.append(
            {
                "id": name,
                "title": name,
                "size_mb": None,
                "pulled": True,  # the server runs with it, so it is there to use
                "default": True,
                "languages": [],
                "licence": None,
                "context": None,
            }
        )
    return {"data": rows, "backend": settings.backend}
