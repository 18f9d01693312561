"""The REST API under ``/api``: characters, chats, messages, memories and models, for the web
page and for programs that manage what the OpenAI-compatible routes chat with."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api")
