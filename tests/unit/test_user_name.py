"""What the character calls the user: the name set > the profile's name > a neutral "you" /
"당신", never the placeholder "User" (issue 14: "Holmes looks at User with interest")."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.agent import Agent, Chat, Turn
from personae.agent.stops import ReplyFilter
from personae.backends.base import GenerationParams
from personae.characters.user_names import (
    is_placeholder,
    resolve_user_name,
    speaker_label,
    without_vocatives,
)
from personae.memory.bank import MemoryBank
from personae.memory.manager import MemorySettings
from personae.store import CharacterRepository, Database
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

HOLMES = make_character(
    "Holmes",
    first_mes="*Holmes looks at {{user}} with interest.* You have been in Afghanistan.",
)
GILDONG = make_character(
    "홍길동",
    description="{{char}}은 조선의 의적이다. {{user}}는 길을 가던 나그네다.",
    personality="호탕하다",
    scenario="{{char}}이 {{user}}와 고갯길에서 마주친다.",
    first_mes="*{{char}}이 {{user}}를 훑어본다.* 어디 가는 길이오?",
    mes_example="<START>\n{{user}}: 누구시오?\n{{char}}: 홍길동이라 하오, {{user}}.",
)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "p.db")
    repo = CharacterRepository(database)
    repo.add(HOLMES, character_id="holmes")
    repo.add(GILDONG, character_id="gildong")
    return database


def system_text(backend: ScriptedBackend, call: int = -1) -> str:
    return backend.calls[call][0][0].content


@pytest.mark.parametrize(
    ("given", "profile", "language", "expected"),
    [
        ("Mina", "Ana", "en", "Mina"),  # what the user set wins
        ("User", "Ana", "en", "Ana"),  # the placeholder is no name: the profile's is
        (None, None, "en", "you"),
        ("  ", None, "ko", "당신"),
        ("{{user}}", "User", "ko", "당신"),
        ("user", "민수", "ko", "민수"),
    ],
)
def test_resolution_order(given: str | None, profile: str | None, language: str, expected: str):
    assert resolve_user_name(given, language=language, profile_name=profile) == expected


def test_placeholders_and_speaker_labels() -> None:
    assert is_placeholder("User") and is_placeholder("") and not is_placeholder("Ana")
    assert speaker_label("you", language="en") == "User"
    assert speaker_label("당신", language="ko") == "사용자"
    assert speaker_label("Ana", language="en") == "Ana"


def test_english_chat_without_a_name_says_you(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Sit down.")
    chat = Chat.start(db, "holmes", backend)  # the old default: user_name="User"
    # Where the character speaks to the user: "you".
    assert chat.messages()[0].content.startswith("*Holmes looks at you with interest.*")
    "".join(chat.send("Hello."))
    system = system_text(backend)
    assert "User" not in system.replace("User:", "")
    # The instructions call the model "you", so the user is "the user" there: not "a chat
    # with you", "never write you's lines".
    assert "role-play chat with the user." in system and "never write the user's lines" in system
    # The example's speaker tag keeps a label, the text inside says "you", and the vocative
    # ("Your tan, {{user}}.") is left out.
    assert "User: How did you know?" in system and "Holmes: Your tan." in system
    stops = backend.calls[0][1].stop
    assert "\nUser:" in stops and "\nyou:" in stops


def test_a_sentence_about_the_user_in_the_card_reads_right(db: Database) -> None:
    CharacterRepository(db).add(
        make_character("Holmes", scenario="{{user}} has climbed the stairs. Holmes eyes {{user}}."),
        character_id="stairs",
    )
    backend = ScriptedBackend().enqueue("Sit down.")
    "".join(Chat.start(db, "stairs", backend).send("Hello."))
    assert "The user has climbed the stairs. Holmes eyes the user." in system_text(backend)


def test_korean_chat_without_a_name_says_dangsin_with_agreeing_particles(db: Database) -> None:
    backend = ScriptedBackend().enqueue("그렇소.")
    chat = Chat.start(db, "gildong", backend, user_name="User")
    assert chat.messages()[0].content.startswith("*홍길동이 당신을 훑어본다.*")
    "".join(chat.send("안녕하시오."))
    system = system_text(backend)
    # "당신은 홍길동입니다" addresses the model: the user is 상대방 in the instructions and card.
    assert "상대방은 길을 가던 나그네다" in system and "상대방과 고갯길에서" in system
    assert "상대방의 대사는 절대 쓰지 마세요" in system and "당신과" not in system
    assert "사용자: 누구시오?" in system and "홍길동: 홍길동이라 하오." in system
    assert "User" not in system


def test_a_name_set_is_used_as_before(db: Database) -> None:
    backend = ScriptedBackend().enqueue("Sit down.")
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    assert "looks at Mina with interest" in chat.messages()[0].content
    "".join(chat.send("Hello."))
    assert "Mina: How did you know?" in system_text(backend)


def memory_chat(db: Database, backend: ScriptedBackend, character: str, bank: MemoryBank) -> Chat:
    return Chat.start(
        db,
        character,
        backend,
        user_id="ana",
        params=GenerationParams(max_tokens=20),
        memory=bank,
        memory_settings=MemorySettings(reflect=False, summary=False),
    )


@pytest.mark.parametrize(
    ("character", "said", "name"),
    [("holmes", "My name is Ana.", "Ana"), ("gildong", "제 이름은 민수예요.", "민수")],
)
def test_the_profile_name_is_used_once_learned(
    db: Database, character: str, said: str, name: str
) -> None:
    bank = MemoryBank(db, embedder=HashEmbedder())
    backend = ScriptedBackend()
    chat = memory_chat(db, backend, character, bank)
    "".join(chat.send(said))
    "".join(chat.send("..."))
    assert name in system_text(backend) and name not in system_text(backend, 0)
    # A later chat starts with it, greeting included.
    later = memory_chat(db, ScriptedBackend(), character, bank)
    assert name in later.messages()[0].content
    assert later.agent.user_name == name


def test_a_name_set_beats_the_profile_name(db: Database) -> None:
    bank = MemoryBank(db, embedder=HashEmbedder())
    chat = memory_chat(db, ScriptedBackend(), "holmes", bank)
    "".join(chat.send("My name is Ana."))
    other = Chat.start(
        db, "holmes", ScriptedBackend(), user_name="Mina", user_id="ana", memory=bank
    )
    assert other.agent.user_name == "Mina"


def run_filter(pieces: list[str], user: str) -> str:
    reply = ReplyFilter("Holmes", user)
    shown = "".join(reply.feed(p) for p in pieces) + reply.finish()
    assert shown == reply.text
    return shown


def test_the_placeholder_in_a_reply_becomes_the_known_name() -> None:
    pieces = ["Holmes looks at U", "ser with interest. U", "ser's coat is wet."]
    assert run_filter(pieces, "Ana") == "Holmes looks at Ana with interest. Ana's coat is wet."
    # Near misses: other words, and the lower-case noun, are left alone.
    assert run_filter(["Username and user and fooU", "ser."], "Ana") == (
        "Username and user and fooUser."
    )
    # Held back while it might grow into "User", then shown as it was.
    assert run_filter(["Hi U", "s"], "Ana") == "Hi Us"
    # A user line still ends the reply, after the rename.
    assert run_filter(["Hi User.\nUs", "er: hello"], "Ana") == "Hi Ana."


def test_the_korean_speaker_label_still_stops_a_user_line() -> None:
    # A Korean card's examples label the nameless user "사용자:": a reply copying that layout
    # is cut there, by the stop strings and by the filter.
    from personae.agent.stops import stop_strings

    assert "\n사용자:" in stop_strings("당신") and "\n당신:" in stop_strings("당신")
    reply = ReplyFilter("홍길동", "당신")
    shown = reply.feed("좋소.\n사용자") + reply.feed(": 고맙소") + reply.finish()
    assert shown == "좋소." and reply.stopped


def test_no_name_known_leaves_the_reply_as_it_is() -> None:
    # "you" would not fit every place "User" stands ("User's", "User is"): left alone.
    assert run_filter(["Hi User."], "you") == "Hi User."


def test_agent_default_is_neutral() -> None:
    backend = ScriptedBackend().enqueue("Yes.")
    agent = Agent(HOLMES, backend)
    assert agent.user_name == "you"
    agent.reply([Turn("user", "Hi")]).read()
    assert "chat with the user." in system_text(backend)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your tan, {{user}}.", "Your tan."),
        ("{{user}}, sit down.", "Sit down."),
        ('*He nods.* "{{user}}, hello."', '*He nods.* "Hello."'),
        ("Holmes looks at {{user}}.", "Holmes looks at {{user}}."),  # not a vocative
        ("홍길동이라 하오, {{user}}.", "홍길동이라 하오."),
        ("어서 오시오, {{user}} 님!", "어서 오시오!"),
    ],
)
def test_vocatives_are_left_out_for_a_neutral_name(text: str, expected: str) -> None:
    assert without_vocatives(text) == expected


def test_recalled_card_lines_say_the_chats_name_not_user(db: Database) -> None:
    # The card's lines are indexed once for every user; "Your tan, User." came back recalled.
    bank = MemoryBank(db, embedder=HashEmbedder())
    settings = MemorySettings(reflect=False, summary=False, lines_k=2)
    for name, expected in (("Mina", "Your tan, Mina."), ("User", "Your tan.")):
        chat = Chat.start(
            db, "holmes", ScriptedBackend(), user_name=name, memory=bank, memory_settings=settings
        )
        "".join(chat.send("How did you know about my tan?"))
        assert chat.last_memory is not None
        recall = chat.last_memory.prompt.recall
        assert expected in recall and "User" not in recall.replace("User:", "")
