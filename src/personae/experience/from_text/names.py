"""Who is who in a book: the character's aliases, one name for each other speaker, the
narrator, and a guess at each speaker's gender (for "he said" / "she said").

A name is compared by a key: case and spacing folded, a man's title dropped ("Mr. Holmes" is
Holmes), a name of several words by its last ("Sherlock Holmes" is Holmes); a woman's title
stays ("Mrs. Hudson" is not Hudson). Epithets ("my companion", "the inspector") are compared
whole. So two people who share a surname are one speaker unless an alias tells them apart.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from personae.experience.from_text.tags import Gender, wordset

NARRATOR = "Narrator"
NARRATOR_KO = "화자"

_MALE_TITLES = wordset(
    "mr mister dr doctor sir lord inspector captain colonel professor major sergeant count baron"
)
_FEMALE_TITLES = wordset("mrs miss ms lady madame mme")
_DETERMINERS = wordset("the our my his her their your this that a an")
_KO_HONORIFICS = ("선생님", "선생", "부인", "여사", "씨", "님", "군", "양")
_FEMALE_WORDS = wordset(
    "mrs miss ms lady madame mme woman girl wife mother sister daughter aunt niece maid "
    "housekeeper landlady widow bride governess actress princess queen duchess countess "
    "lass mistress 그녀 부인 여인 소녀 아가씨 어머니 누나 언니 할머니"
)
_MALE_WORDS = wordset(
    "mr sir lord king man gentleman boy husband father brother son uncle nephew duke count "
    "colonel captain inspector fellow lad master baron major sergeant constable 그 아버지 형 "
    "오빠 할아버지 청년 신사"
)
_HE = re.compile(r"\b(?:he|his|him|himself)\b", re.IGNORECASE)
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)


def fold(name: str) -> str:
    return " ".join(name.replace(".", " ").split()).casefold()


def _is_korean(name: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in name)


def name_key(name: str) -> str:
    """The key two spellings of one person share (see the module's note)."""
    words = fold(name).split()
    if not words:
        return ""
    if words[0] in _DETERMINERS:
        return " ".join(words)
    if _is_korean(name):
        if len(words) > 1 and words[-1] in _KO_HONORIFICS:
            words = words[:-1]  # "홈즈 씨"
        last = words[-1]
        for honorific in _KO_HONORIFICS:
            if last.endswith(honorific) and len(last) > len(honorific) + 1:
                return last[: -len(honorific)]  # "홈즈씨"
        return last
    if words[0] in _FEMALE_TITLES and len(words) > 1:
        return f"{words[0]} {words[-1]}"
    while len(words) > 1 and words[0] in _MALE_TITLES:
        words = words[1:]
    return words[-1]


class Cast:
    """The character (with aliases), the narrator, and everyone else who speaks."""

    def __init__(
        self,
        character: str,
        aliases: Sequence[str] = (),
        *,
        narrator: str | None = None,
        language: str = "en",
    ) -> None:
        self.character = " ".join(character.split())
        self.narrator = " ".join((narrator or "").split()) or (
            NARRATOR_KO if language == "ko" else NARRATOR
        )
        self.language = language
        self._target: set[str] = set()
        self._spellings = [a.strip() for a in [self.character, *aliases] if a.strip()]
        for alias in [self.character, *aliases]:
            if not alias.strip():
                continue
            self._target.update({fold(alias), name_key(alias)})
            words = fold(alias).split()
            if len(words) > 1 and words[0] not in _DETERMINERS | _MALE_TITLES | _FEMALE_TITLES:
                self._target.add(words[0])  # "Sherlock" of "Sherlock Holmes"
                self._spellings += [alias.split()[0], alias.split()[-1]]
        self._target.discard("")
        self._forms: dict[str, Counter[str]] = defaultdict(Counter)
        self._genders: dict[str, Gender] = {}

    def is_character(self, name: str) -> bool:
        return fold(name) in self._target or name_key(name) in self._target

    def canonical(self, name: str) -> str:
        """The one name a speaker goes by: the character's, the narrator's, or the spelling
        seen most often among those sharing ``name``'s key."""
        name = " ".join(name.split())
        if self.is_character(name) or name == self.character:
            return self.character
        if name == self.narrator:
            return name
        key = name_key(name)
        forms = self._forms.get(key)
        if not forms:
            return _display(name)
        return max(forms.items(), key=lambda kv: (kv[1], len(kv[0])))[0]

    def see(self, name: str) -> None:
        """Count a spelling of a speaker's name (the most frequent one is shown)."""
        if not self.is_character(name):
            self._forms[name_key(name)][_display(name)] += 1

    def known(self) -> list[str]:
        """Names (as written, any spelling) that the narration may use for people who speak:
        the character's aliases and every spelling seen."""
        names = {form for forms in self._forms.values() for form in forms}
        return sorted(names | set(self._spellings), key=len, reverse=True)

    def gender(self, speaker: str) -> Gender | None:
        if speaker in self._genders:
            return self._genders[speaker]
        words = set(fold(speaker).split())
        for form in self._forms.get(name_key(speaker), Counter()):
            words.update(fold(form).split())
        if words & _FEMALE_WORDS:
            return "f"
        if words & _MALE_WORDS:
            return "m"
        return None

    def learn_genders(self, text: str, speakers: Iterable[str]) -> None:
        """Guess each speaker's gender from the pronoun that most often follows a mention of
        them in ``text`` (English only; Korean narration rarely says 그 or 그녀 near a name)."""
        if self.language == "ko":
            return
        for speaker in speakers:
            if speaker == self.narrator or self.gender(speaker) is not None:
                continue
            word = speaker.split()[-1]
            if not word[:1].isupper():
                continue
            he = she = 0
            for match in re.finditer(rf"\b{re.escape(word)}\b", text):
                window = text[match.end() : match.end() + 80]
                m, f = _HE.search(window), _SHE.search(window)
                if m and (not f or m.start() < f.start()):
                    he += 1
                elif f:
                    she += 1
            if he + she >= 2:
                if she > 1.5 * he:
                    self._genders[speaker] = "f"
                elif he > 1.5 * she:
                    self._genders[speaker] = "m"


def _display(name: str) -> str:
    words = name.split()
    if words and words[0].lower() in _DETERMINERS:
        words[0] = words[0].lower()
    return " ".join(words)


__all__ = ["NARRATOR", "NARRATOR_KO", "Cast", "fold", "name_key"]
