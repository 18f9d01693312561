"""Child process for the SIGKILL durability test (R1): chats forever, acknowledging on stdout.

``ACK user <id> <text>`` is printed only after the user's message is committed, and
``ACK reply <id>`` only after the reply is committed as complete. Like the CLI, the child shows
each piece of a reply as it arrives: ``SHOWN <reply id> <piece as JSON>``. The parent kills this
process at random moments and checks that every acknowledgement holds and that everything shown
is in the database.
"""

from __future__ import annotations

import json
import sys

from personae.agent import Chat
from personae.store import CharacterRepository, ChatRepository, Database
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

WORDS = 40


def expected_reply(n: int) -> str:
    return f"reply {n}: " + " ".join(f"w{i}" for i in range(WORDS))


def main(path: str, start: int) -> None:
    db = Database(path)
    repo = CharacterRepository(db)
    if "holmes" not in repo.ids():
        repo.add(make_character())
    backend = ScriptedBackend(delay=0.004)
    latest = ChatRepository(db).latest("holmes")
    # Unguarded: the scripted words are no role-play, and this is about what a kill keeps.
    chat = (
        Chat(db, latest.id, backend, guard=False)
        if latest
        else Chat.start(db, "holmes", backend, guard=False)
    )
    n = start
    while True:
        backend.enqueue(expected_reply(n))
        text = f"message {n}"
        stream = chat.send(text)  # commits the user's message before returning
        user_id, reply_id = (m.id for m in chat.messages()[-2:])
        print(f"ACK user {user_id} {text}", flush=True)
        for piece in stream:
            print(f"SHOWN {reply_id} {json.dumps(piece)}", flush=True)
        assert chat.last_reply is not None
        print(f"ACK reply {chat.last_reply.id} {n}", flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
