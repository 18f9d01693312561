"""The HTTP server: an OpenAI-compatible API over the stored characters.

FastAPI and uvicorn come with the ``server`` extra (``pip install 'personae[server]'``); they are
imported only when an app is created, so the rest of personae works without them.
"""

from personae.server.app import create_app

__all__ = ["create_app"]
