"""`personae experience …`: build a character's training experiences from a profile
(Character-LLM's method), count them, read samples, export them for fine-tuning."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from personae.cli.common import (
    backend_options,
    err_console,
    make_backend,
    open_db,
    out_console,
    sampling_overrides,
    settings_from,
    user_errors,
)
from personae.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from personae.characters import Character
    from personae.experience.profile import Profile

# Each slot of the embedded model holds the scene prompt (~1k tokens with the profile excerpt)
# and the experience (up to --max-tokens, 900 by default).
EXPERIENCE_CTX = 4096


@click.group("experience")
def experience_group() -> None:
    """Training experiences for a character: build from a profile, stats, show, export."""


def _character(reference: str, bare: bool) -> tuple[str, Character | None]:
    """CHARACTER as a card (library id or name, or a card file), or as a bare name."""
    if bare:
        name = " ".join(reference.split())
        if not name:
            raise InvalidInput("the character's name is empty")
        return name, None
    from personae.characters import read_card
    from personae.store import CharacterRepository

    path = Path(reference)
    if path.suffix.lower() in (".json", ".png", ".charx") and path.exists():
        card = read_card(path).character
        return card.name, card
    try:
        card = CharacterRepository(open_db()).find(reference).character
    except NotFound:
        raise NotFound(
            f"unknown character {reference!r}: name one from `personae card list`, a card file, "
            "or pass --bare to build from the profile alone"
        ) from None
    return card.name, card


def _profile(reference: str, profile_file: Path | None, bare: bool) -> Profile:
    from personae.experience.profile import make_profile, read_profile_file

    if bare and profile_file is None:
        raise InvalidInput(
            "--bare needs --profile FILE: there is no card to read the character from"
        )
    name, card = _character(reference, bare)
    text = read_profile_file(profile_file) if profile_file is not None else ""
    return make_profile(name, text, card)


@contextmanager
def _progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


@experience_group.command("build")
@click.argument("character")
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(path_type=Path),
    help="Biography or wiki text about the character (UTF-8); the card's own fields lead it.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Dataset directory (an existing one for the same profile is resumed).",
)
@click.option(
    "--scenes",
    type=click.IntRange(1, 5000),
    default=50,
    show_default=True,
    help="Ordinary scenes to extract from the profile.",
)
@click.option(
    "--protective-ratio",
    type=click.FloatRange(0.0, 1.0),
    default=0.2,
    show_default=True,
    help="Protective scenes per ordinary scene.",
)
@click.option(
    "--candidates",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Experiences generated per scene at once; the best that passes is kept.",
)
@click.option(
    "--rounds",
    type=click.IntRange(1, 5),
    default=2,
    show_default=True,
    help="Tries per scene when no candidate passes the gates.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Scenes worked on at once (embedded: parallel x candidates slots).",
)
@click.option(
    "--turns",
    type=click.IntRange(2, 40),
    default=6,
    show_default=True,
    help="Turns each experience is asked to have (at least).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, None),
    help="Make at most K experiences now (a trial run; run again to continue).",
)
@click.option(
    "--alias",
    "aliases",
    multiple=True,
    help="Another name the character goes by in experiences (repeatable).",
)
@click.option("--bare", is_flag=True, help="CHARACTER is only a name: build from --profile alone.")
@backend_options
@user_errors
def build_command(character: str, profile_file: Path | None, out: Path, **flags: Any) -> None:
    """Build CHARACTER's experiences into --out: scenes from the profile, an experience lived
    through in each, protective experiences, all through the quality gates."""
    from personae.experience.build import BuildOptions, build_experiences
    from personae.experience.records import ExperienceDir
    from personae.experience.stats import dataset_stats

    profile = _profile(character, profile_file, flags.pop("bare"))
    sampling = sampling_overrides(flags)
    options = BuildOptions(
        scenes=flags["scenes"],
        protective_ratio=flags["protective_ratio"],
        candidates=flags["candidates"],
        rounds=flags["rounds"],
        parallel=flags["parallel"],
        limit=flags["limit"],
        turns=flags["turns"],
        max_tokens=sampling.pop("max_tokens", 900),
        temperature=sampling.pop("temperature", 0.8),
        seed=sampling.pop("seed", 0),
        sampling=sampling,
    )
    settings = settings_from(flags)
    if settings.backend == "embedded":
        slots = options.parallel * options.candidates
        settings = settings.with_overrides(
            n_parallel=slots, n_ctx=flags.get("n_ctx") or EXPERIENCE_CTX
        )
    backend = make_backend(settings)
    try:
        with _progress_bars() as progress:
            report = build_experiences(
                backend,
                profile,
                out,
                options,
                aliases=flags["aliases"],
                model=settings.model,
                progress=progress,
            )
    finally:
        close = getattr(backend, "close", None)
        if callable(close):
            close()
    stats = dataset_stats(ExperienceDir.open(out))
    verb = "resumed" if report.resumed else "built"
    err_console.print(
        f"{verb} {out}: {report.kept} kept, {sum(report.dropped.values())} dropped this run "
        f"in {report.seconds:.0f} s; {stats['experiences']} experiences of {stats['scenes']} "
        f"scenes in all ({stats['pending']} waiting)",
        markup=False,
        highlight=False,
    )


def _open(directory: Path) -> Any:
    from personae.experience.records import ExperienceDir

    return ExperienceDir.open(directory)


@experience_group.command("stats")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_errors
def stats_command(directory: Path, as_json: bool) -> None:
    """Count what DIRECTORY holds: scenes, experiences, turns, tokens, drops by reason."""
    from personae.experience.stats import dataset_stats

    stats = dataset_stats(_open(directory))
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(
        title=f"{stats['character']} ({stats['language']}) — {directory}", title_justify="left"
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in (
        "scenes",
        "experiences",
        "protective",
        "turns",
        "thinking_turns",
        "tokens",
        "redacted",
        "pending",
    ):
        table.add_row(key.replace("_", " "), f"{stats[key]:,}")
    for group in ("dropped", "rejected_candidates"):
        for reason, count in stats[group].items():
            table.add_row(f"{group.replace('_', ' ')}: {reason}", f"{count:,}")
    out_console.print(table)


@experience_group.command("show")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--sample",
    type=click.IntRange(1, 1000),
    default=3,
    show_default=True,
    help="How many experiences to show.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which sample.")
@click.option("--protective", is_flag=True, help="Only protective experiences.")
@user_errors
def show_command(directory: Path, sample: int, seed: int, protective: bool) -> None:
    """Read a random sample of DIRECTORY's experiences, as a person would."""
    from personae.experience.export import interaction_of
    from personae.experience.records import EXPERIENCES

    found = _open(directory)
    rows = found.rows(EXPERIENCES)
    if protective:
        rows = [r for r in rows if r.get("scene", {}).get("protective")]
        if not rows:
            raise InvalidInput(
                f"{directory} has no protective experiences: build with --protective-ratio above 0"
            )
    if not rows:
        raise InvalidInput(f"{directory} has no experiences yet: run `personae experience build`")
    chosen = random.Random(seed).sample(rows, min(sample, len(rows)))
    for row in chosen:
        scene = row.get("scene", {})
        kind = f"protective: {scene.get('topic')}" if scene.get("protective") else scene.get("type")
        head = f"── {scene.get('id')} ({kind}) · {scene.get('time')} · {scene.get('place')}"
        out_console.print(head, style="bold", markup=False, highlight=False)
        interaction = interaction_of(row)
        if interaction.background:
            out_console.print(interaction.background, style="italic", markup=False)
        for turn in interaction.turns:
            tag = f"{turn.speaker} ({turn.action})"
            out_console.print(tag, style="cyan" if turn.character else "green", markup=False)
            out_console.print(turn.text, markup=False, highlight=False)
        out_console.print("")


@experience_group.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["openai", "character-llm"]),
    default="openai",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="JSONL file to write ('-': stdout).",
)
@user_errors
def export_command(directory: Path, fmt: str, output: Path) -> None:
    """Write DIRECTORY's experiences as JSONL: OpenAI/TRL chat messages or Character-LLM's
    prompt/output pairs."""
    from personae.experience.export import export_row
    from personae.experience.records import EXPERIENCES

    found = _open(directory)
    name = found.manifest.get("character", "")
    language = found.manifest.get("language", "en")
    rows = [export_row(r, name, language, fmt) for r in found.rows(EXPERIENCES)]  # type: ignore[arg-type]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if str(output) == "-":
        click.echo(lines, nl=False)
        return
    try:
        output.write_text(lines, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None
    err_console.print(f"wrote {len(rows)} experiences to {output}", markup=False, highlight=False)
