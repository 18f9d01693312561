"""Long-chat recall: does the character remember what the user said 200 messages ago?

Run: python -m benchmarks.bench_longchat --model qwen2.5-coder-1.5b
     python -m benchmarks.bench_longchat --model smollm2-135m --languages en --probes 2  # smoke

benchmarks/data/longchat_{en,ko}.json are scripted 300-message chats (English with sherlock,
Korean with mina) that plant 20 facts about the user in the first 100 messages and never repeat
them. The script is replayed into a chat message by message — with memory on, memory learns from
each user message exactly as after a real reply (observations, profile facts, and the rolling
summary, which calls the model) — then each probe question is asked on its own, over the same
history, without being stored. A probe counts as recalled when the reply contains one of the
fact's answers (Latin answers as whole words, Korean ones as substrings).

Conditions: ``off`` (no memory: the prompt keeps the newest messages that fit), ``episodic``,
``summary``, ``profile``, and ``all``. Model calls are cached on disk (``--cache``, by default
results/longchat/cache/, which is committed), so an interrupted run resumes — on another machine
too — and the conditions share the summary work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks._common import RESULTS, table, write_result
from personae.agent import Chat, Turn
from personae.backends import GenerationParams, get_backend
from personae.backends.base import Backend, Chunk, Message
from personae.checks.overlap import units, user_repeat_reason
from personae.cli.common import ensure_pulled
from personae.memory.bank import MemoryBank
from personae.memory.manager import MemorySettings
from personae.metrics.stats import bootstrap_mean
from personae.store import ChatRepository, Database
from personae.store.library import install_bundled
from personae.text import detect_language

DATA = Path(__file__).resolve().parent / "data"
CONDITIONS = {
    "off": None,
    "episodic": ["episodic"],
    "summary": ["summary"],
    "profile": ["profile"],
    "all": ["lines", "episodic", "summary", "profile"],
}


class CachedBackend:
    """Memoises a deterministic backend's replies on disk, keyed by the exact request."""

    def __init__(self, inner: Backend, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.n_ctx = getattr(inner, "n_ctx", None)
        self.supports_prefill = False
        self.path = path
        self.hits = self.misses = 0
        self.cache: dict[str, str] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a torn last line from an interrupted run
                self.cache[row["key"]] = row["text"]

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))  # type: ignore[attr-defined]

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        payload = json.dumps(
            [[m.role, m.content] for m in messages] + [params.model_dump(mode="json")],
            ensure_ascii=False,
        )
        key = hashlib.sha256(f"{self.model}\n{payload}".encode()).hexdigest()
        if key in self.cache:
            self.hits += 1
            yield Chunk(text=self.cache[key])
            yield Chunk(finish_reason="stop")
            return
        self.misses += 1
        text = ""
        for chunk in self.inner.stream(messages, params):
            text += chunk.text or ""
            yield chunk
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n")
        self.cache[key] = text


def recalled(reply: str, answers: Sequence[str]) -> bool:
    text = reply.casefold()
    for answer in answers:
        a = answer.casefold()
        if re.search(r"[\uac00-\ud7a3]", a):
            if a in text:
                return True
        elif re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", text):
            return True
    return False


def said_back(reply: str, said: str) -> bool:
    """Whether ``reply`` repeats the user's message ``said`` (mostly it, or one of its sentences
    whole): :func:`personae.checks.overlap.user_repeat_reason`, the guards' copy_user rule."""
    language = detect_language(reply)
    grams = len(units(reply, language).grams)
    return user_repeat_reason(reply, said, language, grams) is not None


def replay(chat: Chat, messages: Sequence[dict[str, str]]) -> tuple[float, list[int]]:
    """Add the script to the chat; memory learns from each user message. Returns seconds and
    the stored message ids, in script order."""
    repo = ChatRepository(chat.db)
    start = time.perf_counter()
    ids = []
    for m in messages:
        message_id = repo.add_message(chat.id, m["role"], m["content"])
        ids.append(message_id)
        if m["role"] == "user" and chat.memory is not None:
            chat.learn(message_id, m["content"])
            if chat.memory_error:
                raise RuntimeError(chat.memory_error)
    return time.perf_counter() - start, ids


@contextmanager
def scripted_chat(
    backend: Backend,
    script: dict[str, Any],
    params: GenerationParams,
    n_ctx: int,
    settings: MemorySettings | None,
) -> Iterator[Chat]:
    """A new chat with the script's character and user in a throwaway store with the bundled
    characters; memory on (a fresh bank) when ``settings`` is given."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.db")
        try:
            install_bundled(db)
            yield Chat.start(
                db,
                script["character"],
                backend,
                user_name=script["user_name"],
                params=params,
                n_ctx=n_ctx,
                memory=MemoryBank(db) if settings else None,
                memory_settings=settings,
            )
        finally:
            db.close()


def run_condition(
    backend: Backend,
    script: dict[str, Any],
    condition: str,
    probes: int,
    params: GenerationParams,
    n_ctx: int,
    prompts_only: bool = False,
) -> dict[str, Any]:
    kinds = CONDITIONS[condition]
    settings = MemorySettings.only(kinds) if kinds else None
    with scripted_chat(backend, script, params, n_ctx, settings) as chat:
        bank = chat.memory.bank if chat.memory else None
        replay_s, ids = replay(chat, script["messages"])
        history = chat.history()
        rows, first_prompt = [], None
        for fact in script["facts"][:probes]:
            prepared = chat.memory.prepare(fact["probe"]) if chat.memory else None
            turns = [*history, Turn("user", fact["probe"])]
            memory = prepared.prompt if prepared else None
            prompt = chat.agent.prompt(turns, params, memory)
            if first_prompt is None:
                first_prompt = [m.as_dict() for m in prompt.messages]
            source = ids[fact["message"]]
            reply = None if prompts_only else chat.agent.reply(turns, params, memory).read()
            said = script["messages"][fact["message"]]["content"]
            hit = None if reply is None else recalled(reply, fact["answers"])
            rows.append(
                {
                    "id": fact["id"],
                    "probe": fact["probe"],
                    "answers": fact["answers"],
                    "reply": reply,
                    "recalled": hit,
                    # Recalled by saying the user's own message back (the copy_user rule): the
                    # 1.5B's "I tune pianos for a living, sir", as Sherlock.
                    "said_back": bool(hit) and said_back(reply or "", said),
                    # Was the answer in front of the model at all (history, summary, notes)?
                    "in_prompt": recalled(
                        "\n".join(m.content for m in prompt.messages), fact["answers"]
                    ),
                    "episode_retrieved": bool(prepared)
                    and any(source in r.recalled.item.evidence for r in prepared.memories),
                    "prompt_tokens": prompt.prompt_tokens,
                    "history_kept": prompt.history_kept,
                }
            )
        stored = (
            chat.db.conn.execute("SELECT kind, COUNT(*) FROM memories GROUP BY kind").fetchall()
            if bank
            else []
        )
        summary = bank.repo.summary(chat.id) if bank else None
    score = bootstrap_mean([1.0 if r["recalled"] else 0.0 for r in rows])
    return {
        "condition": condition,
        "recall": None if prompts_only else score.as_dict(),
        "in_prompt": sum(r["in_prompt"] for r in rows),
        "episode_retrieved": sum(r["episode_retrieved"] for r in rows),
        "replay_s": replay_s,
        "memories": {k: n for k, n in stored},
        "summary": summary.text if summary else None,
        "first_prompt": first_prompt,
        "probes": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--languages", default="en,ko")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=80)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (all cores)")
    parser.add_argument(
        "--prompts-only",
        action="store_true",
        help="build the probe prompts and report what reached them, without replies",
    )
    parser.add_argument("--cache", default=str(RESULTS / "longchat" / "cache"))
    args = parser.parse_args()
    ensure_pulled(args.model)
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        print(f"unknown condition {unknown[0]!r}: use {', '.join(CONDITIONS)}", file=sys.stderr)
        return 2
    inner = get_backend("embedded", model=args.model, n_ctx=args.ctx, threads=args.threads)
    cache_dir = Path(args.cache)
    cache_dir.mkdir(parents=True, exist_ok=True)
    backend = CachedBackend(inner, cache_dir / f"{args.model}.jsonl")
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0, seed=0)
    results: dict[str, list[dict[str, Any]]] = {}
    rows = []
    for language in args.languages.split(","):
        script = json.loads((DATA / f"longchat_{language}.json").read_text(encoding="utf-8"))
        results[language] = []
        for condition in conditions:
            print(f"{language} {condition} …", file=sys.stderr)
            result = run_condition(
                backend, script, condition, args.probes, params, args.ctx, args.prompts_only
            )
            results[language].append(result)
            r = result["recall"]
            n = len(result["probes"])
            found = sum(bool(p["recalled"]) for p in result["probes"])
            own = found - sum(bool(p.get("said_back")) for p in result["probes"])
            rows.append(
                (
                    language,
                    condition,
                    "-" if r is None else f"{found}/{n}",
                    "-" if r is None else f"{own}/{n}",
                    "-"
                    if r is None
                    else f"{r['mean'] * 100:.0f}% [{r['low'] * 100:.0f}, {r['high'] * 100:.0f}]",
                    f"{result['in_prompt']}/{n}",
                    f"{result['episode_retrieved']}/{n}",
                    f"{result['replay_s']:.0f} s",
                )
            )
    print(f"model {args.model}, ctx {args.ctx}, cache hits {backend.hits} misses {backend.misses}")
    print(
        table(
            rows,
            (
                "language",
                "memory",
                "recalled",
                "in own words",
                "recall [95% CI]",
                "answer in prompt",
                "episode retrieved",
                "replay",
            ),
        )
    )
    if args.prompts_only:
        return 0  # a diagnostic: nothing to record
    path = write_result(
        f"longchat_recall_{args.model}",
        "python -m benchmarks.bench_longchat " + " ".join(sys.argv[1:]),
        {"model": args.model, "ctx": args.ctx, "max_tokens": args.max_tokens, "results": results},
    )
    print(f"wrote {path}", file=sys.stderr)
    for language, runs in results.items():
        prompts = RESULTS / "longchat" / f"prompts_{args.model}_{language}.md"
        prompts.parent.mkdir(parents=True, exist_ok=True)
        prompts.write_text(render_prompts(args.model, language, runs), encoding="utf-8")
        print(f"wrote {prompts}", file=sys.stderr)
    return 0


def render_prompts(model: str, language: str, runs: list[dict[str, Any]]) -> str:
    """The exact prompt of each condition's first probe, message by message, as Markdown."""
    out = [f"# Long-chat recall: the prompts ({model}, {language})", ""]
    out.append("Each condition's first probe as sent: its system messages and the probe (history")
    out.append("turns are left out here; the full prompt is in the JSON result, first_prompt).")
    for run in runs:
        out += ["", f"## {run['condition']}", ""]
        messages = run["first_prompt"] or []
        for i, m in enumerate(messages):
            last = i == len(messages) - 1
            if m["role"] != "system" and not last:
                continue
            out += [f"**{m['role']}**", "", "```text", m["content"], "```", ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
