"""`personae eval roleplay personality|breaks`: personality tests and character-break probes.

The questionnaires (BFI, 16Personalities) are external data and are not shipped: ``bfi``/``16p``
are looked up under ``--data-dir`` / ``PERSONAE_DATA_DIR``, or give the JSON file itself.
"""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
from pathlib import Path
from typing import Any

import click

from personae.cli.common import (
    backend_options,
    generation_params,
    make_backend,
    out_console,
    settings_from,
    user_errors,
)
from personae.cli.eval_interview import (
    judge_options,
    make_judge,
    open_cache,
    progress_bars,
    results_options,
    show,
)
from personae.errors import InvalidInput
from personae.evaluation.labels import parse_label
from personae.evaluation.questionnaire import Questionnaire, load_questionnaire

KNOWN_QUESTIONNAIRES = {
    "bfi": "BFI.json",
    "16p": "16Personalities.json",
    "16personalities": "16Personalities.json",
}


def find_questionnaire(spec: str, data_dir: Path | None) -> Path:
    """``bfi``/``16p`` under the data folder (or its ``questionnaires/``), else a file path."""
    name = KNOWN_QUESTIONNAIRES.get(spec.strip().lower())
    if name is None:
        path = Path(spec)
        if not path.is_file():
            raise InvalidInput(
                f"--questionnaire {spec!r} is neither bfi, 16p nor an existing JSON file"
            )
        return path
    if data_dir is None:
        raise InvalidInput(
            f"--questionnaire {spec} needs {name}, which is external data and not bundled: "
            f"pass --questionnaire path/to/{name}, or --data-dir (or PERSONAE_DATA_DIR) "
            "pointing to the folder that holds it"
        )
    for candidate in (data_dir / name, data_dir / "questionnaires" / name):
        if candidate.is_file():
            return candidate
    raise InvalidInput(
        f"{name} is not in {data_dir} nor in {data_dir / 'questionnaires'}: "
        f"pass --questionnaire path/to/{name}"
    )


def pick_label(spec: str | None, cid: str, q: Questionnaire) -> tuple[dict[str, Any] | None, str]:
    """The expected result: ``--label`` text or JSON file, else our bundled label (if any)."""
    from personae.evaluation.labels import bundled_label, load_label_file

    if spec is None:
        found = bundled_label(cid, q)
        return found if found else (None, "")
    if spec.strip().lower() == "none":
        return None, ""
    if spec.lower().endswith(".json") or Path(spec).is_file():
        label = load_label_file(spec, cid, q)
        if label is None:
            raise InvalidInput(f"label file {spec} has no label for {cid!r} on {q.name}")
        return label, f"{spec} ({cid})"
    return parse_label(spec, q), spec


@click.command("personality")
@click.argument("character")
@click.option(
    "--questionnaire",
    "-q",
    default="bfi",
    show_default=True,
    help="bfi, 16p, or a questionnaire JSON file in InCharacter's format.",
)
@click.option(
    "--data-dir",
    envvar="PERSONAE_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with BFI.json / 16Personalities.json (or a questionnaires/ folder).",
)
@click.option(
    "--scoring",
    type=click.Choice(["option", "judge"]),
    default="option",
    show_default=True,
    help="option: the character picks a number after answering; judge: a judge rates agreement.",
)
@click.option(
    "--label",
    help="Expected result: 'E=high,A=low', a type code like INTJ, a JSON file, or 'none' "
    "(default: our own label for bundled characters, where we made one).",
)
@click.option("--limit", type=click.IntRange(1), help="Ask N items, spread over the dimensions.")
@click.option("--user", "user_name", default="Interviewer", show_default=True)
@results_options
@judge_options
@backend_options
@user_errors
def personality_command(
    character: str,
    questionnaire: str,
    data_dir: Path | None,
    scoring: str,
    label: str | None,
    limit: int | None,
    user_name: str,
    out_dir: Path,
    fresh: bool,
    **flags: Any,
) -> None:
    """Give CHARACTER a personality questionnaire as an interview, in character, and compare
    the dimension scores with a label.

    \b
    personae eval roleplay personality sherlock --data-dir ../shared/data --limit 10
    personae eval roleplay personality mina -q 16p --label ENFP --scoring judge \\
        --judge-model qwen2.5-coder-1.5b
    """
    from personae.evaluation.tasks._roleplay import resolve_character, slug
    from personae.evaluation.tasks.personality import ANSWER_PARAMS, run_personality

    q = load_questionnaire(find_questionnaire(questionnaire, data_dir))
    cid, char = resolve_character(character)
    expected, source = pick_label(label, cid, q)
    settings = settings_from(flags)
    actor = make_backend(settings)
    judge = make_judge(settings, actor, flags) if scoring == "judge" else None
    params = generation_params(
        flags, max_tokens=ANSWER_PARAMS.max_tokens, temperature=0.0, seed=ANSWER_PARAMS.seed
    )
    base = f"personality-{cid}-{slug(q.name)}-{slug(actor.model)}"
    cache = open_cache(out_dir / f"{base}.cache.jsonl", fresh)
    with progress_bars() as progress:
        report = run_personality(
            char,
            actor,
            q,
            character_id=cid,
            scoring="judge" if scoring == "judge" else "option",
            judge=judge,
            label=expected,
            label_source=source,
            limit=limit,
            cache=cache,
            params=params,
            user_name=user_name,
            on_item=lambda done, total: progress("items", done, total),
        )
    show(report, report.write(out_dir / f"{base}-{scoring}"))
    acc = report.data.get("accuracy")
    if acc is not None:
        checks = report.data["label_checks"]
        agree = sum(1 for c in checks if c["agrees"])
        out_console.print(f"label agreement: {agree}/{len(checks)} dimensions ({acc:.0%})")


@click.command("breaks")
@click.argument("characters", nargs=-1, required=True)
@click.option(
    "--probes",
    "probes_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Probe JSON file (default: the bundled English or Korean set, by card language).",
)
@click.option("--only", help="Comma-separated probe ids to ask (default: all that apply).")
@click.option("--era", "eras", multiple=True, help="CHARACTER=ERA, e.g. sherlock=victorian.")
@click.option(
    "--judge",
    "use_judge",
    is_flag=True,
    help="Also have a judge rate anachronism replies (implied by any --judge-* model flag).",
)
@click.option("--user", "user_name", default="User", show_default=True)
@results_options
@judge_options
@backend_options
@user_errors
def breaks_command(
    characters: tuple[str, ...],
    probes_file: Path | None,
    only: str | None,
    eras: tuple[str, ...],
    use_judge: bool,
    user_name: str,
    out_dir: Path,
    fresh: bool,
    **flags: Any,
) -> None:
    """Probe CHARACTERS ('all' for every bundled one) for character breaks: AI self-disclosure,
    out-of-character refusals, speaking as the user, and anachronisms.

    \b
    personae eval roleplay breaks all --model smollm2-135m
    personae eval roleplay breaks sherlock hong-gildong --judge-model qwen2.5-coder-1.5b
    """
    from personae.characters import bundled_characters
    from personae.evaluation.probes import load_probes
    from personae.evaluation.tasks._roleplay import resolve_character, slug
    from personae.evaluation.tasks.breaks import REPLY_PARAMS, run_breaks

    probes = load_probes(probes_file) if probes_file is not None else None
    era_map: dict[str, str] = {}
    for spec in eras:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidInput(f"--era {spec!r} is not CHARACTER=ERA")
        era_map[key.strip()] = value.strip()
    chosen: dict[str, Any] = {}
    for spec in characters:
        if spec.lower() == "all":
            chosen.update(bundled_characters())
            continue
        cid, char = resolve_character(spec)
        chosen[cid] = char
    unknown = sorted(set(era_map) - set(chosen))
    if unknown:
        raise InvalidInput(f"--era names {unknown[0]!r}, which is not among the characters")
    probe_ids = [p.strip() for p in only.split(",") if p.strip()] if only else None
    settings = settings_from(flags)
    actor = make_backend(settings)
    wants_judge = use_judge or any(
        flags.get(k) for k in ("judge_backend", "judge_model", "judge_base_url")
    )
    judge = make_judge(settings, actor, flags) if wants_judge else None
    params = generation_params(
        flags, max_tokens=REPLY_PARAMS.max_tokens, temperature=0.0, seed=REPLY_PARAMS.seed
    )
    who = "-".join(chosen) if len(chosen) <= 3 else f"{len(chosen)}-characters"
    cache = open_cache(out_dir / f"breaks-{slug(actor.model)}.cache.jsonl", fresh)
    with progress_bars() as progress:
        report = run_breaks(
            chosen,
            actor,
            probes=probes,
            eras=era_map,
            probe_ids=probe_ids,
            judge=judge,
            cache=cache,
            params=params,
            user_name=user_name,
            on_probe=lambda done, total: progress("probes", done, total),
        )
    show(report, report.write(out_dir / f"breaks-{slug(who)}-{slug(actor.model)}"))
