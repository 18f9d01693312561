"""Transcripts of played conversations: one JSON record a reply (see
:data:`~personae.evaluation.tasks.fidelity_play.RECORD_KEYS`), and the same as Markdown for
a reader. The scorer reads the JSONL; the Markdown is committed so the replies can be read."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def model_slug(model: str) -> str:
    """A file-name-safe form of a model name (a catalogue name, or a .gguf path)."""
    name = Path(model).stem if model.endswith(".gguf") else model
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def transcript_paths(
    out_dir: str | Path, model: str, label: str | None = None
) -> tuple[Path, Path]:
    """Where a model's transcripts (JSONL) and readable replies (Markdown) are written;
    ``label`` (e.g. "before") keeps runs of the same model apart."""
    slug = model_slug(model) + (f"_{model_slug(label)}" if label else "")
    out = Path(out_dir)
    return out / f"transcripts_{slug}.jsonl", out / f"replies_{slug}.md"


def write_transcripts(
    out_dir: str | Path,
    model: str,
    records: Sequence[dict[str, Any]],
    label: str | None = None,
) -> Path:
    """Merge ``records`` into the model's transcript file (replacing those of the same
    conversations) and rewrite its Markdown; returns the JSONL path."""
    jsonl, markdown = transcript_paths(out_dir, model, label)
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    replaced = {r["conversation"] for r in records}
    kept = [r for r in read_records(jsonl) if r["conversation"] not in replaced]
    merged = sorted([*kept, *records], key=lambda r: (r["conversation"], r["turn"]))
    lines = [json.dumps(r, ensure_ascii=False) for r in merged]
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    markdown.write_text(render_markdown(model, merged), encoding="utf-8")
    return jsonl


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a transcript file (none when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def render_markdown(model: str, records: Sequence[dict[str, Any]]) -> str:
    """Every conversation as a reader would see it: greeting, then each user turn (its
    language and probe) and the reply (its finish reason, TTFT and prompt tokens processed)."""
    out = [f"# Fidelity conversation set: the replies of {model}", ""]
    out.append("Played through the real Chat with memory on; see benchmarks/bench_fidelity.py.")
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_conversation.setdefault(r["conversation"], []).append(r)
    for conv_id, rows in by_conversation.items():
        first = rows[0]
        name = first["card"]["name"]
        out += ["", f"## {conv_id}: {name} ({first['character']}), user {first['user_name']!r}"]
        greeting = first["history"][0]["content"] if first["history"] else ""
        out += ["", f"**{name}** (greeting):", "", _quote(greeting)]
        for r in rows:
            tags = [r["language"]] + ([f"probe: {r['probe']}"] if r["probe"] else [])
            out += ["", f"**{r['user_name']}** (turn {r['turn']}, {', '.join(tags)}):", ""]
            out.append(_quote(r["user"]))
            ttft = "-" if r["ttft_ms"] is None else f"{r['ttft_ms']:.0f} ms"
            processed = r["prompt_tokens_processed"]
            cost = f"{r['finish_reason']}, TTFT {ttft}, prompt tokens processed {processed}"
            out += ["", f"**{name}** ({cost}):", "", _quote(r["reply"] or "(empty)")]
            for action in r.get("guard") or []:
                # What the reply guard kept from the user: a retried opening, a cut sentence.
                out += ["", f"*guard {action[:300]}*"]
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])
