"""The web chat page, served by the same server (no build step, no CDN)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
