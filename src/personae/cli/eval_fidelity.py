"""`personae eval fidelity score`: the fidelity flags of every reply in a transcript file."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
from pathlib import Path

import click
from rich.table import Table as RichTable

from personae.cli.common import err_console, out_console, user_errors


@click.group("fidelity")
def fidelity_group() -> None:
    """Role-play fidelity: copying, echoing, character breaks and language, reply by reply."""


@fidelity_group.command("score")
@click.argument("transcripts", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("eval-results"),
    show_default=True,
    help="Folder for the report (fidelity.json, .md, .html).",
)
@click.option("--json", "as_json", is_flag=True, help="Print goals, flag rates and scores as JSON.")
@user_errors
def score_command(transcripts: Path, out: Path, as_json: bool) -> None:
    """Score TRANSCRIPTS (JSONL, one record per character reply) and write the report.

    Each reply gets rule-based flags (copy, echo, AI disclosure, assistant-speak, wrong language
    …) and scores (style similarity, length fit); the report gives each flag's rate with a
    bootstrap 95% interval, per character and language and per model, and lists every flagged
    reply with its evidence. No model runs. Example:

        personae eval fidelity score transcripts.jsonl --out eval-results
    """
    from personae.evaluation.fidelity.report import fidelity_report, score_rows
    from personae.evaluation.fidelity.transcripts import read_transcripts
    from personae.evaluation.report import strict_json

    rows = read_transcripts(transcripts)
    report = fidelity_report(score_rows(rows), source=str(transcripts))
    paths = report.write(out / "fidelity")
    if as_json:
        summary = {key: report.data[key] for key in ("goals", "flags", "scores")}
        summary["replies"] = len(rows)
        summary["report"] = [str(p) for p in paths]
        click.echo(json.dumps(strict_json(summary), ensure_ascii=False, allow_nan=False))
        return
    for table in report.tables[:2]:
        shown = RichTable(title=table.title)
        for column in table.columns:
            shown.add_column(column)
        for row in table.rows:
            shown.add_row(*(str(v) for v in row))
        out_console.print(shown)
    err_console.print(f"report: {', '.join(str(p) for p in paths)}")
