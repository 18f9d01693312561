"""`personae eval roleplay interview|pairwise`: LLM-judged role-play evaluations.

The actor is chosen with the usual backend flags; the judge with ``--judge-*`` flags (by default
the actor's own backend judges). Results go to ``--out`` as JSON, Markdown and HTML; a results
cache beside them lets an interrupted run resume (``--fresh`` starts over).
"""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from personae.backends import Backend
from personae.characters import Character
from personae.checks.judge import DEFAULT_PARAMS, Judge
from personae.cli.common import (
    adapter_option,
    backend_options,
    err_console,
    generation_params,
    make_backend,
    out_console,
    settings_from,
    user_errors,
)
from personae.config import Settings
from personae.errors import InvalidInput
from personae.evaluation.cache import ResultCache
from personae.evaluation.report import Report
from personae.evaluation.rubrics import DIMENSIONS, parse_dimensions
from personae.evaluation.tasks._roleplay import (
    ACTOR_PARAMS,
    Question,
    bundled_questions,
    character_from_profile,
    load_questions,
    resolve_character,
    slug,
)
from personae.metrics.stats import Estimate

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_OUT = "eval-results"


def judge_options(func: F) -> F:
    options = [
        click.option("--judge-backend", help="embedded or openai (default: the actor's)."),
        click.option("--judge-model", help="Judge model (default: the actor's model)."),
        click.option("--judge-base-url", help="OpenAI-compatible server for the judge."),
        click.option("--judge-api-key", envvar="PERSONAE_JUDGE_API_KEY", help="Judge key."),
        click.option(
            "--judge-max-tokens",
            type=click.IntRange(16, 4096),
            help=f"Judge reasoning budget (default {DEFAULT_PARAMS.max_tokens}).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def results_options(func: F) -> F:
    """--out and --fresh: where the report and its resumable cache go."""
    options = [
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=DEFAULT_OUT,
            show_default=True,
            help="Folder for the report (JSON, Markdown, HTML) and the resumable results cache.",
        ),
        click.option("--fresh", is_flag=True, help="Ignore earlier results and start over."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def common_options(func: F) -> F:
    options = [
        click.option(
            "--questions",
            "questions_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="JSON list of {topic_id, topic, question} (default: the bundled set).",
        ),
        click.option("--limit", type=click.IntRange(1), help="Ask only the first N questions."),
    ]
    for option in reversed(options):
        func = option(func)
    return results_options(func)


def _same(a: Settings, b: Settings) -> bool:
    keys = ("base_url", "n_ctx")
    return (a.backend, a.model) == (b.backend, b.model) and all(
        a.backend_options.get(k) == b.backend_options.get(k) for k in keys
    )


def make_judge(actor_settings: Settings, actor: Backend, flags: dict[str, Any]) -> Judge:
    """The judge backend from ``--judge-*`` flags; the actor's backend when they name the same
    model (one copy of a model in memory, not two)."""
    params = DEFAULT_PARAMS
    if flags.get("judge_max_tokens"):
        params = params.model_copy(update={"max_tokens": flags["judge_max_tokens"]})
    named = [flags.get(k) for k in ("judge_backend", "judge_model", "judge_base_url")]
    if not any(named):
        return Judge(actor, params=params)
    backend = flags.get("judge_backend") or ("openai" if flags.get("judge_base_url") else None)
    settings = actor_settings.with_overrides(
        backend=backend or actor_settings.backend,
        model=flags.get("judge_model") or actor_settings.model,
        base_url=flags.get("judge_base_url"),
        api_key=flags.get("judge_api_key"),
    )
    if _same(settings, actor_settings):
        return Judge(actor, params=params)
    return Judge(make_backend(settings), params=params)


def pick_character(
    character: str | None, profile: Path | None, name: str | None
) -> tuple[str, Character]:
    if profile is not None:
        if character:
            raise InvalidInput("give either CHARACTER or --profile, not both")
        if not name:
            raise InvalidInput("--profile needs --name (the character's name)")
        built = character_from_profile(profile, name)
        return slug(name), built
    if not character:
        raise InvalidInput(
            "name a CHARACTER (see `personae card list`) or give --profile FILE --name NAME"
        )
    return resolve_character(character)


def pick_questions(cid: str, path: Path | None, limit: int | None) -> list[Question]:
    questions = load_questions(path) if path is not None else bundled_questions(cid)
    return questions[:limit] if limit else questions


def open_cache(path: Path, fresh: bool) -> ResultCache:
    if fresh and path.exists():
        path.unlink()
    return ResultCache(path)


@contextmanager
def progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing one bar per stage on stderr."""
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


def show(report: Report, paths: list[Path]) -> None:
    table = report.tables[0]
    rich_table = RichTable(title=report.title, title_justify="left")
    for column in table.columns:
        rich_table.add_column(column)
    for row in table.rows:
        rich_table.add_row(*(v.format() if isinstance(v, Estimate) else str(v) for v in row))
    out_console.print(rich_table)
    for key in ("judge validity",):
        if key in report.settings:
            out_console.print(f"{key}: {report.settings[key]}")
    err_console.print("wrote " + ", ".join(str(p) for p in paths))


@click.command("interview")
@click.argument("character", required=False)
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Plain-text profile (e.g. Character-LLM wiki_*.txt) instead of a card.",
)
@click.option("--name", help="The character's name, with --profile.")
@click.option(
    "--mode",
    type=click.Choice(["single", "multi"]),
    default="single",
    show_default=True,
    help="single: each question in a fresh chat; multi: one running conversation.",
)
@click.option(
    "--dimensions", help=f"Comma-separated, from: {', '.join(DIMENSIONS)} (default: all)."
)
@common_options
@judge_options
@backend_options
@adapter_option
@user_errors
def interview_command(
    character: str | None,
    profile: Path | None,
    name: str | None,
    mode: str,
    dimensions: str | None,
    questions_file: Path | None,
    limit: int | None,
    out_dir: Path,
    fresh: bool,
    **flags: Any,
) -> None:
    """Interview CHARACTER and have an LLM judge score each answer 1–7 on memorization, values,
    personality, hallucination and stability.

    \b
    personae eval roleplay interview sherlock --limit 5
    personae eval roleplay interview hong-gildong --mode multi --judge-model qwen2.5-coder-1.5b
    personae eval roleplay interview --profile wiki_Newton.txt --name "Isaac Newton" \\
        --questions interview_Newton.json
    """
    from personae.evaluation.tasks.interview import run_interview

    dims = parse_dimensions(dimensions)
    cid, char = pick_character(character, profile, name)
    questions = pick_questions(cid, questions_file, limit)
    settings = settings_from(flags)
    # A library character plays with its adapter (the active one, or --adapter); the judge
    # that defaults to the actor's model judges with the base alone.
    actor = make_backend(
        settings, character=cid if character else None, adapter=flags.get("adapter")
    )
    judge = make_judge(settings, getattr(actor, "base", actor), flags)
    stem = out_dir / f"interview-{cid}-{mode}-{slug(actor.model)}"
    cache = open_cache(stem.with_name(stem.name + ".cache.jsonl"), fresh)
    with progress_bars() as progress:
        report = run_interview(
            char,
            actor,
            judge,
            questions=questions,
            mode=mode,
            dimensions=dims,
            cache=cache,
            actor_params=generation_params(flags, model=actor.model, **_actor_defaults()),
            character_id=cid,
            progress=progress,
        )
    show(report, report.write(stem))


def _actor_defaults() -> dict[str, Any]:
    return {"max_tokens": ACTOR_PARAMS.max_tokens, "seed": ACTOR_PARAMS.seed}


@click.command("pairwise")
@click.argument("character")
@click.option("--character-b", help="B's character (default: the same CHARACTER).")
@click.option("--backend-b", help="B's backend (default: A's).")
@click.option("--model-b", help="B's model (default: A's).")
@click.option("--base-url-b", help="B's OpenAI-compatible server.")
@click.option("--api-key-b", envvar="PERSONAE_API_KEY_B", help="Key for --base-url-b.")
@click.option("--criterion", help="What 'better' means (default: plays the character better).")
@common_options
@judge_options
@backend_options
@user_errors
def pairwise_command(
    character: str,
    character_b: str | None,
    backend_b: str | None,
    model_b: str | None,
    base_url_b: str | None,
    api_key_b: str | None,
    criterion: str | None,
    questions_file: Path | None,
    limit: int | None,
    out_dir: Path,
    fresh: bool,
    **flags: Any,
) -> None:
    """Compare two actors — A (CHARACTER on the --model/--base-url backend) and B (--model-b,
    --character-b …) — on the same questions; a judge compares each pair in both orders.

    \b
    personae eval roleplay pairwise sherlock --model smollm2-135m --model-b qwen2.5-coder-1.5b \\
        --judge-model qwen2.5-coder-1.5b --limit 4
    """
    from personae.evaluation.tasks.pairwise import Contestant, run_pairwise

    if not any((character_b, backend_b, model_b, base_url_b)):
        raise InvalidInput("B is the same as A: give --model-b, --character-b or --base-url-b")
    cid_a, char_a = resolve_character(character)
    cid_b, char_b = resolve_character(character_b) if character_b else (cid_a, char_a)
    questions = pick_questions(cid_a, questions_file, limit)
    settings_a = settings_from(flags)
    settings_b = settings_a.with_overrides(
        backend=backend_b or ("openai" if base_url_b else None),
        model=model_b,
        base_url=base_url_b,
        api_key=api_key_b,
    )
    actor_a = make_backend(settings_a)
    actor_b = actor_a if _same(settings_a, settings_b) else make_backend(settings_b)
    judge = make_judge(settings_a, actor_a, flags)
    # Each actor samples with its own model's defaults.
    params_a = generation_params(flags, model=actor_a.model, **_actor_defaults())
    params_b = generation_params(flags, model=actor_b.model, **_actor_defaults())
    stem = out_dir / (f"pairwise-{cid_a}-{slug(actor_a.model)}-vs-{cid_b}-{slug(actor_b.model)}")
    cache = open_cache(stem.with_name(stem.name + ".cache.jsonl"), fresh)
    with progress_bars() as progress:
        report = run_pairwise(
            Contestant(char_a, actor_a, params_a, f"{cid_a}@{actor_a.model}", cid_a),
            Contestant(char_b, actor_b, params_b, f"{cid_b}@{actor_b.model}", cid_b),
            judge,
            questions=questions,
            criterion=criterion,
            cache=cache,
            progress=progress,
        )
    show(report, report.write(stem))
