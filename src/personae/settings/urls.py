"""The one check of a server's URL, for the ``PERSONAE_BASE_URL`` variable and the openai
backend's ``base_url`` option alike (so both accept the same URLs); and of a store's URL, for
``PERSONAE_DATABASE_URL`` and ``[store] url`` alike."""

from __future__ import annotations


def check_http_url(value: str) -> str:
    """``value`` as an http(s) URL with no trailing slash; ``ValueError`` saying why not."""
    # httpx (0.16 s to import) only when a URL is checked: the environment imports this module
    # on every command's path, `personae --help` included.
    import httpx

    value = value.strip().rstrip("/")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http(s) URL, e.g. http://127.0.0.1:11434/v1")
    return value


SCHEMES = ("postgresql://", "postgres://", "sqlite:///")
MAX_URL = 2048


def check_store_url(value: str) -> str:
    """``value`` as a store URL; ``ValueError`` saying why not."""
    value = value.strip()
    if not value or len(value) > MAX_URL or not value.isprintable():
        raise ValueError(f"must be one printable line of at most {MAX_URL} characters")
    if not value.startswith(SCHEMES):
        raise ValueError(
            "must be postgresql://user@host:port/database or sqlite:///path/to/personae.db"
        )
    if value.startswith("sqlite:///") and len(value) == len("sqlite:///"):
        raise ValueError("sqlite:/// needs a file's path after it")
    return value


__all__ = ["check_http_url", "check_store_url"]
