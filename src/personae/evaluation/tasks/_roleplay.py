"""What the role-play evaluations (interview, pairwise) share: question sets, resolving a
character (library id, card file, Character-LLM profile), the card as a judge sees it, and
answering questions with results cached for resuming."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

from personae.agent import Agent, Turn
from personae.backends.base import Backend, GenerationParams
from personae.characters import Character, expand_macros, read_card
from personae.checks.judge import Judge, Language
from personae.errors import InvalidInput
from personae.store import CharacterRepository
from personae.store.library import open_library

Mode = Literal["single", "multi"]
MODES: tuple[str, ...] = ("single", "multi")
# Progress callback: (stage, done, total); stages are "answering" and "judging".
ProgressFn = Callable[[str, int, int], None]

ACTOR_PARAMS = GenerationParams(max_tokens=200, seed=0)
PROFILE_CHARS = 3000  # of the card shown to the judge: enough for a profile, not a novel
EXCERPT_CHARS = 160
INTERVIEWER = {"en": "Interviewer", "ko": "질문자"}


class Cache(Protocol):
    def get(self, key: str) -> Any: ...

    def put(self, key: str, value: Any) -> None: ...


class MemoryCache:
    """A cache that forgets at exit (when no results file is given)."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._items.get(key)

    def put(self, key: str, value: Any) -> None:
        self._items[key] = value


@dataclass(frozen=True)
class Question:
    """One interview question. ``reference`` (optional) tells the judge what a good answer
    must take into account, e.g. that a trap question asks about something the character
    cannot know; the actor never sees it."""

    question: str
    topic: str = ""
    topic_id: str = ""
    reference: str = ""

    @property
    def digest(self) -> str:
        return digest(self.question + "\0" + self.reference)


# -- questions ---------------------------------------------------------------------------------


def parse_questions(rows: Any, *, source: str = "questions") -> list[Question]:
    """Validate decoded question rows: a non-empty list of objects, each with a non-empty
    string ``question`` (``topic``, ``topic_id`` and ``reference`` are optional strings)."""
    if not isinstance(rows, list):
        raise InvalidInput(
            f"{source}: expected a JSON list of {{topic_id, topic, question}} objects, "
            f"got {type(rows).__name__}"
        )
    if not rows:
        raise InvalidInput(f"{source}: the list of questions is empty")
    out = []
    for index, row in enumerate(rows):
        where = f"{source}: row {index}"
        if not isinstance(row, dict):
            raise InvalidInput(f"{where} is not an object with a 'question' field")
        if "question" not in row:
            raise InvalidInput(f"{where} is missing the field 'question'")
        fields: dict[str, str] = {}
        for name in ("question", "topic", "topic_id", "reference"):
            value = row.get(name, "")
            if not isinstance(value, str):
                raise InvalidInput(f"{where}: field {name!r} must be a string")
            fields[name] = value.strip()
        if not fields["question"]:
            raise InvalidInput(f"{where}: field 'question' is empty")
        out.append(Question(**fields))
    return out


def load_questions(path: str | Path) -> list[Question]:
    """Read a Character-LLM style question file (JSON list of ``{topic_id, topic, question}``)."""
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"question file {str(target)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read question file {str(target)!r}: {exc}") from None
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"question file {str(target)!r} is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_questions(rows, source=target.name)


def bundled_question_sets() -> list[str]:
    """Character ids with a question set shipped in the package."""
    folder = resources.files("personae.evaluation").joinpath("data")
    names = [item.name for item in folder.iterdir() if item.name.startswith("interview_")]
    return sorted(n.removeprefix("interview_").removesuffix(".json") for n in names)


def bundled_questions(character_id: str) -> list[Question]:
    """The question set shipped for a bundled character (``sherlock``, ``hong-gildong``)."""
    item = resources.files("personae.evaluation").joinpath("data", f"interview_{character_id}.json")
    if not item.is_file():
        have = ", ".join(bundled_question_sets())
        raise InvalidInput(
            f"no bundled interview questions for {character_id!r} (there are sets for: {have}); "
            "pass a question file with --questions"
        )
    return parse_questions(json.loads(item.read_text("utf-8")), source=item.name)


# -- characters --------------------------------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^\w-]+", "-", text.strip().lower()).strip("-") or "character"


def resolve_character(spec: Character | str | Path) -> tuple[str, Character]:
    """``(id, character)`` from a Character, a card file path, or a library id or name
    (the bundled characters are always in the library)."""
    if isinstance(spec, Character):
        return slug(spec.name), spec
    path = Path(spec)
    if path.suffix.lower() in (".json", ".png", ".charx") or path.is_file():
        return slug(path.stem), read_card(path).character
    with open_library() as db:
        stored = CharacterRepository(db).find(str(spec))
    return stored.id, stored.character


def character_from_profile(path: str | Path, name: str, *, max_chars: int = 4000) -> Character:
    """A Character from a plain-text profile (e.g. Character-LLM's ``wiki_*.txt``): the
    profile's first paragraphs, up to ``max_chars``, become the description."""
    target = Path(path)
    if not name.strip():
        raise InvalidInput("a profile needs a character name (--name)")
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"profile file {str(target)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read profile file {str(target)!r}: {exc}") from None
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip() and not p.startswith("# ")]
    if not paragraphs:
        raise InvalidInput(f"profile file {str(target)!r} is empty")
    kept: list[str] = []
    for paragraph in paragraphs:
        if kept and sum(map(len, kept)) + len(paragraph) > max_chars:
            break
        kept.append(paragraph[:max_chars])
    return Character(
        name=name.strip(),
        description="\n\n".join(kept),
        scenario="{{user}} is interviewing {{char}} about {{char}}'s life, work and views.",
    )


def card_hash(character: Character) -> str:
    text = json.dumps(character.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


_PROFILE_LABELS = {
    "en": ("Character", "Profile", "Personality", "Setting", "Earlier in the conversation"),
    "ko": ("캐릭터", "프로필", "성격", "상황", "앞선 대화"),
}
_QUESTION_LABEL = {"en": "The question", "ko": "질문"}


def character_profile(
    character: Character, language: Language, user_name: str, *, max_chars: int = PROFILE_CHARS
) -> str:
    """The card as the judge sees it: name, description, personality, scenario."""
    name_l, profile_l, personality_l, setting_l, _ = _PROFILE_LABELS[language]

    def expand(text: str) -> str:
        return expand_macros(text, char=character.name, user=user_name).strip()

    parts = [f"{name_l}: {character.name}"]
    description = expand(character.description)
    if len(description) > max_chars:
        description = description[:max_chars].rsplit(" ", 1)[0] + " …"
    if description:
        parts.append(f"{profile_l}:\n{description}")
    for label, text in ((personality_l, character.personality), (setting_l, character.scenario)):
        if text.strip():
            parts.append(f"{label}: {expand(text)}")
    return "\n\n".join(parts)


def judge_context(
    profile: str,
    question: str,
    *,
    language: Language,
    speaker: str,
    user_name: str,
    earlier: Sequence[Turn] = (),
) -> str:
    """Profile, the earlier turns (multi-turn mode; each cut short), then the question."""
    parts = [profile]
    if earlier:
        lines = []
        for turn in earlier[-8:]:
            who = speaker if turn.role == "assistant" else user_name
            text = " ".join(turn.content.split())
            lines.append(f"{who}: {text[:300] + ' …' if len(text) > 300 else text}")
        parts.append(f"{_PROFILE_LABELS[language][4]}:\n" + "\n".join(lines))
    parts.append(f"{_QUESTION_LABEL[language]} ({user_name}): {question}")
    return "\n\n".join(parts)


# -- the run -----------------------------------------------------------------------------------


def cache_key(*parts: Any) -> str:
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def params_tag(params: GenerationParams) -> str:
    return f"t={params.temperature}|seed={params.seed}|max={params.max_tokens}"


def answer_key(
    char_key: str, mode: str, index: int, question: str, backend: Backend, params: GenerationParams
) -> str:
    # The question text only: a changed reference must not make the actor answer again.
    return cache_key(
        "answer", char_key, mode, index, digest(question), backend.model, params_tag(params)
    )


def as_judge(judge: Judge | Backend) -> Judge:
    return judge if isinstance(judge, Judge) else Judge(judge)


def get_answers(
    agent: Agent,
    questions: Sequence[Question],
    *,
    mode: Mode,
    char_key: str,
    cache: Cache,
    params: GenerationParams,
    progress: ProgressFn | None = None,
) -> list[dict[str, Any]]:
    """Each question's answer (from the cache when there), as ``{"answer", "finish_reason"}``."""
    answers: list[dict[str, Any]] = []
    history: list[Turn] = []
    for index, q in enumerate(questions):
        key = answer_key(char_key, mode, index, q.question, agent.backend, params)
        item = cache.get(key)
        if item is None:
            turns = (
                [*history, Turn("user", q.question)]
                if mode == "multi"
                else [Turn("user", q.question)]
            )
            reply = agent.reply(turns, params)
            text = reply.read().strip()
            item = {"answer": text, "finish_reason": reply.finish_reason, "ms": reply.duration_ms}
            cache.put(key, item)
        answers.append(item)
        if mode == "multi":
            history += [Turn("user", q.question), Turn("assistant", item["answer"])]
        if progress is not None:
            progress("answering", index + 1, len(questions))
    return answers


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
