"""Starting llama.cpp for the embedded backend, and saying why it did not start.

xllamacpp's ``Server`` reports every failed start alike ("Failed to init server, please check
the input params."): llama.cpp logs the cause, but it runs silent here. So what can be checked
beforehand is (the file is there and starts with the GGUF magic), and a failed start is
diagnosed afterwards, most specific cause first:

1. the file went missing, or stopped being GGUF, in between;
2. the HTTP listener could not bind 127.0.0.1: xllamacpp opens it before it loads the model and
   gives up when it cannot, so when a loopback socket of our own cannot bind either, that was it;
3. not enough memory: the file and the KV cache of the context asked for (at least
   :data:`KV_BYTES_PER_TOKEN` a token) exceed what this process may use (RAM and swap, its
   cgroup's ``memory.max``, its address-space limit);
4. else the file itself: only then may it be called possibly damaged.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from personae.errors import AdapterError, BackendUnavailable, ModelError, PersonaeError
from personae.models.store import check_gguf

# The least KV cache one token of context takes on the catalogue's models is 12 KiB
# (Qwen2.5-0.5B: 24 layers × 2 KV heads × 64 dimensions × K and V × 2 bytes); less is assumed, so
# that "not enough memory" is said only when it is certain.
KV_BYTES_PER_TOKEN = 8 * 1024
GIB = 1024**3
# How xllamacpp's Server says that it did not start, whatever the cause.
GENERIC_FAILURE = "Failed to init server"

ServerFactory = Callable[[Any], Any]


def model_fix(model: str, catalogued: bool) -> str:
    """What to do about a bad model file: pull a catalogue model again, or give another file."""
    if catalogued:
        return f"delete it and run `personae models pull {model}` again"
    return "give a llama.cpp .gguf file"


def check_model_file(path: Path, model: str, *, catalogued: bool) -> None:
    """A :class:`ModelError` unless ``path`` is there and starts with the GGUF magic."""
    if not path.exists():
        if catalogued:
            raise ModelError(f"model file {path} is missing: run `personae models pull {model}`")
        raise ModelError(f"model file {path} does not exist: give an existing .gguf file")
    check_gguf(path, model_fix(model, catalogued))


def start_server(
    factory: ServerFactory,
    params: Any,
    *,
    path: Path,
    model: str,
    catalogued: bool,
    context_tokens: int,
    adapters: Sequence[str] = (),
) -> Any:
    """``factory(params)`` (xllamacpp's ``Server``) for the model at ``path``, checked first; a
    failed start becomes the :class:`PersonaeError` that says why (see the module docstring).
    ``context_tokens``: the KV cache asked for, over all slots; ``adapters``: the names of the
    LoRA adapters loaded with it."""
    check_model_file(path, model, catalogued=catalogued)
    try:
        return factory(params)
    except Exception as exc:
        raise failed_start(
            exc,
            path=path,
            model=model,
            catalogued=catalogued,
            context_tokens=context_tokens,
            adapters=adapters,
        ) from exc


def failed_start(
    exc: BaseException,
    *,
    path: Path,
    model: str,
    catalogued: bool,
    context_tokens: int,
    adapters: Sequence[str] = (),
) -> PersonaeError:
    """Why llama.cpp did not start with the model at ``path`` and ``adapters`` (``exc``: what
    it raised)."""
    try:
        check_model_file(path, model, catalogued=catalogued)  # gone or changed meanwhile?
    except ModelError as changed:
        return changed
    refused = listener_bind_error()
    if refused is not None:
        return BackendUnavailable(
            f"llama.cpp could not open its HTTP listener on 127.0.0.1 ({refused}): the embedded "
            "backend needs to bind a local port even where nothing connects to it; allow that, "
            "or use --backend openai with a server"
        )
    need = _file_size(path) + context_tokens * KV_BYTES_PER_TOKEN
    limit = memory_limit()
    if isinstance(exc, MemoryError) or (limit is not None and need > limit):
        have = f", this process may use {limit / GIB:.1f} GiB" if limit is not None else ""
        return BackendUnavailable(
            f"not enough memory to load {model} with a {context_tokens}-token context (at least "
            f"{need / GIB:.1f} GiB{have}): lower --ctx or --parallel, or use a smaller model"
        )
    # xllamacpp's own words for every failure ("... please check the input params") would
    # send the user after the wrong thing.
    why = " ".join(str(exc).split())
    detail = f" ({why})" if why and not why.startswith(GENERIC_FAILURE) else ""
    if adapters:
        # The model file passed its checks; an adapter that is damaged or was made for another
        # base model fails the start alike, and llama.cpp does not say which.
        names = ", ".join(adapters)
        return AdapterError(
            f"llama.cpp could not load {path} with the LoRA adapters {names}{detail}: an "
            f"adapter may be damaged or made for another base model than {model} (convert or "
            f"train it again for {model}), or the model file is: {model_fix(model, catalogued)}",
            param="adapter",
        )
    return ModelError(
        f"llama.cpp could not load {path}{detail}; the file may be damaged: "
        f"{model_fix(model, catalogued)}"
    )


def listener_bind_error(host: str = "127.0.0.1") -> str | None:
    """Why a TCP socket cannot listen on ``host`` here (None: it can)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            sock.listen(1)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def memory_limit() -> int | None:
    """The most memory this process may use, in bytes, as far as the system says (None when it
    says nothing): RAM and swap, its cgroup's ``memory.max``, its address-space limit."""
    limits = [x for x in (_ram_and_swap(), _cgroup_limit(), _address_space_limit()) if x]
    return min(limits) if limits else None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _ram_and_swap() -> int | None:
    try:
        lines = Path("/proc/meminfo").read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    kib: dict[str, int] = {}
    for line in lines:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdecimal():
            kib[name] = int(fields[0])
    if "MemTotal" not in kib:
        return None
    return (kib["MemTotal"] + kib.get("SwapTotal", 0)) * 1024


def _cgroup_limit() -> int | None:
    """``memory.max`` of this process's cgroup (v2), when one is set."""
    try:
        entries = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
        where = next(line[3:] for line in entries if line.startswith("0::"))
        text = (Path("/sys/fs/cgroup") / where.lstrip("/") / "memory.max").read_text().strip()
    except (OSError, StopIteration, UnicodeDecodeError):
        return None
    return int(text) if text.isdecimal() else None


def _address_space_limit() -> int | None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else soft


__all__ = [
    "KV_BYTES_PER_TOKEN",
    "ServerFactory",
    "check_model_file",
    "failed_start",
    "listener_bind_error",
    "memory_limit",
    "start_server",
]
