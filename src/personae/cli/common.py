"""What every command shares: one-line errors, the store, and building a backend from flags."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import functools
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from personae.backends import Backend, GenerationParams, get_backend
from personae.backends.base import SAMPLING_FIELDS
from personae.backends.registry import check_backend_name
from personae.config import Settings, load_settings
from personae.environment import CTX_MAX, CTX_MIN, check_environment, env_value
from personae.errors import InvalidInput, PersonaeError
from personae.settings.reply import MAX_N, MAX_ROUNDS, STRATEGIES, ReplyStrategy
from personae.store import Database

if TYPE_CHECKING:
    from personae.training.adapters import AdapterInfo

F = TypeVar("F", bound=Callable[..., Any])


class WrapOnTerminal(Console):
    """A rich console that wraps text to the width of a terminal, and only there.

    Printed to a file or a pipe, rich would hard-wrap at 80 columns, breaking sentences (and
    one-line errors) mid-line for whatever reads them. There, text is printed as it is. Other
    renderables (tables) keep rich's layout. The check is made at each print, because the
    stream behind the console can change (tests swap ``sys.stdout``).
    """

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = all(isinstance(o, str) for o in objects)
        super().print(*objects, soft_wrap=soft_wrap, **options)


err_console = WrapOnTerminal(stderr=True, highlight=False)
out_console = WrapOnTerminal(highlight=False)


def print_error(message: str) -> None:
    """Print ``error: message`` as one line on stderr. ``message`` is printed as it is: an error
    that names ``[memory]`` or a path with brackets must not lose them as console markup."""
    err_console.print(
        f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True
    )


def fail(message: str, code: int = 1) -> None:
    """Print one line to stderr (see :func:`print_error`) and exit non-zero."""
    print_error(message)
    sys.exit(code)


def user_errors(func: F) -> F:
    """Turn :class:`PersonaeError` into one line on stderr and exit 1; Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PersonaeError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            err_console.print("interrupted")
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)

    return wrapper  # type: ignore[return-value]


def check_startup() -> None:
    """What every command checks before it runs, so a bad value fails at once and the same way
    for every command: each ``PERSONAE_*`` variable, and every table of ``config.toml`` (a bad
    value is one line naming the file and the key)."""
    try:
        check_environment()
        check_backend_name(env_value("PERSONAE_BACKEND"))
        load_settings()
    except PersonaeError as exc:
        fail(str(exc))


def open_db() -> Database:
    from personae.store.library import open_library

    return open_library()


def backend_options(func: F) -> F:
    """The flags that choose and tune a backend, shared by chat, ask and restyle."""
    options = [
        click.option("--backend", "backend", help="embedded (default) or openai."),
        click.option(
            "--model", "-m", "model", help="Model: catalogue name, .gguf path, or server model."
        ),
        click.option("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1"),
        click.option("--api-key", envvar="PERSONAE_API_KEY", help="Key for --base-url."),
        click.option(
            "--ctx", "n_ctx", type=click.IntRange(CTX_MIN, CTX_MAX), help="Context tokens."
        ),
        click.option("--max-tokens", type=click.IntRange(1, 32768), help="Reply length limit."),
        click.option("--temperature", type=click.FloatRange(0.0, 2.0), help="Sampling heat."),
        click.option("--seed", type=int, help="Sampling seed (repeatable replies)."),
        click.option(
            "--sampling",
            "sampling",
            multiple=True,
            metavar="KEY=VALUE",
            help="Sampling setting over the model's defaults, e.g. dry_multiplier=1.2 or "
            "'presence_penalty=0.3,top_k=30' (repeatable; none = the runtime's default). Keys: "
            + ", ".join(SAMPLING_FIELDS)
            + ".",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def settings_from(flags: dict[str, Any]) -> Settings:
    settings = load_settings()
    backend = flags.get("backend")
    if backend is None and flags.get("base_url"):
        backend = "openai"
    return settings.with_overrides(
        backend=backend,
        model=flags.get("model"),
        base_url=flags.get("base_url"),
        api_key=flags.get("api_key"),
        n_ctx=flags.get("n_ctx"),
    )


def sampling_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    """What the user asked for: ``--sampling`` settings, then ``--max-tokens``,
    ``--temperature`` and ``--seed``. A bad ``--sampling`` is one line naming the keys."""
    from personae.backends.sampling import parse_sampling

    values = parse_sampling(flags.get("sampling") or ())
    for key in ("max_tokens", "temperature", "seed"):
        if flags.get(key) is not None:
            values[key] = flags[key]
    return values


def generation_params(
    flags: dict[str, Any], *, model: str | None = None, **defaults: Any
) -> GenerationParams:
    """The parameters a command samples with: ``model``'s catalogue defaults (given for a
    chat reply's model), then the command's ``defaults``, then :func:`sampling_overrides`."""
    from personae.backends.sampling import default_params, model_sampling

    values = {**(model_sampling(model) if model else {}), **defaults, **sampling_overrides(flags)}
    return default_params(None, **values)


def strategy_options(func: F) -> F:
    """The flags that choose how a reply is made (override ``[reply]``), for chat and ask.
    Values are read as text and checked by :func:`reply_strategy`, so a bad one is one line."""
    options = [
        click.option(
            "--strategy",
            metavar="NAME",
            help="How a reply is made: single (one try), best-of-n (N candidates, the verifiers "
            "choose; the others are kept for /regenerate), refine (a failing reply is written "
            "again with what was wrong) or auto (best-of-n, refined when every candidate "
            "fails). Default: [reply] strategy in config.toml, else single.",
        ),
        click.option(
            "--n",
            "n",
            metavar="N",
            help=f"Candidates a turn for best-of-n and auto (1 to {MAX_N}; default 4).",
        ),
        click.option(
            "--rounds",
            metavar="N",
            help=f"Rewrites of a failing reply for refine and auto (0 to {MAX_ROUNDS}; default 1).",
        ),
        click.option(
            "--time-budget",
            "time_budget",
            metavar="SECONDS",
            help="After this long the candidates are judged on what they have (default: none).",
        ),
        click.option(
            "--token-budget",
            "token_budget",
            metavar="TOKENS",
            help="Tokens generated over every candidate and round (default: no limit).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# The flag each strategy field is set by, and the strategies that use it.
_STRATEGY_FLAGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "n": ("n", "--n", ("best-of-n", "auto")),
    "rounds": ("rounds", "--rounds", ("refine", "auto")),
    "time_budget_s": ("time_budget", "--time-budget", ("best-of-n", "refine", "auto")),
    "token_budget": ("token_budget", "--token-budget", ("best-of-n", "refine", "auto")),
}
_WHOLE = re.compile(r"[+-]?\d{1,9}")


def reply_strategy(flags: dict[str, Any], configured: ReplyStrategy) -> ReplyStrategy:
    """``configured`` (the ``[reply]`` table) with the ``--strategy``, ``--n``, ``--rounds``,
    ``--time-budget`` and ``--token-budget`` flags given over it. A bad value is an
    :class:`InvalidInput` naming the flag; a flag the strategy does not use is said on stderr."""
    changes: dict[str, Any] = {}
    given: dict[str, str] = {}
    raw_name = flags.get("strategy")
    if raw_name is not None:
        name = str(raw_name).strip().lower().replace("_", "-")
        if name not in STRATEGIES:
            raise InvalidInput(
                f"--strategy {raw_name!r} is unknown: use one of {', '.join(STRATEGIES)}",
                param="strategy",
            )
        changes["name"] = name
    for key, (dest, _flag, _) in _STRATEGY_FLAGS.items():
        raw = flags.get(dest)
        if raw is None:
            continue
        given[key] = str(raw)
        changes[key] = _number(str(raw), whole=key != "time_budget_s")
    try:
        strategy = replace(configured, **changes)
    except InvalidInput as exc:
        key = exc.param or "strategy"
        _, flag, _ = _STRATEGY_FLAGS.get(key, ("", f"--{key}", ()))
        message = str(exc)
        if message.startswith(f"{key} "):  # "n must be a whole number from 1 to 8"
            message = flag + message[len(key) :]
        raise InvalidInput(f"{message}, not {given.get(key, '')!r}", param=key) from None
    for key in given:
        _, flag, users = _STRATEGY_FLAGS[key]
        if strategy.name not in users:
            err_console.print(
                f"[dim]({flag} has no effect with the {strategy.name} strategy: it is for "
                f"{' and '.join(users) if len(users) < 3 else ', '.join(users)})[/]"
            )
    return strategy


def _number(text: str, *, whole: bool) -> Any:
    """``text`` as the number it spells, else as it is (the strategy's own check rejects it,
    with the range it allows)."""
    value = text.strip()
    if _WHOLE.fullmatch(value):
        return int(value)
    if not whole:
        try:
            return float(value)
        except ValueError:
            pass
    return text


def with_strategy(settings: Settings, strategy: ReplyStrategy) -> Settings:
    """``settings`` replying with ``strategy``. When a turn generates several candidates on the
    embedded backend, it gets at least that many parallel slots (``n_parallel``), so that they
    are decoded together from one reading of the prompt; fewer slots decode them in groups,
    one group after another. Each slot holds the whole context (``n_ctx``) in memory."""
    settings = settings.replace(reply=strategy)
    wanted = strategy.candidates
    if settings.backend != "embedded" or wanted <= 1:
        return settings
    slots = settings.backend_options.get("n_parallel")
    if isinstance(slots, str) and slots.strip().isdecimal():
        slots = int(slots)
    if slots is not None and (isinstance(slots, bool) or not isinstance(slots, int) or slots < 1):
        return settings  # a bad value is left for the backend's options to report, naming it
    if slots is None or slots < wanted:
        return settings.with_overrides(n_parallel=wanted)
    return settings


def adapter_option(func: F) -> F:
    """``--adapter NAME|none``: the character's trained LoRA adapter to reply with (default:
    its active one, see `personae adapters`)."""
    return click.option(
        "--adapter",
        "adapter",
        metavar="NAME|none",
        help="The character's LoRA adapter to use (default: its active one; none: the base).",
    )(func)


def make_backend(
    settings: Settings,
    *,
    pull_missing: bool = True,
    character: str | None = None,
    adapter: str | None = None,
    adapters: Mapping[str, Path] | None = None,
) -> Backend:
    """Build the configured backend (by :mod:`personae.backends.from_settings`'s rule, as the
    server does); a catalogue model that is not pulled yet is pulled first, with a progress
    bar (the first run's one-time download). With ``character`` (a library id), the backend
    replies with that character's adapter: ``adapter`` by name, ``"none"``, or None for the
    active one (see :func:`character_adapter`). ``adapters``: load these too (the server's,
    each request choosing its own)."""
    from personae.backends.from_settings import backend_options, build_backend

    chosen = character_adapter(settings, character, adapter) if character else None
    if settings.backend != "embedded":
        if chosen is None:
            return build_backend(settings)
        from personae.training.serving import served_adapter

        # A remote server (vLLM, SGLang) holds the adapter: asked for by its name.
        otherwise = ", or reply with the base model alone (--adapter none)"
        return served_adapter(build_backend(settings), chosen, otherwise=otherwise)
    # A bad option must fail before a download of a gigabyte, not after it.
    options = backend_options(settings, check=True)
    if chosen is not None:
        options["adapters"] = {chosen.name: chosen.gguf}
    elif adapters:
        options["adapters"] = dict(adapters)
    if pull_missing:
        ensure_pulled(settings.model)
    with err_console.status(f"loading {settings.model} …"):
        backend = get_backend("embedded", **options)
    if chosen is None:
        return backend
    return backend.with_adapters(chosen.name)  # type: ignore[attr-defined, no-any-return]


def character_adapter(settings: Settings, character: str, choice: str | None) -> AdapterInfo | None:
    """The adapter ``character`` replies with under ``settings``: ``choice`` (a name, or
    "none"), else its active one. One made for another base model than the one configured is
    an error when asked for by name, and left out with a note when it is merely active."""
    from personae.training.adapters import AdapterRegistry

    info = AdapterRegistry().resolve(character, choice)
    if info is None:
        return None
    from personae.backends.registry import backend_class
    from personae.training.serving import holds_adapters

    problem = ""
    if settings.backend != "embedded":
        if not holds_adapters(backend_class(settings.backend)):
            problem = (
                "adapters run on the embedded model or a server that holds them (the openai "
                "backend on vLLM or SGLang: see `personae adapters serve-args`)"
            )
    elif not same_base(info, settings.model):
        problem = (
            f"{info.label} was trained on {info.base}, not on {settings.model}: "
            f"use --model {info.base}"
        )
    if not problem:
        return info
    if choice is not None:
        raise InvalidInput(problem, param="adapter")
    err_console.print(f"[dim]note: not using the active adapter: {escape(problem)}[/]")
    return None


def same_base(info: AdapterInfo, model: str) -> bool:
    """Whether ``model`` (a catalogue name or a .gguf path) is the base ``info`` was trained on."""
    if info.base == model:
        return True
    from personae.errors import ModelError
    from personae.models import resolve_model

    try:
        resolved = resolve_model(model)
    except ModelError:
        return False
    recorded = (info.manifest or {}).get("base", {}).get("sha256")
    return bool(resolved.spec and resolved.spec.sha256 == recorded)


def ensure_pulled(model: str) -> None:
    from personae.models import CATALOGUE, is_pulled, pull
    from personae.models.pull import RichPullProgress

    if model in CATALOGUE and not is_pulled(model):
        err_console.print(
            f"{model} is not on this machine yet: pulling it once "
            f"({CATALOGUE[model].size / 1e6:.0f} MB) …"
        )
        with RichPullProgress(err_console) as progress:
            pull(model, progress=progress)


def memory_options(func: F) -> F:
    """--memory/--no-memory, --memories and --user-id, for commands that chat."""
    options = [
        click.option(
            "--memory/--no-memory",
            "use_memory",
            default=True,
            show_default=True,
            help="Remember across chats (profile, episodes, the character's lines, summary).",
        ),
        click.option(
            "--memories",
            help="Which memories, comma-separated: lines, episodic, summary, profile "
            "(default: [memory] kinds in config.toml, else all).",
        ),
        click.option("--user-id", "user_id", help="Whose chats and memories (default: local)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_memory(
    db: Database, settings: Settings, use_memory: bool, memories: str | None
) -> tuple[Any, Any]:
    """The memory bank and settings a chat runs with, or ``(None, None)`` without memory."""
    if not use_memory:
        return None, None
    from personae.memory.bank import MemoryBank
    from personae.memory.from_settings import memory_settings, redaction_policy

    kinds = [k.strip() for k in memories.split(",") if k.strip()] if memories else None
    chosen = memory_settings(settings.memory, kinds)
    bank = MemoryBank(
        db,
        policy=redaction_policy(settings.privacy),
        notice=lambda text: err_console.print(f"[dim]{text}[/]"),
    )
    return bank, chosen
