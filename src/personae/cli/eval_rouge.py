"""`personae eval rouge`: ROUGE-1/2/L/Lsum of a predictions file against reference files."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
from pathlib import Path

import click
from rich.table import Table

from personae.cli.common import out_console, user_errors
from personae.errors import InvalidInput
from personae.text.tokenizers import TOKENIZER_NAMES


@click.command("rouge")
@click.option(
    "--predictions",
    "predictions_path",
    required=True,
    type=click.Path(path_type=Path),
    help="One prediction per line, or JSONL rows with a 'text' or 'summary' field.",
)
@click.option(
    "--references",
    "reference_paths",
    required=True,
    multiple=True,
    type=click.Path(path_type=Path),
    help="One reference per item, same order; repeat the option for several references.",
)
@click.option(
    "--tokenizer",
    default="default",
    show_default=True,
    metavar="|".join(TOKENIZER_NAMES),
    help="default: Unicode words (= rouge-score on English); whitespace: split on spaces, "
    "punctuation kept; kiwi: Korean morphemes; char: characters.",
)
@click.option("--stemmer", is_flag=True, help="Porter-stem English words (rouge-score's).")
@click.option("--json", "as_json", is_flag=True, help="Print corpus means as JSON.")
@user_errors
def rouge_command(
    predictions_path: Path,
    reference_paths: tuple[Path, ...],
    tokenizer: str,
    stemmer: bool,
    as_json: bool,
) -> None:
    """Score predictions against references with ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum.

    Numbers are corpus means (mean over an item's references, then over items): in % with
    95% bootstrap intervals in the table, in 0–1 with --json. Example:

        personae eval rouge --predictions out.txt --references ref.txt --stemmer
    """
    from personae.metrics import RougeScorer, corpus_rouge
    from personae.text.files import read_texts

    predictions = read_texts(predictions_path)
    reference_sets = []
    for path in reference_paths:
        texts = read_texts(path)
        if len(texts) != len(predictions):
            raise InvalidInput(
                f"{predictions_path} has {len(predictions)} texts but {path} has {len(texts)}: "
                "give one reference per prediction, in the same order"
            )
        reference_sets.append(texts)
    references_per_item = [list(refs) for refs in zip(*reference_sets, strict=True)]

    # Checked here rather than by click.Choice so a typo is one line, like every other error.
    scorer = RougeScorer(tokenizer=tokenizer, stemmer=stemmer)
    result = corpus_rouge(predictions, references_per_item, scorer=scorer)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return

    table = Table(title=f"ROUGE · tokenizer: {tokenizer} · stemmer: {'on' if stemmer else 'off'}")
    for column in ("metric", "P", "R", "F", "F 95% CI"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for rouge_type, score in result.means.items():
        estimate = result.fmeasure[rouge_type]
        table.add_row(
            rouge_type,
            f"{score.precision * 100:.2f}",
            f"{score.recall * 100:.2f}",
            f"{score.fmeasure * 100:.2f}",
            f"[{estimate.low * 100:.2f}, {estimate.high * 100:.2f}]",
        )
    out_console.print(table)
    k = len(reference_paths)
    out_console.print(
        f"{result.n} items × {k} reference{'s' if k > 1 else ''}: mean over references, then "
        "over items; in %; CI: 95% bootstrap over items.",
        soft_wrap=True,
    )
