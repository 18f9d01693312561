"""The one check of a server's URL, for the ``PERSONAE_BASE_URL`` variable and the openai
backend's ``base_url`` option alike (so both accept the same URLs)."""

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


__all__ = ["check_http_url"]
