"""Speech-style conversion (화법 변환): say the same thing in a character's own voice.

Restyling is an editing task, not a chat turn: sent to the character as a user message, a line
such as "Thank you for your help today." was *answered* ("안녕하세요! 도움이 필요하신가요?").
So the prompt frames the model as a script editor, outside the role-play:

- system: the task, the character's personality, a few of the character's own lines (from the
  card's example dialogue, actions dropped) as style samples, and the rules: same speech act,
  same facts, every name and number kept, nothing answered or added, one line;
- user: the plain line;
- the assistant's reply prefilled with an opening quotation mark, so the model writes the line
  itself and stops at the closing mark (or the end of the line).

The rewrite is in the character's language (:func:`~personae.agent.prompt.card_language`):
Korean characters speak Korean and English characters English, whatever the input's language.
Its length is capped at about three times the input's tokens. Each rewrite is checked with the
fidelity checks (:func:`personae.checks.check_reply`): an empty or cut-off answer,
AI disclosure or assistant-speak (unless the input says the same), the wrong language, a copy of
the input or of a style sample, a lost number or (English to English) a lost name is tried again
(up to :data:`ATTEMPTS` tries, warmer and with the next seed); when no try passes, the least bad
one is given. Works line by line so a script's dialogue keeps its shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from personae.agent.prompt import card_language
from personae.agent.tokens import token_counter
from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.characters import Character, expand_macros
from personae.checks import CardReference, check_reply
from personae.checks.overlap import normalized
from personae.errors import InvalidInput
from personae.text import Language, detect_language, without_actions

MAX_RESTYLE_CHARS = 4000
MAX_LINE_CHARS = 600
ATTEMPTS = 3
SAMPLES = 6
SAMPLE_CHARS = 160
SAMPLE_MIN_CHARS = 8
DEFAULT_PARAMS = GenerationParams(temperature=0.5, max_tokens=200)

_LABELS = {
    "en": {
        "task": (
            "You are a script editor. You rewrite plain lines of dialogue so that they sound "
            "like {name}, without changing what they say."
        ),
        "about": "About {name}: ",
        "samples": "Lines {name} has said (how {name} talks):",
        "rules": (
            "Rules: keep the meaning exactly. Keep the kind of line: a thank-you stays a "
            "thank-you, a question stays a question, a refusal stays a refusal, an apology stays "
            "an apology, an order stays an order, a statement stays a statement. Keep every fact, "
            "name and number. Do not answer or react to the line and add nothing new. Change the "
            "wording so it sounds like {name}'s lines above: their words, turns of phrase and "
            "manner."
        ),
        "translate": "The line is in Korean: say it in English.",
        "form": (
            "Write one line of English speech, about {words} words at most: no actions, no "
            "narration, no explanation."
        ),
        "ask": "Plain line: {line}\nThe same line in {name}'s voice:",
        # Measured on qwen2.5-coder-0.5b: saying "in Korean" next to a Korean line made the
        # English characters answer in Korean (6 of 8 lines), so English asks plainly.
        "foreign": "Plain line: {line}\nThe same line in {name}'s voice:",
    },
    "ko": {
        "task": (
            "당신은 대본 작가입니다. 평범한 대사를 {name}의 말투로 바꿔 씁니다. 말하는 내용은 "
            "바꾸지 않습니다."
        ),
        "about": "{name}의 성격: ",
        "samples": "{name}의 실제 대사 (말투 예시):",
        "rules": (
            "규칙: 뜻을 그대로 지키세요. 말의 종류도 그대로입니다: 감사는 감사, 질문은 질문, "
            "거절은 거절, 사과는 사과, 명령은 명령, 사실을 말하는 문장은 사실을 말하는 문장으로. "
            "사실, 이름, 숫자를 모두 그대로 두세요. 그 말에 대답하거나 반응하지 말고 새 내용을 "
            "더하지 마세요. 위에 있는 {name}의 대사처럼 들리게 어휘, 어미, 말버릇을 바꾸세요."
        ),
        "translate": "이 대사는 영어입니다: 한국어로 옮겨 말하세요.",
        "form": (
            "한국어 대사 한 줄만, {words}자 안팎으로 쓰세요. 행동 묘사, 서술, 설명은 쓰지 마세요."
        ),
        "ask": "평범한 대사: {line}\n{name}의 말투로 바꾼 대사:",
        "foreign": "평범한 대사 (영어, 한국어로 옮겨 말하세요): {line}\n{name}의 말투로 바꾼 "
        "한국어 대사:",
    },
}
# Who the character talks to in its example lines: a sentence that names them is left out of the
# samples (it would name someone the restyled line is not said to).
_LISTENER = "\u2063LISTENER\u2063"
_SENTENCE = re.compile(r"[^.!?…。]+(?:[.!?…。]+[\"'”’]?|$)")
_QUOTES = "\"'“”‘’「」『』"
_CLOSING = re.compile(r"[\"”」』]")
_QUOTED = re.compile(r"[\"“「『]([^\"“”「」『』\n]+)[\"”」』]")
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+")
# Stop once the quotation closes at the end of a line, or at a blank line. (Not at any quotation
# mark: a model that opens the line with one more mark would stop before saying anything.)
_STOPS = ('"\n', "”\n", "\n\n")
_ASSISTANT_FLAGS = ("ai_disclosure", "assistant_speak", "ooc_refusal")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Attempt:
    """One try: the cleaned ``text`` and what is wrong with it (empty when it passes)."""

    text: str
    problems: tuple[str, ...]

    @property
    def badness(self) -> int:
        return sum(_SEVERITY[p] for p in self.problems)


# Which failure is worst when no try passes: an assistant's answer is no rewrite at all, an
# echo is at least the right meaning.
_SEVERITY = {
    "ai_or_assistant": 100,
    "empty": 80,
    "wrong_language": 40,
    "too_long": 10,
    "copies_sample": 60,
    "cut_off": 30,
    "missing_number": 8,
    "missing_name": 8,
    "echo": 5,
}


def style_samples(character: Character, limit: int = SAMPLES) -> list[str]:
    """Up to ``limit`` sentences from the character's own example lines, taken round-robin over
    the lines: actions, sentences that name the listener and ones too short to show a voice
    ("Rest?") or too long are left out; sentences in the character's language are preferred
    (a bilingual card's other-language lines are used only when too few are left)."""
    language = card_language(character)
    lines = [
        text
        for block in character.example_dialogues(user=_LISTENER)
        for speaker, text in block
        if speaker == "char"
    ]
    per_line: list[list[str]] = []
    for text in lines:
        spoken = " ".join(without_actions(text).split())
        sentences = [s.strip() for s in _SENTENCE.findall(spoken)]
        per_line.append(
            [
                s
                for s in sentences
                if SAMPLE_MIN_CHARS <= len(s) <= SAMPLE_CHARS and _LISTENER not in s
            ]
        )
    same = [[s for s in ss if detect_language(s) == language] for ss in per_line]
    if sum(map(len, same)) >= min(limit, 3):
        per_line = same
    out: list[str] = []
    depth = 0
    while len(out) < limit and any(len(s) > depth for s in per_line):
        out += [s[depth] for s in per_line if len(s) > depth][: limit - len(out)]
        depth += 1
    return out


def _about(character: Character) -> str:
    text = character.personality.strip() or character.description.strip()
    text = expand_macros(text, char=character.name, user="the listener")
    return text if len(text) <= 400 else text[:400].rsplit(" ", 1)[0] + "…"


def build_messages(character: Character, line: str, *, words: int) -> list[Message]:
    """The restyle prompt for one ``line``: system (task, personality, style samples, rules),
    user (the line), and the assistant's reply opened with a quotation mark (a prefix)."""
    language = card_language(character)
    labels = _LABELS[language]
    name = character.name
    parts = [labels["task"].format(name=name)]
    about = _about(character)
    if about:
        parts.append(labels["about"].format(name=name) + about)
    samples = style_samples(character)
    if samples:
        parts.append(
            labels["samples"].format(name=name) + "\n" + "\n".join(f"- {s}" for s in samples)
        )
    foreign = detect_language(line) != language
    rules = [labels["rules"], *([labels["translate"]] if foreign else []), labels["form"]]
    parts.append(" ".join(rules).format(words=words, name=name))
    # A Korean character's line in English is said so right where the model starts writing:
    # small models otherwise restyle it in English.
    ask = labels["foreign"] if foreign else labels["ask"]
    return [
        Message("system", "\n\n".join(parts)),
        Message("user", ask.format(line=line, name=name)),
        Message("assistant", '"', prefix=True),
    ]


def clean(text: str, name: str) -> str:
    """The rewritten line from the model's output: its first line, without actions, a speaker
    label or the quotation marks around it."""
    text = text.strip()
    first = next((ln for ln in text.splitlines() if without_actions(ln).strip()), "")
    first = " ".join(without_actions(first).split())
    for label in (f"{name}:", f"{name} :"):
        if first.startswith(label):
            first = first[len(label) :].strip()
    first = first.lstrip(_QUOTES + " ")
    # The reply was opened with a quotation mark: the line ends where the quotation closes,
    # or, written as a story ('Excuse me," she said, "I lost the map.'), it is the quoted parts.
    close = _CLOSING.search(first)
    if close:
        more = _QUOTED.findall(first[close.end() :])
        first = " ".join([first[: close.start()], *more])
    return first.strip(_QUOTES + " ").strip()


def _length_limits(line: str, count: int, language: str) -> tuple[int, int]:
    """(max new tokens, the word or letter budget the rules state) for a line of ``count``
    tokens: about three times the input."""
    words = len(line.split()) if language == "en" else len(line.replace(" ", ""))
    # Korean from English: a word of English is about three letters of Korean.
    budget = max(8, 3 * words) if language == "en" else max(20, 3 * words)
    return max(24, 3 * count + 16), budget


def _problems(
    text: str,
    line: str,
    language: Language,
    card: CardReference,
    original_hits: set[str],
    samples: Sequence[str] = (),
) -> tuple[str, ...]:
    check = check_reply(text, user=line, history=[], card=card, language=language)
    found: list[str] = []
    if check.flagged("empty"):
        return ("empty",)
    if any(check.flagged(f) and f not in original_hits for f in _ASSISTANT_FLAGS):
        found.append("ai_or_assistant")
    if check.flagged("wrong_language"):
        found.append("wrong_language")
    mine = normalized(text)
    if mine == normalized(line):
        found.append("echo")
    if len(text) > 4 * max(len(line), 12):
        found.append("too_long")
    if check.flagged("cut_off"):
        found.append("cut_off")  # 'Of course it is,'
    # The fidelity check needs a long copy; a short sample said back whole ("Mr Darcy?") is
    # caught here. Neither counts when the input itself is the copy.
    copied = check.flagged("copy_examples") and "copy_examples" not in original_hits
    if copied or (mine != normalized(line) and mine in {normalized(s) for s in samples}):
        found.append("copies_sample")
    if language == detect_language(line):
        if any(d not in text for d in _DIGITS.findall(line)):
            found.append("missing_number")
        if language == "en" and any(n not in text for n in _NAME.findall(line)):
            found.append("missing_name")  # "Thank you for the bread, Gretel." -> "Thank you."
    return tuple(found)


def restyle_line(
    character: Character,
    backend: Backend,
    line: str,
    *,
    params: GenerationParams | None = None,
    card: CardReference | None = None,
) -> str:
    """One line in ``character``'s voice (see the module notes)."""
    line = " ".join(line.split())
    if not line:
        raise InvalidInput("nothing to restyle: the line is empty")
    if len(line) > MAX_LINE_CHARS:
        raise InvalidInput(
            f"a line is {len(line)} characters; restyle lines of at most {MAX_LINE_CHARS}"
        )
    params = params or DEFAULT_PARAMS
    language = cast(Language, card_language(character))
    card = card or CardReference.from_character(character)
    max_new, budget = _length_limits(line, token_counter(backend)(line), language)
    messages = build_messages(character, line, words=budget)
    samples = style_samples(character)
    original = check_reply(line, user="", history=[], card=card, language=detect_language(line))
    original_hits = set(original.hits)
    tries: list[Attempt] = []
    for n in range(ATTEMPTS):
        p = params.model_copy(
            update={
                "max_tokens": min(params.max_tokens, max_new),
                "temperature": params.temperature if n == 0 else max(params.temperature, 0.8),
                "seed": None if params.seed is None else params.seed + n,
                "stop": tuple(dict.fromkeys((*_STOPS, *params.stop))),
            }
        )
        raw, _ = collect(backend.stream(messages, p))
        text = clean(raw, character.name)
        problems = _problems(text, line, language, card, original_hits, samples)
        attempt = Attempt(text, problems)
        if not attempt.problems:
            return text
        tries.append(attempt)
    return min(tries, key=lambda a: a.badness).text


def restyle_lines(
    character: Character,
    backend: Backend,
    text: str,
    *,
    params: GenerationParams | None = None,
) -> Iterator[str]:
    """Yield each non-empty line of ``text`` rewritten in ``character``'s voice."""
    if not text.strip():
        raise InvalidInput("nothing to restyle: give some text (or pipe it on stdin)")
    if len(text) > MAX_RESTYLE_CHARS:
        raise InvalidInput(
            f"the text is {len(text)} characters; restyle at most {MAX_RESTYLE_CHARS} at a time"
        )
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for number, line in enumerate(lines, start=1):
        if len(line.strip()) > MAX_LINE_CHARS:
            raise InvalidInput(
                f"line {number} is {len(line.strip())} characters; "
                f"restyle lines of at most {MAX_LINE_CHARS}"
            )
    card = CardReference.from_character(character)
    for line in lines:
        yield restyle_line(character, backend, line, params=params, card=card)


def restyle(
    character: Character, backend: Backend, text: str, *, params: GenerationParams | None = None
) -> str:
    """The whole ``text`` in ``character``'s voice, one rewritten line per input line."""
    return "\n".join(restyle_lines(character, backend, text, params=params))


__all__ = ["MAX_LINE_CHARS", "MAX_RESTYLE_CHARS", "restyle", "restyle_line", "restyle_lines"]
