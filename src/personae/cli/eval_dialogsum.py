"""`personae eval dialogsum`: the DialogSum benchmark, resumable, with a report."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from personae.cli.common import (
    backend_options,
    err_console,
    make_backend,
    out_console,
    settings_from,
    user_errors,
)
from personae.evaluation.tasks.dialogsum import STRATEGIES, run_dialogsum
from personae.text.tokenizers import TOKENIZER_NAMES


@click.command("dialogsum")
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="DialogSum JSONL (fname, dialogue, summary or summary1…).",
)
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    help=f"Prompting strategy, repeatable: {', '.join(STRATEGIES)} (default zero-shot).",
)
@click.option("--limit", type=int, help="Only the first N dialogues.")
@click.option("--shots", type=click.IntRange(1, 8), help="Demonstrations for few-shot (2).")
@click.option("--samples", type=click.IntRange(2, 32), help="Candidates for consensus (5).")
@click.option("--tokenizer", default="default", help="ROUGE tokenizer (default: as rouge-score).")
@click.option("--stemmer/--no-stemmer", default=True, help="Porter stemming (published setting).")
@click.option("--baselines-only", is_flag=True, help="Score cached runs and baselines; no model.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("eval-results"),
    show_default=True,
    help="Folder for the cache and the report.",
)
@backend_options
@user_errors
def dialogsum_command(
    data: Path,
    strategies: tuple[str, ...],
    limit: int | None,
    shots: int | None,
    samples: int | None,
    tokenizer: str,
    stemmer: bool,
    baselines_only: bool,
    out: Path,
    **flags: Any,
) -> None:
    """Summarize DialogSum dialogues and report ROUGE F1 against LEAD-3 and LONGEST-3.

    Predictions are cached in OUT/dialogsum.cache.jsonl: run again to resume, or with another
    --model to add a row; the report covers every run cached for these dialogues."""
    from personae.errors import InvalidInput

    if tokenizer not in TOKENIZER_NAMES:
        raise InvalidInput(
            f"unknown tokenizer {tokenizer!r}; choose one of: {', '.join(TOKENIZER_NAMES)}"
        )
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise InvalidInput(
                f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}"
            )
    if limit is not None and limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    if not data.is_file():
        raise InvalidInput(f"no such file: {data} (pass the DialogSum JSONL with --data)")
    backend = None if baselines_only else make_backend(settings_from(flags))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    tasks: dict[str, Any] = {}
    try:
        with Progress(*columns, console=err_console, transient=True) as bar:

            def progress(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                bar.update(tasks[label], completed=done)

            report = run_dialogsum(
                data,
                backend=backend,
                strategies=strategies or ("zero-shot",),
                limit=limit,
                cache_path=out / "dialogsum.cache.jsonl",
                tokenizer=tokenizer,
                stemmer=stemmer,
                shots=shots,
                samples=samples,
                progress=progress,
            )
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()
    paths = report.write(out / "dialogsum")
    table = RichTable(title=report.tables[0].title)
    for column in report.tables[0].columns:
        table.add_column(column)
    for row in report.tables[0].rows:
        table.add_row(*(str(v) for v in row))
    out_console.print(table)
    err_console.print(f"report: {', '.join(str(p) for p in paths)}")
