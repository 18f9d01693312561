"""The experience pipeline: profile → scenes → experiences (and protective experiences),
each kept only when it passes the gates, into a resumable dataset directory.

:func:`build_experiences` runs it. Scenes are asked for one profile chunk at a time (in
passes over the chunks until ``scenes`` are kept, near-duplicates dropped); protective scenes
are made by rule (a stranger raises a topic the character cannot know). Each scene then gets
``candidates`` experiences generated at once — through the embedded backend's parallel slots,
the prompt read once — and the richest one that passes every gate and repeats no kept
experience is kept: rejection sampling; when none passes, up to ``rounds`` more tries. With
``parallel`` > 1, that many scenes are worked on at once (the embedded backend needs
``parallel × candidates`` slots to decode them all together). Everything done is on disk
before it counts (:mod:`.records`), so a build that is stopped resumes where it was.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

from personae.backends.base import Backend, GenerationParams, Message
from personae.backends.candidates import stream_candidates
from personae.backends.sampling import default_params, for_language
from personae.experience.dedupe import NearDuplicates
from personae.experience.export import (
    MAX_REJECTED_REPLIES,
    PAIR_REASONS,
    export_row,
    interaction_of,
    rejected_reply,
)
from personae.experience.gates import GateRules, judge, offending_turn, unknown_terms
from personae.experience.interaction import (
    Interaction,
    Turn,
    is_character,
    parse_interaction,
    render_interaction,
    without_last_turn,
)
from personae.experience.options import BuildOptions, BuildReport
from personae.experience.profile import Chunk, Profile, chunk_profile
from personae.experience.prompts import (
    SCENE_TYPES,
    STRANGERS,
    era_terms,
    example_scene,
    experience_prompt,
    protective_prompt,
    protective_topics,
    scene_prompt,
)
from personae.experience.recheck import recheck_kept
from personae.experience.records import (
    DROPPED,
    EXPERIENCES,
    SCENES,
    ExperienceDir,
    profile_digest,
)
from personae.experience.scenes import Scene, parse_scenes
from personae.privacy import DEFAULT_POLICY, RedactionPolicy, redact
from personae.text import Language
from personae.text.sentences import split_sentences

MAX_PASSES = 8
SAMPLE_CHARS = 1500
MOMENTS_PER_REQUEST = 6  # a longer JSON array is where a small model starts to loop
MIN_MOMENT_CHARS = {"en": 40, "ko": 15}  # a shorter sentence is no event to build on

_STRANGER = {"en": "A stranger, {asker}, {ask}.", "ko": "낯선 사람({asker})이 {ask}."}

# progress(stage, done, total): stage is "scenes" or "experiences".
Progress = Callable[[str, int, int], None]


def _moment_groups(chunk: Chunk, language: Language, turn: int) -> list[list[tuple[str, str]]]:
    """The chunk's sentences that tell of something (long enough to be an event), each with
    the kind of scene it becomes in pass ``turn`` (another kind each pass), in requests of
    :data:`MOMENTS_PER_REQUEST`. A chunk of short sentences is one moment as a whole."""
    sentences = [s for s in split_sentences(chunk.text) if len(s) >= MIN_MOMENT_CHARS[language]]
    if not sentences:
        sentences = [chunk.text[:300]]
    kinds = SCENE_TYPES[language]
    moments = [(kinds[(i + turn) % len(kinds)], s) for i, s in enumerate(sentences)]
    return [
        moments[i : i + MOMENTS_PER_REQUEST] for i in range(0, len(moments), MOMENTS_PER_REQUEST)
    ]


def _seed(base: int, key: str) -> int:
    return (base + zlib.crc32(key.encode("utf-8"))) % (2**31)


class _Builder:
    def __init__(
        self,
        backend: Backend,
        profile: Profile,
        directory: ExperienceDir,
        options: BuildOptions,
        aliases: Sequence[str],
        progress: Progress | None,
        policy: RedactionPolicy,
        model: str,
    ) -> None:
        self.backend = backend
        self.model = model or None
        self.profile = profile
        self.dir = directory
        self.options = options
        self.names = (profile.short_name, *[a for a in aliases if a.strip()])
        self.language = profile.language
        self.progress = progress or (lambda stage, done, total: None)
        self.policy = policy
        terms = unknown_terms(profile.text, era_terms(self.language))
        self.rules = GateRules(profile.short_name, self.language, terms, min(options.turns, 4))
        self.topics = protective_topics(self.language)
        self.public = (profile.text,)  # what the profile states is the character's world
        self.scene_twins = NearDuplicates(options.scene_similarity)
        # The prompt's own example, so a scene that copies it is dropped as a near-duplicate.
        example = Scene(id="example", chunk=-1, **example_scene(self.language))
        self.scene_twins.check_add(example.id, example.text())
        self.experience_twins = NearDuplicates(options.experience_similarity)
        self.lock = threading.Lock()
        self.report = BuildReport(resumed=False)

    # -- generation --------------------------------------------------------------------
    def _params(self, max_tokens: int, seed: int, *, structured: bool) -> GenerationParams:
        """The model's sampling defaults for the profile's language, the user's settings over
        them; ``structured`` (JSON scenes) turns DRY off, which would penalize the keys every
        scene repeats."""
        values = {**self.options.sampling}
        values.update(max_tokens=max_tokens, temperature=self.options.temperature, seed=seed)
        params = for_language(default_params(self.model, **values), self.model, self.language)
        if structured:
            # The array's closing line ends the answer: a small model goes on chatting after
            # it, and the parser reads a cut-off array object by object anyway.
            params = params.model_copy(update={"dry_multiplier": 0.0, "stop": ("\n]",)})
        return params

    def _generate(
        self, prompt: str, max_tokens: int, seed: int, n: int, *, structured: bool = False
    ) -> list[tuple[str, bool]]:
        """``n`` answers to ``prompt``, each with whether the token limit cut it off."""
        messages = [Message("user", prompt)]
        texts = [""] * n
        cut = [False] * n
        params = self._params(max_tokens, seed, structured=structured)
        for chunk in stream_candidates(self.backend, messages, params, n):
            if 0 <= chunk.candidate < n:
                texts[chunk.candidate] += chunk.text
                if chunk.finish_reason == "length":
                    cut[chunk.candidate] = True
            if chunk.is_final and chunk.usage is not None:
                with self.lock:
                    self.report.completion_tokens += chunk.usage.completion_tokens
        with self.lock:
            self.report.generated += n
        return list(zip(texts, cut, strict=True))

    # -- scenes ------------------------------------------------------------------------
    def scenes(self) -> list[Scene]:
        """Every scene of the directory, extracting more until ``options.scenes`` ordinary
        ones are kept (or the profile gives no more)."""
        rows = self.dir.rows(SCENES)
        # What each request asked before found: a resumed build replays the passes with it,
        # so it stops where the first build stopped (a pass that found nothing counts as one).
        done = {str(r.get("key")): len(r.get("scenes", ())) for r in rows}
        kept = [Scene.from_dict(s) for r in rows for s in r.get("scenes", ())]
        for scene in kept:
            self.scene_twins.check_add(scene.id, scene.text())
        ordinary = [s for s in kept if not s.protective]
        chunks = chunk_profile(self.profile.text)
        want = self.options.scenes
        slots = max(1, self.options.parallel * self.options.candidates)
        fruitless = 0
        for turn in range(MAX_PASSES):
            added = 0
            asks: list[tuple[Chunk, str, list[tuple[str, str]]]] = []
            for chunk in chunks:
                for g, moments in enumerate(_moment_groups(chunk, self.language, turn)):
                    key = f"c{chunk.index}p{turn}g{g}"
                    if key in done:
                        added += done[key]
                    else:
                        asks.append((chunk, key, moments))
            while asks and len(ordinary) < want:
                # A wave of requests decoded together through the slots, no more than the
                # scenes still wanted need; kept in request order, so ids do not depend on
                # which request finished first.
                needed = math.ceil((want - len(ordinary)) / MOMENTS_PER_REQUEST)
                wave, asks = asks[: min(slots, needed)], asks[min(slots, needed) :]
                for (chunk, key, moments), raw in zip(wave, self._ask_scenes(wave), strict=True):
                    new = self._scenes_of(chunk, key, moments, raw, len(ordinary))
                    ordinary.extend(new)
                    kept.extend(new)
                    added += len(new)
                self.progress("scenes", min(len(ordinary), want), want)
            fruitless = 0 if added else fruitless + 1
            if len(ordinary) >= want or fruitless >= 2:
                break  # two passes that found nothing new: the profile has no more to give
        kept.extend(self._protective(rows, ordinary))
        return kept

    def _ask_scenes(self, wave: list[tuple[Chunk, str, list[tuple[str, str]]]]) -> list[str]:
        """The model's raw answers to a wave of scene requests, asked together."""

        def ask(item: tuple[Chunk, str, list[tuple[str, str]]]) -> str:
            chunk, key, moments = item
            prompt = scene_prompt(
                self.profile.name, chunk.text, chunk.section, moments, self.language
            )
            # About 120 tokens a scene: a model that loops on the array stops soon after.
            budget = min(self.options.scene_tokens, 120 * len(moments) + 80)
            seed = _seed(self.options.seed, key)
            return self._generate(prompt, budget, seed, 1, structured=True)[0][0]

        if len(wave) == 1:
            return [ask(wave[0])]
        with ThreadPoolExecutor(max_workers=len(wave)) as pool:
            return list(pool.map(ask, wave))

    def _scenes_of(
        self, chunk: Chunk, key: str, moments: list[tuple[str, str]], raw: str, start: int
    ) -> list[Scene]:
        fields, reasons = parse_scenes(raw, self.language)
        dropped = Counter(reasons)
        if len(fields) > len(moments):  # scenes beyond the moments asked for are a loop
            dropped["beyond_moments"] += len(fields) - len(moments)
            fields = fields[: len(moments)]
        new: list[Scene] = []
        for item in fields:
            # The character is in every scene; "people" are the others present.
            item["people"] = tuple(p for p in item["people"] if not is_character(p, self.names))
            scene = Scene(id=f"s{start + len(new) + 1:04d}", chunk=chunk.index, **item)
            if self.scene_twins.check_add(scene.id, scene.text()) is not None:
                dropped["near_duplicate"] += 1
                continue
            new.append(scene)
        row = {"key": key, "scenes": [s.as_dict() for s in new], "dropped": dict(dropped)}
        self.dir.append(SCENES, row)
        self.report.new_scenes += len(new)
        self.report.dropped.update({f"scene_{k}": v for k, v in dropped.items()})
        return new

    def _protective(self, rows: list[dict[str, Any]], ordinary: list[Scene]) -> list[Scene]:
        """Protective scenes, made by rule: a stranger meets the character at one of its
        places and raises a topic it cannot know (one row each, kept across resumes)."""
        wanted = round(len(ordinary) * self.options.protective_ratio)
        have = {str(r.get("key")) for r in rows}
        strangers = STRANGERS[self.language]
        made: list[Scene] = []
        for i in range(wanted):
            key = f"protective-{i}"
            if key in have:
                continue
            topic = self.topics[i % len(self.topics)]
            home = ordinary[(i * 7) % len(ordinary)] if ordinary else None
            asker = strangers[i % len(strangers)]
            scene = Scene(
                id=f"p{i + 1:04d}",
                type="대화" if self.language == "ko" else "chat",
                time=home.time if home else "",
                place=home.place if home else "",
                people=(asker,),
                background=_STRANGER[self.language].format(
                    asker=asker, ask=topic.ask.format(name=self.profile.name)
                ),
                protective=True,
                topic=topic.topic,
            )
            self.dir.append(SCENES, {"key": key, "scenes": [scene.as_dict()], "dropped": {}})
            self.report.new_scenes += 1
            made.append(scene)
        return made

    # -- experiences -------------------------------------------------------------------
    def _prompt(self, scene: Scene) -> tuple[str, tuple[str, ...]]:
        name = self.profile.short_name
        if scene.protective:
            topic = next(t for t in self.topics if t.topic == scene.topic)
            text = protective_prompt(
                name, self.profile.text, scene.as_dict(), topic, self.language, self.options.turns
            )
            return text, topic.terms
        text = experience_prompt(
            name, self.profile.text, scene.as_dict(), self.language, self.options.turns
        )
        return text, ()

    def _redacted(self, interaction: Interaction) -> tuple[Interaction, int]:
        spans = 0
        turns = []
        for turn in interaction.turns:
            result = redact(turn.text, self.policy, allow=self.public)
            spans += len(result.spans)
            turns.append(Turn(turn.speaker, turn.action, result.text, turn.character))
        background = redact(interaction.background, self.policy, allow=self.public)
        spans += len(background.spans)
        return Interaction(background.text, tuple(turns)), spans

    def experience(self, scene: Scene, order: int) -> None:
        """Generate, gate and keep (or drop) one scene's experience."""
        prompt, terms = self._prompt(scene)
        rejected: Counter[str] = Counter()
        turned_away: list[dict[str, str]] = []  # a protective scene's failed replies (DPO)
        last_text = ""
        for attempt in range(self.options.rounds):
            seed = _seed(self.options.seed, f"{scene.id}/{attempt}")
            texts = self._generate(prompt, self.options.max_tokens, seed, self.options.candidates)
            judged = []
            for text, cut in texts:
                interaction = parse_interaction(text, self.names)
                if cut:
                    interaction = without_last_turn(interaction)
                last_text = text
                verdict = judge(interaction, self.rules, topic_terms=terms)
                if verdict.passed:
                    judged.append((verdict.score, interaction))
                else:
                    rejected[verdict.reasons[0]] += 1
                    if scene.protective and verdict.reasons[0] in PAIR_REASONS:
                        reason = verdict.reasons[0]
                        turn = offending_turn(interaction, reason, self.rules, terms)
                        turned_away += rejected_reply(turn, reason)
            for _, interaction in sorted(judged, key=lambda item: -item[0]):
                clean, spans = self._redacted(interaction)
                with self.lock:
                    twin = self.experience_twins.check_add(scene.id, render_interaction(clean))
                if twin is not None:
                    rejected["near_duplicate"] += 1
                    continue
                self._keep(scene, clean, spans, rejected, attempt + 1, turned_away)
                return
        reason = rejected.most_common(1)[0][0] if rejected else "unparsable"
        self.dir.append(
            DROPPED,
            {
                "scene_id": scene.id,
                "reason": reason,
                "rejected": dict(rejected),
                # The last candidate, for a person checking what the gates turn away.
                "sample": last_text[:SAMPLE_CHARS],
            },
        )
        with self.lock:
            self.report.dropped[reason] += 1

    def _keep(
        self,
        scene: Scene,
        interaction: Interaction,
        spans: int,
        rejected: Counter[str],
        tries: int,
        turned_away: list[dict[str, str]],
    ) -> None:
        row: dict[str, Any] = {
            "scene": scene.as_dict(),
            "background": interaction.background,
            "turns": [t.as_dict() for t in interaction.turns],
            "redacted": spans,
            "tries": tries,
            "rejected": dict(rejected),
        }
        if turned_away:
            row["rejected_replies"] = turned_away[:MAX_REJECTED_REPLIES]
        self.dir.append(EXPERIENCES, row)
        with self.lock:
            self.report.kept += 1

    def pending(self, scenes: list[Scene]) -> list[Scene]:
        done = {str(r.get("scene", {}).get("id")) for r in self.dir.rows(EXPERIENCES)}
        done |= {str(r.get("scene_id")) for r in self.dir.rows(DROPPED)}
        # The kept experiences are what new ones must not repeat.
        for row in self.dir.rows(EXPERIENCES):
            text = render_interaction(interaction_of(row))
            self.experience_twins.check_add(str(row["scene"]["id"]), text)
        ordinary = [s for s in scenes if not s.protective]
        protective = [s for s in scenes if s.protective]
        # Protective scenes spread among the ordinary ones, so a trial run (--limit) has some.
        step = max(1, round(len(ordinary) / len(protective))) if protective else 0
        order: list[Scene] = []
        for i, scene in enumerate(ordinary):
            order.append(scene)
            if step and (i + 1) % step == 0 and protective:
                order.append(protective.pop(0))
        order.extend(protective)
        todo = [s for s in order if s.id not in done]
        return todo[: self.options.limit] if self.options.limit else todo

    def run_experiences(self, todo: list[Scene]) -> None:
        total = len(todo)
        self.progress("experiences", 0, total)
        finished = 0

        def one(scene: Scene, order: int) -> None:
            nonlocal finished
            self.experience(scene, order)
            with self.lock:
                finished += 1
                self.progress("experiences", finished, total)

        if self.options.parallel == 1:
            for i, scene in enumerate(todo):
                one(scene, i)
            return
        with ThreadPoolExecutor(self.options.parallel, thread_name_prefix="experience") as pool:
            futures = [pool.submit(one, scene, i) for i, scene in enumerate(todo)]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                for future in futures:
                    future.cancel()
                raise failed[0].exception()  # type: ignore[misc]

    def write_dataset(self) -> None:
        rows = [
            export_row(row, self.profile.short_name, self.language, "openai")
            for row in self.dir.rows(EXPERIENCES)
        ]
        self.dir.write_dataset(rows)


def manifest_of(profile: Profile, options: BuildOptions, model: str) -> dict[str, Any]:
    """What a dataset directory records about its build (a resume must match who and
    from which profile)."""
    return {
        "character": profile.short_name,
        "language": profile.language,
        "profile_sha256": profile_digest(profile.text),
        "model": model,
        "options": options.manifest(),
    }


def build_experiences(
    backend: Backend,
    profile: Profile,
    out: str | Any,
    options: BuildOptions | None = None,
    *,
    aliases: Sequence[str] = (),
    model: str = "",
    progress: Progress | None = None,
    policy: RedactionPolicy = DEFAULT_POLICY,
) -> BuildReport:
    """Build (or continue building) ``profile``'s experiences into the directory ``out``."""
    import time

    options = options or BuildOptions()
    directory, resumed = ExperienceDir.create_or_resume(out, manifest_of(profile, options, model))
    builder = _Builder(backend, profile, directory, options, aliases, progress, policy, model)
    builder.report.resumed = resumed
    start = time.perf_counter()
    if resumed:
        builder.report.dropped.update(recheck_kept(directory, builder.rules, builder.topics))
    scenes = builder.scenes()
    builder.run_experiences(builder.pending(scenes))
    builder.write_dataset()
    builder.report.seconds = time.perf_counter() - start
    return builder.report


__all__ = ["BuildOptions", "BuildReport", "Progress", "build_experiences", "manifest_of"]
