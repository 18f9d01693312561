"""Errors a user can act on.

Every error raised for bad input or a broken environment is a :class:`PersonaeError`.
Its message says what went wrong *and* what to do about it, on one line, because the CLI prints
exactly that line and the server puts it in an OpenAI-style error body. Each class carries the
HTTP status and the OpenAI ``type``/``code`` the server maps it to, so there is one mapping.
"""

from __future__ import annotations


class PersonaeError(Exception):
    """Base of every error meant for a user. ``str(err)`` is a one-line, actionable message."""

    http_status: int = 400
    error_type: str = "invalid_request_error"
    code: str = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        # One line, always: a multi-line message would break the CLI contract.
        super().__init__(" ".join(message.split()))
        self.param = param

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(PersonaeError):
    """A value given by the user is not acceptable (bad option, empty text, out of range)."""


class ConfigError(PersonaeError):
    """The configuration file or environment is inconsistent."""

    code = "config_error"


class NotFound(PersonaeError):
    """A named thing (character, chat, message, model) does not exist."""

    http_status = 404
    code = "not_found"


class CardError(PersonaeError):
    """A character card could not be read or written (malformed file, wrong types, too large)."""

    code = "invalid_card"


class LorebookError(CardError):
    """A lorebook entry is invalid (for example a regex key that does not compile)."""


class ModelError(PersonaeError):
    """A model is unknown, not pulled, or its file is damaged."""

    http_status = 404
    code = "model_not_found"


class PullError(ModelError):
    """Downloading or assembling a model from the package registry failed."""

    http_status = 502
    error_type = "server_error"
    code = "pull_failed"


class BackendError(PersonaeError):
    """The LLM backend failed. Subclasses say how, so callers can decide whether to retry."""

    http_status = 502
    error_type = "server_error"
    code = "backend_error"


class BackendUnavailable(BackendError):
    """The backend could not be reached (connection refused, DNS, timeout before any token) or,
    for the embedded one, could not start here (no memory for it, no local port for its
    listener)."""

    http_status = 503
    code = "backend_unavailable"


class BackendAuthError(BackendError):
    """The backend rejected the API key."""

    http_status = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class BackendModelNotFound(BackendError):
    """The backend does not serve the requested model."""

    http_status = 404
    error_type = "invalid_request_error"
    code = "model_not_found"


class BackendTimeout(BackendError):
    """The backend took too long."""

    http_status = 504
    code = "backend_timeout"


class StreamInterrupted(BackendError):
    """The reply stream broke after some tokens had already arrived; the partial text is kept."""

    code = "stream_interrupted"

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class EmptyReply(BackendError):
    """The model gave no text, even when asked a second time, warmer and with another seed."""

    code = "empty_reply"

    def __init__(
        self,
        message: str = "the model gave an empty reply twice (the second time warmer and with "
        "another seed): ask again, or change the message, the temperature or the model",
        *,
        param: str | None = None,
    ) -> None:
        super().__init__(message, param=param)


class ContextOverflow(PersonaeError):
    """The parts of a prompt that may not be dropped do not fit the model's context window."""

    code = "context_length_exceeded"


class StoreError(PersonaeError):
    """The database could not be opened or written."""

    http_status = 500
    error_type = "server_error"
    code = "store_error"


class AdapterError(InvalidInput):
    """A LoRA adapter cannot be used: not an adapter, made for another base model, or of a kind
    the runtime cannot load."""

    code = "invalid_adapter"
