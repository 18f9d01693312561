"""The REST API under ``/api``: characters, chats, messages, memories and models, for the web
page and for programs that manage what the OpenAI-compatible routes chat with.

One module per resource (:mod:`.characters`, :mod:`.chats`, :mod:`.messages`,
:mod:`.memories`, :mod:`.lorebooks`, :mod:`.info`); their bodies are in :mod:`.schemas`, what
they share (body limits, ownership lookups) in :mod:`.common`. Errors are OpenAI-shaped like
everywhere else.
"""

from __future__ import annotations

from fastapi import APIRouter

from personae.server.openapi import ERROR_RESPONSES
from personae.server.rest import characters, chats, info, lorebooks, memories, messages

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
for module in (info, characters, chats, messages, memories, lorebooks):
    router.include_router(module.router)
router.include_router(characters.uploads)
router.include_router(lorebooks.uploads)

__all__ = ["router"]
